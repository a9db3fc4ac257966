"""The requester's reminders on durable JetStream timers (design §7; the model is ``sla.py``).

- ``sync``: after every change of an audience, arm the reminders of its current slot still to
  come (``<id>-remind-day_before``, ``<id>-remind-same_day``; arming again replaces, so a
  rescheduled audience's timers move to the new slot) or, once it is no longer scheduled
  (cancelled, withdrawn, held, no-show), purge them.
- ``on_due``: a reminder timer fired — load the audience and append AudienceReminderDue if it is
  still scheduled at that slot and not reminded yet, with an id derived from (audience, kind,
  booking): exactly once however many replicas or redeliveries. A stale timer (the slot moved,
  the audience was cancelled, a calendar revision moved the day before) appends nothing.
- ``sweep``: at start-up, every round and after a calendar revision, for every audience
  scheduled in the future: append at once a reminder whose instant has passed since the booking
  and that is not recorded (``catch_up``: its timer lost, never armed after a crash, or a
  revision moved it to an instant already gone), then arm again the reminders to come that the
  server does not hold at their instant.

A schedule is not cancelled only because its instant has passed or is about to (``GRACE``): it
fires, and ``on_due`` ignores it if it is stale.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from serambi_contracts.scheduling import AudienceRescheduled, AudienceScheduled, ReminderKind
from serambi_contracts.sla import ClockDue
from serambi_kit.eventstore import deterministic_id, execute
from serambi_kit.logging import get_logger

from ..domain import reminders as rules
from ..domain.audience import Audience, audience_of
from .context import Context
from .placement import audience_ref
from .timers import rearm_if_missing

log = get_logger(__name__)

#: a schedule due this soon (or already due) is left to fire rather than cancelled
GRACE = timedelta(minutes=2)


def timer_id(audience_id: str, kind: ReminderKind) -> str:
    return f"{audience_id}-remind-{kind.value}"


def _due(state: Audience, kind: ReminderKind, instant) -> ClockDue:
    return ClockDue(case_id=state.audience_id, clock=rules.CLOCKS[kind], due_at=instant)


async def sync(ctx: Context, state: Audience | None, *, missing_only: bool = False) -> int:
    """Arm the reminders still to come for the audience's slot and purge the others. Returns how
    many are armed."""
    if state is None:
        return 0
    now = ctx.now()
    wanted = rules.wanted(state, ctx.calendar, now)
    for kind in ReminderKind:
        tid = timer_id(state.audience_id, kind)
        if kind not in wanted:
            held = await ctx.timers.scheduled(tid)
            if held is not None and held.due_at > now + GRACE:
                await ctx.timers.cancel(tid)
            continue
        due = _due(state, kind, wanted[kind])
        if not missing_only:
            # the id names the booking: a slot moved A → B → A arms again within the server's
            # duplicate window
            booking = state.placement.booking_id if state.placement else ""
            await ctx.timers.arm(
                tid, due, event_id=deterministic_id("reminder-timer", tid, booking, due.due_at.isoformat())
            )
        else:
            await rearm_if_missing(ctx, tid, due, kind="reminder")
    return len(wanted)


async def settle(ctx: Context, state: Audience | None) -> None:
    """``sync``, best effort (a timer left armed finds the audience changed and does nothing;
    one not armed is armed by the next sweep)."""
    try:
        await sync(ctx, state)
    except Exception as exc:  # noqa: BLE001
        log.warning("reminder.sync_failed", audience_id=state and state.audience_id, error=repr(exc))


async def disarm(ctx: Context, audience_id: str) -> None:
    for kind in ReminderKind:
        await ctx.timers.cancel(timer_id(audience_id, kind))


async def _remind(ctx: Context, audience_id: str, kind: ReminderKind, due_at: datetime) -> list:
    def decide(history):
        return rules.remind(audience_of(history), kind, due_at, ctx.calendar, ctx.now())

    emitted = await execute(
        ctx.store,
        audience_ref(audience_id),
        decide,
        event_ids=lambda events: [deterministic_id("reminder", rules.event_key(e)) for e in events],
    )
    for event in emitted:
        log.info("reminder.due", audience_id=audience_id, reminder=event.reminder.value)
    return emitted


async def on_due(ctx: Context, due: ClockDue) -> list:
    kind = rules.KINDS.get(due.clock)
    if kind is None:
        return []
    return await _remind(ctx, due.case_id, kind, due.due_at)


def booked_at(history, booking_id: str) -> datetime | None:
    """When the booking the audience holds was recorded (its AudienceScheduled/Rescheduled)."""
    for recorded in reversed(history.events):
        event = recorded.event
        if isinstance(event, AudienceScheduled | AudienceRescheduled) and event.booking_id == booking_id:
            return recorded.envelope.time
    return None


async def catch_up(ctx: Context, audience_id: str) -> Audience | None:
    """Append the reminders whose instant has passed since the booking and that are not recorded
    (exactly once: the same deterministic id as the timer's). Returns the audience after them."""
    history = await ctx.store.load(audience_ref(audience_id))
    state = audience_of(history.payloads)
    if state is None or state.placement is None:
        return state
    late = rules.overdue(state, ctx.calendar, ctx.now(), booked_at(history, state.placement.booking_id))
    if not late:
        return state
    for kind, instant in late.items():
        await _remind(ctx, audience_id, kind, instant)
        log.warning("reminder.caught_up", audience_id=audience_id, reminder=kind.value)
    return audience_of((await ctx.store.load(audience_ref(audience_id))).payloads)


async def sweep(ctx: Context) -> int:
    """Catch up the reminders overdue and arm again those the server does not hold (lost, never
    armed, moved by a calendar revision) for every audience scheduled in the future. Returns how
    many audiences have some to come."""
    count = 0
    for audience_id in await ctx.upcoming_audiences():
        state = await catch_up(ctx, audience_id)
        if await sync(ctx, state, missing_only=True):
            count += 1
    log.debug("reminder.swept", with_reminders=count)
    return count
