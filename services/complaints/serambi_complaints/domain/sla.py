"""SLA decisions: which warnings and breach are due, and which timers to arm (pure).

The same machinery serves the tier clocks and, before classification, the triage clock (its
thresholds are named ``triage-w50`` … ``triage-breach``, so classification cancels its timers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from serambi_contracts import Event
from serambi_contracts.complaints import ComplaintDeadlineMoved
from serambi_contracts.sla import SLABreached, SLAWarning
from serambi_kit.eventids import deterministic_id

from .rules import Rules
from .state import TRIAGE, Complaint, fold

BREACH = "breach"


@dataclass(frozen=True, slots=True)
class Threshold:
    """One instant of a clock: a warning (``percent``) or the deadline (``percent`` None)."""

    name: str  # "w50", "w75", "w90", "breach" ("triage-w50" …): the timer id suffix
    percent: int | None
    at: datetime


def schedule(state: Complaint, rules: Rules) -> list[Threshold]:
    """Every threshold of the current round's clock, the deadline last. Empty without a clock
    or while it is paused (its deadline is unknown then)."""
    clock = state.clock()
    if clock is None or clock.paused:
        return []
    due = clock.deadline(rules.calendar, rules.policy)
    assert due is not None  # a running clock has a deadline
    warnings = clock.warning_instants(rules.calendar, rules.policy)
    prefix = f"{TRIAGE}-" if clock.name == TRIAGE else ""
    return [
        *(Threshold(f"{prefix}w{w.percent}", w.percent, w.at) for w in warnings),
        Threshold(prefix + BREACH, None, due),
    ]


def pending(state: Complaint, rules: Rules) -> list[Threshold]:
    """The thresholds still to be reported for the current clock and deadline: none once the
    complaint is answered or closed, the breach reported, or a higher warning reported."""
    if not state.is_open:
        return []
    thresholds = schedule(state, rules)
    if not thresholds:
        return []
    assert state.clock_name is not None
    clock, due = state.clock_name, thresholds[-1].at
    if (clock, due) in state.breached:
        return []
    reported = max((p for c, d, p in state.warned if c == clock and d == due), default=0)
    return [t for t in thresholds if t.percent is None or t.percent > reported]


def check(state: Complaint | None, rules: Rules, now: datetime) -> list[Event]:
    """What is due at ``now``: SLABreached once per clock and deadline, else the highest warning
    passed and not reported (lower ones it supersedes are skipped), else nothing."""
    if state is None:
        return []
    thresholds = pending(state, rules)
    due_now = [t for t in thresholds if t.at <= now]
    if not due_now:
        return []
    clock = state.clock()
    assert clock is not None
    deadline = thresholds[-1]
    if deadline.at <= now:
        return [
            SLABreached(
                case_id=state.tracking_code,
                clock=clock.name,
                started_at=clock.started_at,
                due_at=deadline.at,
                breached_at=now,
                escalate_to="supervisor",
            )
        ]
    top = max(due_now, key=lambda t: t.percent or 0)
    assert top.percent is not None  # the deadline is not due: only warnings are
    return [
        SLAWarning(
            case_id=state.tracking_code,
            clock=clock.name,
            threshold_percent=top.percent,
            started_at=clock.started_at,
            due_at=deadline.at,
            warned_at=now,
        )
    ]


def decide_check(events: Sequence[Event], rules: Rules, now: datetime) -> list[Event]:
    return check(fold(events), rules, now)


def sla_event_id(case_id: str, event: Event) -> str:
    """Deterministic ids, so replicas deciding the same warning or breach store it once."""
    if isinstance(event, SLABreached):
        return deterministic_id(case_id, event.clock, event.due_at.isoformat(), "breach")
    if isinstance(event, SLAWarning):
        kind = f"warning-{event.threshold_percent}"
        return deterministic_id(case_id, event.clock, event.due_at.isoformat(), kind)
    raise TypeError(f"not an SLA event: {type(event).__name__}")


def revise_deadline(events: Sequence[Event], rules: Rules) -> list[Event]:
    """ComplaintDeadlineMoved when the deadline recorded for the open clock is not what the
    current calendar and durations give (a calendar revision or a changed duration)."""
    state = fold(events)
    if state is None or not state.is_open or state.clock_name is None or state.paused:
        return []
    due = rules.deadline(state.clock())
    if due == state.due_at:
        return []
    return [
        ComplaintDeadlineMoved(
            tracking_code=state.tracking_code,
            clock=state.clock_name,
            previous_due_at=state.due_at,
            due_at=due,
            calendar_revision=rules.calendar.revision or "unknown",
        )
    ]
