"""A complaint's state, folded from its events (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from serambi_calendar import Clock, Pause
from serambi_contracts import Event
from serambi_contracts.complaints import (
    ComplaintAnswered,
    ComplaintAssigned,
    ComplaintChannel,
    ComplaintClassified,
    ComplaintClockPaused,
    ComplaintClockResumed,
    ComplaintClosed,
    ComplaintDeadlineMoved,
    ComplaintReceived,
    ComplaintReopened,
    ComplaintTier,
    Disclosure,
)
from serambi_contracts.sla import SLABreached, SLAWarning

TRIAGE = "triage"  # the SLA clock of a complaint waiting to be classified


class Status(StrEnum):
    RECEIVED = "received"  # not classified yet: the triage clock runs
    CLASSIFIED = "classified"
    ASSIGNED = "assigned"
    ANSWERED = "answered"
    CLOSED = "closed"
    REOPENED = "reopened"  # the complainant disputed the answer: a new round


OPEN_STATUSES = frozenset({Status.RECEIVED, Status.CLASSIFIED, Status.ASSIGNED, Status.REOPENED})


@dataclass(frozen=True, slots=True)
class Complaint:
    """What the decisions need to know. ``pauses`` and ``clock_started_at`` belong to the
    current handling round (round 1 starts at receipt, each reopening starts another)."""

    tracking_code: str
    channel: ComplaintChannel
    disclosure: Disclosure
    received_at: datetime
    access_token_sha256: str
    subject_key: str
    external_ref: str | None = None
    tier: ComplaintTier | None = None
    triage: bool = False  # received without a tier since triage clocks exist
    status: Status = Status.RECEIVED
    team: str | None = None
    assignee: str | None = None
    round: int = 1
    clock_started_at: datetime | None = None
    pauses: tuple[Pause, ...] = ()
    pause_reason: str | None = None
    due_at: datetime | None = None
    answered_at: datetime | None = None
    closed_at: datetime | None = None
    warned: frozenset[tuple[str, datetime, int]] = frozenset()
    breached: frozenset[tuple[str, datetime]] = frozenset()

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1].resumed_at is None

    @property
    def clock_name(self) -> str | None:
        """The tier's clock; before classification the triage clock (None on complaints
        received unclassified before triage clocks existed: they fold as they always did)."""
        if self.tier is not None:
            return self.tier.value
        return TRIAGE if self.triage else None

    def clock(self) -> Clock | None:
        """The current round's SLA clock (named after the tier, or ``triage``), or None."""
        name = self.clock_name
        if name is None:
            return None
        return Clock(name, self.clock_started_at or self.received_at, self.pauses)


def _received(event: ComplaintReceived) -> Complaint:
    return Complaint(
        tracking_code=event.tracking_code,
        channel=event.channel,
        disclosure=event.disclosure,
        received_at=event.received_at,
        access_token_sha256=event.access_token_sha256,
        subject_key=event.summary.key,
        external_ref=event.external_ref,
        tier=event.tier,
        triage=event.tier is None and event.triage_due_at is not None,
        status=Status.CLASSIFIED if event.tier else Status.RECEIVED,
        clock_started_at=event.received_at,
        due_at=event.due_at if event.tier else event.triage_due_at,
    )


def evolve(state: Complaint, event: Event) -> Complaint:  # noqa: C901 — one branch per event
    if isinstance(event, ComplaintClassified):
        status = Status.CLASSIFIED if state.status is Status.RECEIVED else state.status
        return replace(state, tier=event.tier, due_at=event.due_at, status=status)
    if isinstance(event, ComplaintAssigned):
        return replace(state, team=event.team, assignee=event.assignee, status=Status.ASSIGNED)
    if isinstance(event, ComplaintAnswered):
        return replace(state, status=Status.ANSWERED, answered_at=event.answered_at)
    if isinstance(event, ComplaintClosed):
        return replace(state, status=Status.CLOSED, closed_at=event.closed_at)
    if isinstance(event, ComplaintReopened):
        return replace(
            state,
            status=Status.REOPENED,
            round=event.round,
            clock_started_at=event.reopened_at,
            pauses=(),
            pause_reason=None,
            due_at=event.due_at,
            closed_at=None,
        )
    if isinstance(event, ComplaintClockPaused):
        return replace(
            state,
            pauses=(*state.pauses, Pause(event.paused_at)),
            pause_reason=event.reason,
            due_at=None,
        )
    if isinstance(event, ComplaintClockResumed):
        closed = Pause(state.pauses[-1].paused_at, event.resumed_at) if state.paused else None
        pauses = (*state.pauses[:-1], closed) if closed else state.pauses
        return replace(state, pauses=pauses, pause_reason=None, due_at=event.due_at)
    if isinstance(event, ComplaintDeadlineMoved):
        return replace(state, due_at=event.due_at)
    if isinstance(event, SLAWarning):
        key = (event.clock, event.due_at, event.threshold_percent)
        return replace(state, warned=state.warned | {key})
    if isinstance(event, SLABreached):
        return replace(state, breached=state.breached | {(event.clock, event.due_at)})
    return state


def fold(events: Sequence[Event]) -> Complaint | None:
    """The complaint after ``events`` (None if it was never received)."""
    if not events or not isinstance(events[0], ComplaintReceived):
        return None
    state = _received(events[0])
    for event in events[1:]:
        state = evolve(state, event)
    return state
