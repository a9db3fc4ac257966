"""Scheduling's consumers (thin: each hands its event to a use case).

- ``scheduling-book-requests`` (INTAKE): RequestSubmitted opens and places the audience;
  RequestWithdrawn cancels it and frees its slot.
- ``scheduling-timers`` (TIMERS_SCHEDULING): fired audience_answer timers → SLAWarning / SLABreached;
  fired reminder timers → AudienceReminderDue; the morning timer → HostDayListDue.
- ``scheduling-audience-details`` (SCHEDULING): the read models (audiences, resource_days).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from serambi_contracts import scheduling as events
from serambi_contracts.intake import RequestSubmitted, RequestWithdrawn
from serambi_contracts.sla import ClockDue, SLABreached, SLAWarning
from serambi_kit.eventstore import RecordedEvent
from serambi_kit.projections import projector_handler
from serambi_kit.runtime import Runtime
from serambi_kit.slametrics import declare_sla_series
from serambi_kit.timers import due_consumer
from serambi_kit.topology import ConsumerSpec

from .adapters import reports
from .adapters.projections import PROJECTIONS
from .application import commands, daylist, reminders, sla
from .application.context import Context

REQUESTS = ConsumerSpec(
    "scheduling",
    "book-requests",
    "intake",
    ("intake.request.*.RequestSubmitted", "intake.request.*.RequestWithdrawn"),
)
READ_MODELS = ConsumerSpec("scheduling", "audience-details", "scheduling", ("scheduling.>",))
TIMERS = due_consumer("scheduling")
READY_TIMEOUT = 60.0


class NotReadyError(Exception):
    """The service has not finished starting (the message is retried)."""


def register(
    runtime: Runtime, context: Callable[[], Context | None], ready: asyncio.Event, request_workers: int
) -> None:
    async def current() -> Context:
        try:
            await asyncio.wait_for(ready.wait(), READY_TIMEOUT)
        except TimeoutError:
            raise NotReadyError("scheduling did not finish starting") from None
        ctx = context()
        assert ctx is not None
        return ctx

    async def on_request(recorded: RecordedEvent) -> None:
        ctx = await current()
        event = recorded.event
        if isinstance(event, RequestSubmitted):
            state = await commands.open_request(ctx, event, recorded.envelope.id)
            try:
                after = await commands.place_automatically(ctx, state.audience_id, recorded.envelope.id)
            except Exception:
                await sla.arm(ctx, state)  # the clock runs while the placement is retried
                raise
            if after is not None and after.clock_running:
                await sla.arm(ctx, after)  # proposed or referred: an officer must answer
            await reminders.settle(ctx, after)  # booked at once: its reminders
        elif isinstance(event, RequestWithdrawn):
            await commands.withdraw(ctx, event.tracking_code, recorded.envelope.id)
            await sla.disarm(ctx, event.tracking_code)
            await reminders.disarm(ctx, event.tracking_code)

    async def on_timer(recorded: RecordedEvent) -> None:
        ctx = await current()
        if isinstance(recorded.event, ClockDue):
            await sla.on_due(ctx, recorded.event)
            await reminders.on_due(ctx, recorded.event)
            await daylist.on_due(ctx, recorded.event)

    on_own_event = projector_handler(PROJECTIONS, lambda: runtime.db)

    runtime.consume(
        REQUESTS,
        on_request,
        "Opens and books (or proposes) an audience for every submitted request; "
        "cancels it when the request is withdrawn.",
        workers=request_workers,
    )
    runtime.consume(
        TIMERS,
        on_timer,
        "Re-checks an audience when its answer timer fires (SLAWarning / SLABreached) "
        "or a reminder timer fires (AudienceReminderDue), and each working morning "
        "makes the hosts' day lists (HostDayListDue).",
    )
    runtime.consume(
        READ_MODELS,
        on_own_event,
        "Projects scheduling's events into the audiences and resource_days read models.",
    )
    declare_published(runtime)
    runtime.gauges.add("audiences", reports.refresh_metrics)
    declare_sla_series([sla.CLOCK])  # an audience request has no channel


def declare_published(runtime: Runtime) -> None:
    runtime.publishes("scheduling", "audience", *events.AUDIENCE_EVENTS, SLAWarning, SLABreached)
    runtime.publishes("scheduling", "room", events.RoomRegistered, events.RoomChanged)
    runtime.publishes("scheduling", "host", *events.RESOURCE_EVENTS[2:])
    runtime.publishes("scheduling", "roomday", *events.BOOKING_EVENTS)
    runtime.publishes("scheduling", "calendar", *events.CALENDAR_EVENTS)  # api/working_days.py
    runtime.publishes("scheduling", "daylist", *events.DAYLIST_EVENTS)
    for event in events.BOOKING_EVENTS:  # same events on the host-day aggregate
        runtime.broker.publisher(
            f"scheduling.hostday.{{hostday_id}}.{event.name()}",
            schema=event,
            title=f"{event.event_type()} (hostday)",
            description=(event.__doc__ or "").strip(),
        )
