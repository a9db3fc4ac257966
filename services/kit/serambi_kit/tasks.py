"""Stopping background tasks without losing the caller's own cancellation."""

from __future__ import annotations

import asyncio


async def cancel_and_wait(*tasks: asyncio.Task | None) -> None:
    """Cancel ``tasks`` (``None`` is skipped) and wait until they have ended; their own errors
    are dropped, since they are being stopped.

    A cancellation of the caller still propagates. ``with suppress(CancelledError): await task``
    would swallow it when it lands during that wait, and a loop doing that (a periodic round, a
    message handler) would then run on for ever while its owner waits for it to stop."""
    running = [task for task in tasks if task is not None]
    for task in running:
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)
