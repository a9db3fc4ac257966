"""Background rounds: a job every N seconds, in every replica, done by one replica per round.

Every replica of a service runs the loop; before a round it claims the job's lease in its
MongoDB database (collection ``leases``: holder and expiry), so ten replicas do not sweep ten
times. The holder keeps taking the rounds while it lives; when it dies, another replica takes
the first round after the lease ran out. A job must still be safe to run twice at once (a round
that outlasts its lease, a replica paused past it): Serambi's sweeps are — deterministic event
ids, optimistic appends, schedules replaced by id.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from .logging import get_logger

log = get_logger(__name__)
LEASES = "leases"
Job = Callable[[], Awaitable[object]]


async def claim(db: AsyncDatabase, job: str, holder: str, seconds: float) -> bool:
    """Take ``job``'s lease for ``seconds`` if it is free, expired or already ours."""
    now = datetime.now(UTC)
    until = now + timedelta(seconds=seconds)
    try:
        await db[LEASES].update_one(
            {"_id": job, "$or": [{"until": {"$lte": now}}, {"holder": holder}]},
            {"$set": {"holder": holder, "until": until}}, upsert=True,
        )
    except DuplicateKeyError:
        return False  # another replica holds it
    return True


async def run_guarded(name: str, job: Job) -> None:
    """Run ``job`` once; a failure is logged and the next round tries again."""
    try:
        result = await job()
        (log.info if result else log.debug)("periodic.done", job=name, result=str(result))
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 — logged; the next round tries again
        log.error("periodic.failed", job=name, error=repr(exc))


class Rounds:
    """A service's periodic jobs: started once the service is up, cancelled when it stops."""

    def __init__(self, db: Callable[[], AsyncDatabase]) -> None:
        self.db = db
        self.holder = uuid.uuid4().hex
        self.tasks: list[asyncio.Task] = []

    def start(self, name: str, job: Job, *, before: Job | None = None, every: float = 0,
              lease: bool = True) -> None:
        """Run ``before`` once (start-up work), then ``job`` every ``every`` seconds (0: never),
        by one replica per round when ``lease``."""
        self.tasks.append(asyncio.create_task(self._loop(name, job, before, every, lease), name=name))

    async def _loop(self, name: str, job: Job, before: Job | None, every: float, lease: bool) -> None:
        if before is not None:
            await run_guarded(f"{name} (start-up)", before)
        while every > 0:
            await asyncio.sleep(every)
            if not lease or await self._claim(name, every):
                await run_guarded(name, job)

    async def _claim(self, name: str, seconds: float) -> bool:
        try:
            return await claim(self.db(), name, self.holder, seconds)
        except Exception as exc:  # noqa: BLE001 — no database: skip this round
            log.warning("periodic.lease_failed", job=name, error=repr(exc))
            return False

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks.clear()


def stop_before_runtime(app: FastAPI, stop: Callable[[], Awaitable[None]]) -> None:
    """Call ``stop`` when ``app`` shuts down, before the kit's lifespan stops the runtime (its
    background work still has its connections while it winds down)."""
    kit_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[None]:
        async with kit_lifespan(application):
            try:
                yield
            finally:
                await stop()

    app.router.lifespan_context = lifespan
