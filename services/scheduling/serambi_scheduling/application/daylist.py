"""The host's day list on durable JetStream timers (one per morning, ``host-day-list-YYYYMMDD``,
armed for the next working morning at 07.00 WIB; a replica arming tomorrow's at 07.00 leaves
today's to fire).

- ``arm``: at start-up, every sweep round and after a calendar revision, arm the timer for the
  next working morning unless the server holds it at that instant already.
- ``on_due``: the morning came — for every host with bookings that day, the audiences still
  scheduled on them make HostDayListDue (once per host and day: the daylist aggregate refuses a
  second); then the next morning's timer is armed. A timer handled late lists only the audiences
  not started yet (none left: no list); one handled after its day is over sends nothing; a
  morning that a revision made a day off sends nothing.
"""

from __future__ import annotations

from serambi_contracts.sla import ClockDue
from serambi_kit.eventstore import deterministic_id, execute
from serambi_kit.logging import get_logger

from ..domain import daylist as rules
from ..domain.audience import audience_of
from ..domain.time import wib_day
from .context import Context
from .placement import audience_ref

log = get_logger(__name__)


async def arm(ctx: Context) -> ClockDue:
    instant = rules.next_list_instant(ctx.calendar, ctx.now())
    tid = rules.timer_id(wib_day(instant))
    due = ClockDue(case_id=tid, clock=rules.CLOCK, due_at=instant)
    if await ctx.timers.scheduled(tid) != due:
        await ctx.timers.arm(tid, due)
    return due


async def on_due(ctx: Context, due: ClockDue) -> list:
    if due.clock != rules.CLOCK:
        return []
    emitted: list = []
    day = rules.due_on(ctx.calendar, due.due_at, ctx.now())
    if day is not None:
        by_host: dict[str, list[tuple[str, str]]] = {}
        for booking in await ctx.bookings.bookings(day, day):
            if booking["resource"] == "host":
                by_host.setdefault(booking["resource_id"], []).append(
                    (booking["booking_id"], booking["audience_id"])
                )
        for host_id, held in sorted(by_host.items()):
            audiences = []
            for booking_id, audience_id in held:
                state = audience_of((await ctx.store.load(audience_ref(audience_id))).payloads)
                if state is not None:
                    audiences.append((booking_id, state))
            event = rules.day_list(host_id, day, due.due_at, audiences, ctx.now())
            if event is None:
                continue
            emitted += await execute(
                ctx.store,
                rules.daylist_ref(host_id, day),
                lambda h, e=event: rules.decide(h, e),
                event_ids=lambda _, h=host_id: [deterministic_id("daylist", h, day.isoformat())],
            )
        log.info("daylist.due", day=day.isoformat(), hosts=len(emitted))
    await arm(ctx)
    return emitted
