"""The audience_answer clock: when it warns and breaches, and what is due now. Pure.

The deadline is the request's ``answer_due_at`` (what the requester was told) until a calendar
revision moves it (AudienceDeadlineMoved, ``revise_deadline``). Warnings fall at the policy's
thresholds of the working time between the clock's start and that deadline. SLAWarning and
SLABreached are emitted only while the clock runs (neither AudienceScheduled nor AudienceDeclined
has happened, and the audience is not cancelled): each warning at most once per audience, the
breach at most once per deadline. The aggregate records them, and a second evaluation finds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from serambi_calendar import Clock, SlaPolicy, WorkingCalendar
from serambi_contracts import Event
from serambi_contracts.scheduling import AudienceDeadlineMoved
from serambi_contracts.sla import SLABreached, SLAWarning

from .audience import CLOCK, Audience


@dataclass(frozen=True, slots=True)
class Schedule:
    started_at: datetime
    due_at: datetime
    warnings: tuple[tuple[int, datetime], ...]  # (percent, instant), ascending


def schedule_of(state: Audience, calendar: WorkingCalendar, policy: SlaPolicy) -> Schedule:
    started, due = state.started_at, state.due_at
    clock = Clock(CLOCK, started)
    if clock.deadline(calendar, policy) == due:
        warnings = tuple((w.percent, w.at) for w in clock.warning_instants(calendar, policy))
    else:  # a deadline the policy does not give (another calendar revision, or a test)
        start = calendar.next_working_instant(started)
        working = calendar.working_time_between(start, due) if due > start else None
        warnings = tuple(
            (
                p,
                calendar.add_working_time(start, working * p / 100)
                if working
                else started + (due - started) * p / 100,
            )
            for p in policy.warnings
        )
    return Schedule(started, due, tuple((p, at) for p, at in warnings if at < due))


def due_events(state: Audience, schedule: Schedule, now: datetime) -> list[Event]:
    """The warnings and the breach that are due at ``now`` and not yet recorded, in order."""
    if not state.clock_running or schedule.due_at in state.breaches:
        return []
    out: list[Event] = []
    for percent, at in schedule.warnings:
        if at <= now and percent not in state.warned_percents:
            out.append(
                SLAWarning(
                    case_id=state.audience_id,
                    clock=CLOCK,
                    threshold_percent=percent,
                    started_at=schedule.started_at,
                    due_at=schedule.due_at,
                    warned_at=now,
                )
            )
    if schedule.due_at <= now:
        out.append(
            SLABreached(
                case_id=state.audience_id,
                clock=CLOCK,
                started_at=schedule.started_at,
                due_at=schedule.due_at,
                breached_at=now,
            )
        )
    return out


def revise_deadline(state: Audience | None, calendar: WorkingCalendar, policy: SlaPolicy) -> list[Event]:
    """AudienceDeadlineMoved when the clock still runs and the current calendar and duration give
    another deadline than the recorded one (the old calendar's answer: the old override file is
    not needed). Nothing once it is recorded, so a revision can run any number of times."""
    if state is None or not state.clock_running:
        return []
    due = Clock(CLOCK, state.started_at).deadline(calendar, policy)
    if due is None or due == state.due_at:
        return []
    return [
        AudienceDeadlineMoved(
            audience_id=state.audience_id,
            request_tracking_code=state.request.request_tracking_code,
            clock=CLOCK,
            previous_due_at=state.due_at,
            due_at=due,
            calendar_revision=calendar.revision or "unknown",
        )
    ]


def event_key(event: Event) -> str:
    """What makes an SLA event unique (for its deterministic id)."""
    if isinstance(event, SLAWarning):
        return f"{event.case_id}:{event.clock}:{event.due_at.isoformat()}:w{event.threshold_percent}"
    if isinstance(event, AudienceDeadlineMoved):
        moved = f"{event.previous_due_at.isoformat()}>{event.due_at.isoformat()}"
        return f"{event.audience_id}:{event.clock}:{moved}:{event.calendar_revision}"
    assert isinstance(event, SLABreached)
    return f"{event.case_id}:{event.clock}:{event.due_at.isoformat()}:breach"
