"""Background rounds: a job every N seconds, in every replica, done by one replica per round.

Every replica of a service runs the loop; before a round it claims the job's lease in its
MongoDB database (collection ``leases``: holder and expiry), so ten replicas do not sweep ten
times. The lease covers the round's interval; while the round runs, its holder renews it (a
heartbeat every third of the interval), so a round that outlasts its interval is not started
again by another replica, and when the round ends the lease is released to the end of that
interval (at once if the interval is over): the next round is free for any replica. When a
holder dies, another replica takes the first round after its lease ran out. A job must still be
safe to run twice at once (a replica paused past its lease, a heartbeat that could not reach
MongoDB): Serambi's sweeps are — deterministic event ids, optimistic appends, schedules replaced
by id.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from pymongo.errors import DuplicateKeyError

from .logging import get_logger
from .mongo import Database
from .tasks import cancel_and_wait, cancel_requested, raise_if_cancel_requested

log = get_logger(__name__)
LEASES = "leases"
Job = Callable[[], Awaitable[object]]


async def claim(db: Database, job: str, holder: str, seconds: float) -> bool:
    """Take ``job``'s lease for ``seconds`` if it is free, expired or already ours."""
    now = datetime.now(UTC)
    until = now + timedelta(seconds=seconds)
    try:
        await db[LEASES].update_one(
            {"_id": job, "$or": [{"until": {"$lte": now}}, {"holder": holder}]},
            {"$set": {"holder": holder, "until": until}},
            upsert=True,
        )
    except DuplicateKeyError:
        return False  # another replica holds it
    return True


async def release(db: Database, job: str, holder: str, until: datetime) -> None:
    """Shorten our lease on ``job`` to ``until`` (no later than it is; another's is left alone)."""
    await db[LEASES].update_one(
        {"_id": job, "holder": holder, "until": {"$gt": until}}, {"$set": {"until": until}}
    )


async def run_guarded(name: str, job: Job) -> None:
    """Run ``job`` once; a failure is logged and the next round tries again."""
    try:
        result = await job()
        (log.info if result else log.debug)("periodic.done", job=name, result=str(result))
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 — logged; the next round tries again
        raise_if_cancel_requested(exc)  # the job's library turned our cancellation into its own error
        log.error("periodic.failed", job=name, error=repr(exc))
    raise_if_cancel_requested()  # ... or swallowed it: the job ended, but we are being stopped


class Rounds:
    """A service's periodic jobs: started once the service is up, cancelled when it stops."""

    def __init__(self, db: Callable[[], Database]) -> None:
        self.db = db
        self.holder = uuid.uuid4().hex
        self.tasks: list[asyncio.Task[None]] = []

    def once(self, name: str, job: Job) -> None:
        """Run ``job`` once in the background (start-up work), on every replica."""
        self.tasks.append(asyncio.create_task(run_guarded(name, job), name=name))

    def start(
        self, name: str, job: Job, *, before: Job | None = None, every: float = 0, lease: bool = True
    ) -> None:
        """Run ``before`` once (start-up work), then ``job`` every ``every`` seconds (0: never),
        by one replica per round when ``lease``."""
        self.tasks.append(asyncio.create_task(self._loop(name, job, before, every, lease), name=name))

    async def _loop(self, name: str, job: Job, before: Job | None, every: float, lease: bool) -> None:
        if before is not None:
            await run_guarded(f"{name} (start-up)", before)
        while every > 0 and not cancel_requested():
            await asyncio.sleep(every)
            if not lease:
                await run_guarded(name, job)
            elif await self._claim(name, every):
                await self._leased_round(name, job, every)

    async def _leased_round(self, name: str, job: Job, every: float) -> None:
        """Run ``job`` while renewing its lease; then release the lease to the interval's end."""
        interval_ends = datetime.now(UTC) + timedelta(seconds=every)
        heartbeat = asyncio.create_task(self._renew(name, every), name=f"{name} (lease)")
        try:
            await run_guarded(name, job)
        finally:
            await cancel_and_wait(heartbeat)
            try:
                await release(self.db(), name, self.holder, max(interval_ends, datetime.now(UTC)))
            except Exception as exc:  # noqa: BLE001 — the lease then runs out by itself
                log.warning("periodic.release_failed", job=name, error=repr(exc))

    async def _renew(self, name: str, every: float) -> None:
        """The heartbeat: keep the lease for another interval, every third of one."""
        while not cancel_requested():  # _claim takes a cancellation pymongo turned into an error
            await asyncio.sleep(every / 3)
            if not await self._claim(name, every):
                log.warning("periodic.lease_lost", job=name)  # the round goes on (jobs are idempotent)

    async def _claim(self, name: str, seconds: float) -> bool:
        try:
            return await claim(self.db(), name, self.holder, seconds)
        except Exception as exc:  # noqa: BLE001 — no database: skip this round
            log.warning("periodic.lease_failed", job=name, error=repr(exc))
            return False

    async def stop(self) -> None:
        await cancel_and_wait(*self.tasks)
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
