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


def cancel_requested() -> bool:
    """Whether the running task is being cancelled although no ``CancelledError`` reached the
    caller: a library below swallowed it or turned it into an error of its own (pymongo's async
    driver can, closing its connection). A loop that retries or runs again must then stop, or
    its owner waits for it for ever."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
