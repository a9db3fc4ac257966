"""Group commit: single-document writes that go to the server together.

Each write the server runs costs it the same bookkeeping whatever it changes (issue #21: a third
of SecantusDB's busy time), so writes that can wait a moment — an outcome recorded after the
event that already tells it, a mark a sweep would also set — are gathered for ``window`` seconds
(or until ``limit`` of them) and sent as one unordered ``bulk_write``. :meth:`WriteBatch.write`
returns once *its* write is acknowledged with the collection's write concern (majority), or
raises what failed it: for its caller nothing changes but the wait, so nothing is weaker than one
``update_one`` at a time. A caller cancelled while waiting does not cancel the write.
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
from collections.abc import Callable, Coroutine
from typing import Any

from pymongo import UpdateMany, UpdateOne
from pymongo.errors import BulkWriteError

from .mongo import Collection

Write = UpdateOne | UpdateMany


class WriteBatch:
    def __init__(
        self, collection: Callable[[], Collection], *, window: float = 0.05, limit: int = 256
    ) -> None:
        self._collection = collection
        self.window = window
        self.limit = limit
        self._pending: list[tuple[Write, asyncio.Future[None]]] = []
        self._timer: asyncio.Task[None] | None = None
        self._flushes: set[asyncio.Task[None]] = set()

    async def write(self, operation: Write) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieved)  # a waiter cancelled meanwhile leaves it unread
        self._pending.append((operation, future))
        if len(self._pending) >= self.limit:
            self._flush_now()
        elif self._timer is None:
            self._timer = self._start(self._flush_after_window())
        await asyncio.shield(future)

    def _start(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """A task of its own context (not the first writer's trace), kept until it is done."""
        task = asyncio.create_task(work, context=contextvars.Context())
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)
        return task

    async def _flush_after_window(self) -> None:
        try:
            await asyncio.sleep(self.window)
        except asyncio.CancelledError:
            if self._timer is asyncio.current_task():  # not _flush_now's: the loop is ending
                self._timer = None
                for _, future in self._take():  # nothing was sent: their writes are not made
                    future.cancel()
            raise
        self._timer = None
        await self._write(self._take())

    def _flush_now(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._start(self._write(self._take()))

    def _take(self) -> list[tuple[Write, asyncio.Future[None]]]:
        batch, self._pending = self._pending, []
        return batch

    async def _write(self, batch: list[tuple[Write, asyncio.Future[None]]]) -> None:
        if not batch:
            return
        failed: dict[int, BaseException] = {}
        try:
            await self._collection().bulk_write([operation for operation, _ in batch], ordered=False)
        except BulkWriteError as exc:  # unordered: the others were written
            for error in exc.details.get("writeErrors", []):
                failed[error["index"]] = BulkWriteError({"writeErrors": [error]})
            if exc.details.get("writeConcernErrors"):
                failed = {i: exc for i in range(len(batch))}
        except asyncio.CancelledError:  # the loop is stopping: the waiters' writes are not known
            for _, future in batch:
                future.cancel()
            raise
        except Exception as exc:  # noqa: BLE001 — each waiter gets it, as from its own write
            failed = {i: exc for i in range(len(batch))}
        for index, (_, future) in enumerate(batch):
            if future.done():
                continue
            if index in failed:
                future.set_exception(_own_copy(failed[index]))
            else:
                future.set_result(None)

    async def flush(self) -> None:
        """Write what is waiting now and wait for every write under way (shutdown, tests)."""
        if self._pending:
            self._flush_now()
        while self._flushes:  # shielded: a cancelled caller of flush cancels no one's write
            await asyncio.shield(asyncio.gather(*self._flushes, return_exceptions=True))


def _own_copy(exc: BaseException) -> BaseException:
    """The error as each waiter raises it: the same type (callers tell outages by it), its own
    object (raising one object from many tasks would mix their tracebacks)."""
    try:
        clone = copy.copy(exc)
    except Exception:  # noqa: BLE001 — an exception that cannot be copied is shared
        return exc
    clone.__cause__ = exc
    return clone


def _retrieved(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()
