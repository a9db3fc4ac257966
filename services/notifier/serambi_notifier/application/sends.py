"""The sends running in the background: at most ``dispatch_concurrency`` at a time; whoever
adds one waits for a free slot (backpressure)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from serambi_kit.logging import get_logger

log = get_logger(__name__)


class Sends:
    def __init__(self, concurrency: int) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self._inflight: set[asyncio.Task] = set()

    async def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        try:
            await self._slots.acquire()
        except BaseException:
            work.close()
            raise
        task = asyncio.create_task(self._guarded(work))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _guarded(self, work: Coroutine[Any, Any, Any]) -> None:
        try:
            await work
        except Exception as exc:  # noqa: BLE001 — logged; the dispatch loop finishes the job
            log.warning("notification.deferred", error=f"{type(exc).__name__}: {exc}")
        finally:
            self._slots.release()

    async def drain(self) -> None:
        """Wait for the sends in flight (tests, shutdown)."""
        while self._inflight:
            await asyncio.gather(*list(self._inflight), return_exceptions=True)
