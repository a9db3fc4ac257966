"""Stopping background tasks without losing the caller's own cancellation, and without waiting
for ever on a task that will not stop."""

from __future__ import annotations

import asyncio
import io

from .logging import get_logger

log = get_logger(__name__)
STOP_WAIT_SECONDS = 10.0


async def cancel_and_wait(*tasks: asyncio.Task[object] | None, within: float = STOP_WAIT_SECONDS) -> None:
    """Cancel ``tasks`` (``None`` is skipped) and wait until they have ended, at most ``within``
    seconds; their own errors are dropped, since they are being stopped.

    A cancellation of the caller still propagates. ``with suppress(CancelledError): await task``
    would swallow it when it lands during that wait, and a loop doing that (a periodic round, a
    message handler) would then run on for ever while its owner waits for it to stop. A task
    still running after ``within`` (something below it swallowed its cancellation) is logged with
    its stack and left behind, so a service's stop is never held up by it."""
    running = [task for task in tasks if task is not None]
    for task in running:
        task.cancel()
    if not running:
        return
    done, pending = await asyncio.wait(running, timeout=within)
    for task in done:
        if not task.cancelled():
            task.exception()  # retrieved: a stopping task's error is of no further use
    for task in pending:
        stack = io.StringIO()
        task.print_stack(file=stack)
        log.error(
            "task.did_not_stop", task=task.get_name(), waited_seconds=within, stack=stack.getvalue()[-2000:]
        )


def cancel_requested() -> bool:
    """Whether the running task is being cancelled although no ``CancelledError`` reached the
    caller: a library below swallowed it or turned it into an error of its own (pymongo's async
    driver can, closing its connection). A loop that retries or runs again must then stop, or
    its owner waits for it for ever."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def raise_if_cancel_requested(error: BaseException | None = None) -> None:
    """In a loop's ``except Exception`` over many items: stop at once when the error (or a
    swallowed cancellation) stands for the task's cancellation, instead of working through the
    remaining items while the service stops."""
    if cancel_requested():
        raise asyncio.CancelledError from error
