"""Up to ``workers`` jobs at once, one at a time per key, each key's jobs in the order given.

A consumer delivers its messages one after the other; a handler that mostly waits on the
database then leaves the process idle while its queue grows. ``KeyedWorkers`` lets such a
consumer handle messages of different aggregates at once while the messages of one aggregate
still run in the order they arrived (the notifier plans a reschedule after the invitation). It
changes nothing that replicas do not already do: two processes on one durable consumer handle
two of its messages at once, so every handler is safe under concurrency already.

``submit`` waits for a free worker before it hands the job over, so a consumer never holds more
than ``workers`` messages beyond the one it is delivering. ``drain`` waits for the jobs handed
over (a stopping service acks what it started) and cancels those still running then.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from .logging import get_logger

log = get_logger(__name__)
#: a job: a coroutine function without arguments
Job = Callable[[], Awaitable[object]]


class KeyedWorkers:
    def __init__(self, workers: int, name: str) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.name = name
        self.workers = workers
        self._free = asyncio.Semaphore(workers)
        self._last: dict[str, asyncio.Task[None]] = {}  # each key's latest job
        self._running: set[asyncio.Task[None]] = set()

    async def submit(self, key: str, job: Job) -> None:
        """Start ``job`` once a worker is free and the previous job of ``key`` has ended."""
        await self._free.acquire()
        task = asyncio.create_task(self._run(self._last.get(key), job))
        self._last[key] = task
        self._running.add(task)
        task.add_done_callback(lambda done: self._ended(key, done))

    def _ended(self, key: str, task: asyncio.Task[None]) -> None:
        """The worker is free again, however the job ended (a task cancelled before it started
        runs no ``finally`` of its own)."""
        self._running.discard(task)
        self._free.release()
        if self._last.get(key) is task:
            del self._last[key]

    async def _run(self, previous: asyncio.Task[None] | None, job: Job) -> None:
        try:
            if previous is not None:
                await asyncio.wait([previous])  # its outcome is its own
            await job()
        except Exception:  # noqa: BLE001 — a job reports its own outcome; this is a bug's trace
            log.exception("worker.job_failed", workers=self.name)

    @property
    def idle(self) -> int:
        """Workers free now: how many more jobs ``submit`` takes without waiting."""
        return self.workers - len(self._running)

    async def drain(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the jobs handed over; cancel those still running
        then. True if all ended in time."""
        running = set(self._running)
        if not running:
            return True
        _, pending = await asyncio.wait(running, timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
            log.warning("workers.drain_cut_short", workers=self.name, cancelled=len(pending))
        return not pending
