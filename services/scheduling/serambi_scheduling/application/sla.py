"""The audience_answer clock on durable JetStream timers (design §7).

- ``arm``: one timer per warning threshold and one for the deadline (``<id>-w50`` …
  ``<id>-breach``), armed when the case opens and still not answered; re-arming replaces.
- ``on_due``: a timer fired — load the audience and append whatever is due (warnings, breach)
  and not yet recorded, with ids derived from (case, clock, deadline, threshold): exactly once
  per clock and deadline, however many replicas or redeliveries.
- ``disarm``: once answered (or cancelled), purge the timers (the re-check would ignore them).
- ``sweep``: at start-up, then every ``SERAMBI_SLA_SWEEP_SECONDS``, evaluate every open audience
  now (what is overdue is appended: a timer that never fired, a fired one not handled) and arm
  again the future timers the server does not hold at their instant (never armed after a crash
  between opening the case and arming, lost, or armed for an earlier deadline).
- ``revise``: after a calendar revision (start-up, when the calendar fingerprint changed), record
  every answer deadline it moves (AudienceDeadlineMoved), then catch that audience up: what the
  new deadline makes due is appended, its timers are armed again at their new instants.
"""

from __future__ import annotations

from datetime import datetime

from serambi_contracts.sla import ClockDue
from serambi_kit.eventstore import deterministic_id, execute
from serambi_kit.logging import get_logger
from serambi_kit.slametrics import count_sla_events

from ..domain.audience import CLOCK, Audience, audience_of
from ..domain.sla import due_events, event_key, revise_deadline, schedule_of
from .context import Context
from .placement import audience_ref
from .timers import rearm_if_missing

log = get_logger(__name__)


def timer_ids(audience_id: str, percents: tuple[int, ...]) -> list[str]:
    return [*(f"{audience_id}-w{p}" for p in percents), f"{audience_id}-breach"]


async def arm(ctx: Context, state: Audience, *, missing_only: bool = False) -> bool:
    """Arm the timers still to come (``missing_only``: those the server does not hold at their
    instant). False when the clock has nothing left to fire."""
    if not state.clock_running:
        return False
    schedule = schedule_of(state, ctx.calendar, ctx.policy)
    if schedule.due_at in state.breaches:
        return False
    wanted = [
        (
            f"{state.audience_id}-w{percent}",
            ClockDue(case_id=state.audience_id, clock=CLOCK, due_at=at, threshold_percent=percent),
        )
        for percent, at in schedule.warnings
        if percent not in state.warned_percents
    ]
    wanted.append(
        (
            f"{state.audience_id}-breach",
            ClockDue(case_id=state.audience_id, clock=CLOCK, due_at=schedule.due_at),
        )
    )
    for timer_id, due in wanted:
        if not missing_only:
            await ctx.timers.arm(timer_id, due)
        else:
            await rearm_if_missing(ctx, timer_id, due, kind="sla")
    return True


async def disarm(ctx: Context, audience_id: str) -> None:
    for timer_id in timer_ids(audience_id, ctx.policy.warnings):
        await ctx.timers.cancel(timer_id)


async def evaluate(ctx: Context, audience_id: str, at: datetime) -> list:
    """Append the SLA events due at ``at`` (none twice). Returns them."""

    def decide(history):
        state = audience_of(history)
        if state is None:
            return []
        return due_events(state, schedule_of(state, ctx.calendar, ctx.policy), at)

    appended = await execute(
        ctx.store,
        audience_ref(audience_id),
        decide,
        event_ids=lambda events: [deterministic_id("sla", event_key(e)) for e in events],
    )
    count_sla_events(appended)  # an audience request has no channel
    return appended


async def on_due(ctx: Context, due: ClockDue) -> list:
    if due.clock != CLOCK:
        return []
    emitted = await evaluate(ctx, due.case_id, max(ctx.now(), due.due_at))
    for event in emitted:
        log.warning("sla." + type(event).__name__, case_id=due.case_id, clock=due.clock)
    return emitted


async def sweep(ctx: Context, *, missing_only: bool = False) -> int:
    """Catch up every open audience: what is due now is appended, the rest is (re-)armed
    (``missing_only``: only timers the server does not hold). Returns how many audiences still
    have timers to come. Safe in several replicas at once: the appends have deterministic ids
    and optimistic versions, and a timer armed twice is the same schedule."""
    count = 0
    for audience_id in await ctx.open_audiences():
        if await catch_up(ctx, audience_id, missing_only=missing_only):
            count += 1
    (log.debug if missing_only else log.info)("sla.swept", with_timers=count)
    return count


async def catch_up(ctx: Context, audience_id: str, *, missing_only: bool = False) -> bool:
    """Append what is due now, then arm the timers still to come. True if some are to come."""
    await evaluate(ctx, audience_id, ctx.now())
    state = audience_of((await ctx.store.load(audience_ref(audience_id))).payloads)
    return state is not None and await arm(ctx, state, missing_only=missing_only)


async def revise(ctx: Context) -> int:
    """Record the answer deadlines the current calendar and durations move, and move their
    timers. Returns how many moved. Idempotent: a recorded move is not decided again."""
    moved = 0
    for audience_id in await ctx.open_audiences():
        events = await execute(
            ctx.store,
            audience_ref(audience_id),
            lambda history: revise_deadline(audience_of(history), ctx.calendar, ctx.policy),
            event_ids=lambda events: [deterministic_id("sla", event_key(e)) for e in events],
        )
        for event in events:
            log.info(
                "sla.deadline_moved",
                case_id=audience_id,
                previous=event.previous_due_at.isoformat(),
                due_at=event.due_at.isoformat(),
                calendar_revision=event.calendar_revision,
            )
        if events:
            moved += 1
            # the timers held for the old instants are replaced (a fresh id for each: an
            # instant armed before may still be in the server's duplicate window)
            await catch_up(ctx, audience_id, missing_only=True)
    return moved
