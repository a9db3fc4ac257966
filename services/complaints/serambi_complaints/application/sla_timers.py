"""SLA clocks on durable timers (design §7): arm, fire, sweep, re-arm.

- **Arming** follows the complaint's own events (durable consumer ``complaints-clock-timers``):
  for each event that starts, moves, stops or restarts the clock, the pending thresholds
  (warnings 50/75/90 %, the deadline) are computed from its history with the calendar, changed
  timers are armed, obsolete ones cancelled, and the result recorded in ``clock_timers`` with
  its ``rank`` (how many clock events it reflects). A complaint's clock events are handled in
  order (an early one waits for its predecessor) and each is recorded only after its timers were
  published, so replicas never leave an older deadline armed over a newer one.
- **Firing**: a ClockDue (consumer ``complaints-timers``) re-checks the complaint and appends
  SLAWarning / SLABreached if due (``domain.check``) with deterministic ids: at most once per
  clock and deadline, whichever replica handles it and however often it is delivered.
- **Sweep** (start-up, then every ``sla_sweep_seconds``): complaints whose next instant has
  passed are checked the same way, for timers that never fired.
- **Re-arm** (start-up, then every ``timer_rearm_seconds``): future timers missing from the
  service's timers stream are armed again.

The service keeps no per-clock state in memory: timers live in JetStream, positions in MongoDB.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from serambi_contracts.complaints import (
    ComplaintAnswered,
    ComplaintClassified,
    ComplaintClockPaused,
    ComplaintClockResumed,
    ComplaintClosed,
    ComplaintDeadlineMoved,
    ComplaintReceived,
    ComplaintReopened,
)
from serambi_contracts.sla import ClockDue
from serambi_kit.eventstore import EventStore, RecordedEvent, deterministic_id
from serambi_kit.logging import get_logger
from serambi_kit.messaging import OutOfOrderError
from serambi_kit.revisions import revise_when_changed
from serambi_kit.runtime import Runtime
from serambi_kit.slametrics import OPEN_CLOCKS, count_sla_events, replace
from serambi_kit.timers import Timers

from .. import domain
from ..domain import Complaint, Rules, Threshold
from . import commands

log = get_logger(__name__)
CLOCKS = "clock_timers"
OWNER = "complaints"
CONCURRENCY = 32
#: The events that start, move, stop or restart a clock (the others leave its timers alone).
CLOCK_EVENTS = (
    ComplaintReceived,
    ComplaintClassified,
    ComplaintClockPaused,
    ComplaintClockResumed,
    ComplaintAnswered,
    ComplaintClosed,
    ComplaintReopened,
    ComplaintDeadlineMoved,
)


def timer_id(tracking_code: str, threshold: str) -> str:
    return f"{tracking_code}-{threshold}"


def utcnow() -> datetime:
    return datetime.now(UTC)


class ClockKeeper:
    def __init__(self, runtime: Runtime, rules: Rules, now: Callable[[], datetime] = utcnow) -> None:
        self.runtime = runtime
        self.rules = rules
        self.now = now
        self._timers: Timers | None = None

    @property
    def timers(self) -> Timers:
        if self._timers is None:
            self._timers = Timers(self.runtime.nc.jetstream(), OWNER, self.runtime.source)
        return self._timers

    @property
    def collection(self) -> AsyncCollection:
        return self.runtime.db[CLOCKS]

    async def create_indexes(self) -> None:
        await self.collection.create_index("next_at")

    # -- arming, in each complaint's clock-event order --------------------------------------
    async def on_complaint_event(self, recorded: RecordedEvent) -> None:
        if not isinstance(recorded.event, CLOCK_EVENTS):
            return  # assignments, warnings and breaches leave the timers as they are
        code = recorded.ref.id
        history = await self.runtime.store.load(recorded.ref)
        rank = sum(1 for r in history.events[: recorded.version] if isinstance(r.event, CLOCK_EVENTS))
        # The first clock event has nothing before it: arm, then insert (a redelivery re-arms
        # the same instants and finds the document there).
        document = None
        if rank > 1:
            document = await self.collection.find_one({"_id": code}, {"armed": 1, "rank": 1})
        done = (document or {}).get("rank", 0)
        if done >= rank:
            return
        if done < rank - 1:
            raise OutOfOrderError(f"{code}: clock event {rank} before {done + 1}")
        state = domain.fold(history.payloads)
        assert state is not None
        fields = await self._sync(state, (document or {}).get("armed", {}), cause=str(recorded.version))
        try:
            if rank == 1:
                await self.collection.insert_one({"_id": code, **fields, "rank": 1})
            else:
                await self.collection.update_one(
                    {"_id": code, "rank": rank - 1}, {"$set": {**fields, "rank": rank}}
                )
        except DuplicateKeyError:
            pass  # recorded before (a redelivery, or another replica)

    async def _sync(self, state: Complaint, armed: dict[str, Any], cause: str) -> dict[str, Any]:
        """Arm what changed, cancel what is no longer pending; the fields to record."""
        now = self.now()
        wanted = {t.name: t for t in _worth_arming(domain.pending(state, self.rules), now)}
        for name, threshold in wanted.items():
            if _same_instant(armed.get(name), threshold.at):
                continue
            await self._arm(state, threshold, deterministic_id("arm", state.tracking_code, name, cause))
        for name, at in armed.items():
            if name not in wanted and _as_utc(at) > now:
                await self.timers.cancel(timer_id(state.tracking_code, name))
        return {
            "armed": {name: t.at for name, t in wanted.items()},
            "next_at": min((t.at for t in wanted.values()), default=None),
            "open": state.is_open,
            "paused": state.paused,
        }

    async def _arm(self, state: Complaint, threshold: Threshold, event_id: str) -> None:
        assert state.clock_name is not None
        due = ClockDue(
            case_id=state.tracking_code,
            clock=state.clock_name,
            due_at=threshold.at,
            threshold_percent=threshold.percent,
        )
        await self.timers.arm(timer_id(state.tracking_code, threshold.name), due, event_id=event_id)

    # -- firing ------------------------------------------------------------------------------
    async def on_clock_due(self, recorded: RecordedEvent) -> None:
        due = recorded.event
        assert isinstance(due, ClockDue)
        # The timer fired, so its instant has come even if this host's clock is a little behind.
        if not await self.check(due.case_id, max(self.now(), due.due_at)):
            # already reported, answered, paused or moved meanwhile: worth a line when a breach
            # goes missing (the log then tells a timer that fired from one that never did)
            log.info(
                "clock.due_nothing_to_report",
                tracking_code=due.case_id,
                timer=recorded.ref.id,
                due_at=due.due_at.isoformat(),
            )

    async def check(self, code: str, now: datetime) -> list:
        """Report what is due at ``now`` and record the complaint's next SLA instant."""
        try:
            outcome = await commands.check_clock(self.runtime.store, self.rules, code, now)
        except domain.UnknownComplaintError:
            log.warning("clock.unknown_complaint", tracking_code=code)
            return []
        if not outcome.duplicate:  # counted by the keeper whose append was stored
            count_sla_events(outcome.events, outcome.complaint.channel.value)
        for event in outcome.events:
            log.info("clock.reported", tracking_code=code, kind=event.name(), due_at=event.due_at.isoformat())
        if outcome.events:
            later = [t.at for t in domain.pending(outcome.complaint, self.rules) if t.at > now]
            await self.collection.update_one({"_id": code}, {"$set": {"next_at": min(later, default=None)}})
        return outcome.events

    # -- sweep and re-arm --------------------------------------------------------------------
    async def sweep(self) -> int:
        """Check every complaint whose next SLA instant has passed. Returns how many reported."""
        now = self.now()
        cursor = self.collection.find({"next_at": {"$lte": now}}, {"_id": 1})
        return sum(await _in_batches(cursor, lambda document: self._sweep_one(document["_id"], now)))

    async def _sweep_one(self, code: str, now: datetime) -> int:
        events = await self.check(code, now)
        if not events:  # nothing due after all: record the next instant so the sweep moves on
            state = await commands.load(self.runtime.store, code)
            later = [t.at for t in domain.pending(state, self.rules) if t.at > now]
            await self.collection.update_one({"_id": code}, {"$set": {"next_at": min(later, default=None)}})
        return len(events)

    async def rearm_missing(self) -> int:
        """Arm again the future timers of open clocks that the timers stream does not hold
        (e.g. after the stream was lost). Returns how many were armed."""
        now = self.now()
        cursor = self.collection.find({"next_at": {"$ne": None}}, {"armed": 1})

        async def one(document: dict) -> int:
            count = 0
            for name, at in document.get("armed", {}).items():
                if _as_utc(at) <= now:
                    continue
                if await self.timers.scheduled(timer_id(document["_id"], name)) is None:
                    state = await commands.load(self.runtime.store, document["_id"])
                    for threshold in domain.pending(state, self.rules):
                        if threshold.name == name:
                            event_id = deterministic_id("rearm", state.tracking_code, name, now.isoformat())
                            await self._arm(state, threshold, event_id)
                            count += 1
            return count

        return sum(await _in_batches(cursor, one))

    async def revise(self) -> int:
        """Record moved deadlines of open clocks (calendar revision or changed durations)."""
        return await revise_open(self.runtime.store, self.runtime.db, self.rules)


async def revise_open(store: EventStore, db: AsyncDatabase, rules: Rules) -> int:
    """ComplaintDeadlineMoved for every open complaint on a clock (its tier's, or the triage
    clock) whose deadline the current calendar and durations move. Returns how many moved.
    Idempotent."""
    on_a_clock = {"$or": [{"tier": {"$ne": None}}, {"clock": domain.TRIAGE}]}
    cursor = db["complaints"].find({"stage": {"$lt": 4}, **on_a_clock}, {"_id": 1})
    moved = await _in_batches(
        cursor, lambda document: commands.revise_deadline(store, rules, document["_id"])
    )
    return sum(len(events) for events in moved)


async def open_clocks(db: AsyncDatabase) -> None:
    """``serambi_sla_open_clocks``: open complaints on a clock (triage or their tier), running
    or paused, from the read model (``/metrics``, cached: serambi_kit.slametrics)."""
    counts: dict[tuple[str, str], int] = {}
    cursor = db["complaints"].find(
        {"stage": {"$lt": 4}, "clock": {"$ne": None}}, {"clock": 1, "open_pause": 1}
    )
    async for document in cursor:
        key = (str(document["clock"]), "paused" if document.get("open_pause") else "running")
        counts[key] = counts.get(key, 0) + 1
    replace(OPEN_CLOCKS, counts)


def _worth_arming(thresholds: list[Threshold], now: datetime) -> list[Threshold]:
    """Future thresholds, and of those already past only the latest: it fires at once and the
    check reports the latest fact (e.g. a complaint recorded late gets one warning, not three)."""
    past = [t for t in thresholds if t.at <= now]
    return past[-1:] + [t for t in thresholds if t.at > now]


async def _in_batches(cursor, job: Callable[[dict], Awaitable[Any]], size: int = 500) -> list:
    """Run ``job`` on every document of ``cursor``, a bounded batch at a time (memory stays
    flat however many documents match)."""
    results: list = []
    batch: list[dict] = []
    async for document in cursor:
        batch.append(document)
        if len(batch) >= size:
            results += await _bounded(job(d) for d in batch)
            batch = []
    results += await _bounded(job(d) for d in batch)
    return results


async def _bounded(jobs: Iterable, limit: int = CONCURRENCY) -> list:
    semaphore = asyncio.Semaphore(limit)

    async def guarded(job):
        async with semaphore:
            return await job

    return await asyncio.gather(*(guarded(job) for job in jobs))


def _as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _same_instant(recorded: datetime | None, at: datetime) -> bool:
    """MongoDB keeps milliseconds: compare at that precision."""
    return recorded is not None and _as_utc(recorded) == at.replace(microsecond=at.microsecond // 1000 * 1000)


async def revise_if_needed(
    store: EventStore,
    db: AsyncDatabase,
    rules: Rules,
    force: bool = False,
    before: Callable[[], Awaitable[object]] | None = None,
) -> int:
    """Revise open deadlines when the rules' fingerprint differs from the recorded one (or
    ``force``), then record it (``serambi_kit.revisions``); ``before`` is awaited first when they
    are revised (the service: its read model caught up). Returns how many deadlines moved."""

    async def revise() -> int:
        if before is not None:
            await before()
        return await revise_open(store, db, rules)

    return await revise_when_changed(db, rules.fingerprint, revise, force=force)
