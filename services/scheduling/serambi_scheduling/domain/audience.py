"""The audience aggregate: its state from events, and every decision on it. Pure.

Statuses: requested → proposed | referred | scheduled; proposed → scheduled | declined |
cancelled; referred → scheduled | declined | cancelled; scheduled → (rescheduled) scheduled |
held | no_show | cancelled. Declined, held, no_show and cancelled are final. A command in the
wrong state raises StateError and appends nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import TypedDict

from serambi_contracts import Event
from serambi_contracts.base import Sealed
from serambi_contracts.intake import DocumentRef, RequestSubmitted
from serambi_contracts.scheduling import (
    AudienceCancelled,
    AudienceDeadlineMoved,
    AudienceDeclined,
    AudienceHeld,
    AudienceNoShow,
    AudienceProposed,
    AudienceReferred,
    AudienceReminderDue,
    AudienceRequested,
    AudienceRescheduled,
    AudienceScheduled,
)
from serambi_contracts.sla import SLABreached, SLAWarning

from .errors import AudienceDayError, NotFoundError, StateError
from .time import wib_day

CLOCK = "audience_answer"
CANCELLED_BY_BUREAU = "cancelled by the bureau"  # AudienceCancelled.reason; the words go sealed
WITHDRAWN = "withdrawn by the requester"


class Status(StrEnum):
    REQUESTED = "requested"
    PROPOSED = "proposed"
    REFERRED = "referred"
    SCHEDULED = "scheduled"
    DECLINED = "declined"
    HELD = "held"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


UNDECIDED = (Status.REQUESTED, Status.REFERRED, Status.PROPOSED)
FINAL = (Status.DECLINED, Status.HELD, Status.NO_SHOW, Status.CANCELLED)


@dataclass(frozen=True, slots=True)
class Placement:
    """Where and when, and the booking (on the room-day and host-day) that holds it."""

    booking_id: str
    starts_at: datetime
    ends_at: datetime
    room_id: str
    room: str
    host_id: str
    host: str
    location: str


@dataclass(frozen=True, slots=True)
class Audience:
    request: AudienceRequested
    status: Status
    version: int
    placement: Placement | None = None  # the slot the audience holds (None once released)
    answered: bool = False  # scheduled or declined at least once: the answer clock stopped
    warnings: frozenset[tuple[datetime, int]] = frozenset()  # (due_at, percent)
    breaches: frozenset[datetime] = frozenset()  # due_at
    letter: DocumentRef | None = None  # the latest answer letter
    moved_due_at: datetime | None = None  # the deadline a calendar revision moved it to
    reminded: frozenset[tuple[str, str]] = frozenset()  # (reminder kind, booking id) sent

    @property
    def audience_id(self) -> str:
        return self.request.audience_id

    @property
    def requester_key(self) -> str | None:
        """The requester's data key id (their sealed topic's), or None for an audience opened
        before AudienceRequested version 2 (its topic in clear)."""
        topic = self.request.topic
        return topic.key if isinstance(topic, Sealed) else None

    @property
    def started_at(self) -> datetime:
        """When the answer clock started: the reception of a request recorded later at the
        desk, else its submission."""
        return self.request.received_at or self.request.submitted_at

    @property
    def due_at(self) -> datetime:
        """The answer deadline: what the requester was told, unless a calendar revision moved it."""
        return self.moved_due_at or self.request.answer_due_at

    @property
    def warned_percents(self) -> frozenset[int]:
        """The warning thresholds reported, for whichever deadline: each is reported once per
        audience (a moved deadline does not repeat a warning; it may breach in its turn)."""
        return frozenset(percent for _, percent in self.warnings)

    @property
    def clock_running(self) -> bool:
        return not self.answered and self.status in UNDECIDED


def _placement(event: AudienceProposed | AudienceScheduled | AudienceRescheduled) -> Placement | None:
    if event.booking_id is None or event.room_id is None or event.host_id is None:
        return None  # scheduled before bookings existed (thin slice)
    return Placement(
        event.booking_id,
        event.starts_at,
        event.ends_at,
        event.room_id,
        event.room,
        event.host_id,
        event.host,
        event.location or "",
    )


def evolve(state: Audience | None, event: Event) -> Audience | None:
    if isinstance(event, AudienceRequested):
        return Audience(event, Status.REQUESTED, 1) if state is None else state
    if state is None:
        return None
    state = replace(state, version=state.version + 1)
    match event:
        case AudienceProposed():
            return replace(state, status=Status.PROPOSED, placement=_placement(event))
        case AudienceReferred():
            return replace(state, status=Status.REFERRED)
        case AudienceScheduled() | AudienceRescheduled():
            return replace(
                state,
                status=Status.SCHEDULED,
                placement=_placement(event),
                answered=True,
                letter=event.answer_letter or state.letter,
            )
        case AudienceDeclined():
            return replace(
                state,
                status=Status.DECLINED,
                placement=None,
                answered=True,
                letter=event.answer_letter or state.letter,
            )
        case AudienceHeld():
            return replace(state, status=Status.HELD)
        case AudienceNoShow():
            return replace(state, status=Status.NO_SHOW)
        case AudienceCancelled():
            return replace(state, status=Status.CANCELLED, placement=None)
        case SLAWarning():
            return replace(state, warnings=state.warnings | {(event.due_at, event.threshold_percent)})
        case SLABreached():
            return replace(state, breaches=state.breaches | {event.due_at})
        case AudienceDeadlineMoved():
            return replace(state, moved_due_at=event.due_at)
        case AudienceReminderDue():
            return replace(state, reminded=state.reminded | {(event.reminder, event.booking_id)})
    return state


def audience_of(history: Sequence[Event]) -> Audience | None:
    state = None
    for event in history:
        state = evolve(state, event)
    return state


def existing(history: Sequence[Event], audience_id: str) -> Audience:
    state = audience_of(history)
    if state is None:
        raise NotFoundError(f"no audience {audience_id}")
    return state


def require(state: Audience, allowed: Sequence[Status], action: str) -> None:
    if state.status not in allowed:
        wanted = " or ".join(s.value for s in allowed)
        raise StateError(
            f"cannot {action} audience {state.audience_id}: it is {state.status.value}, "
            f"and only a {wanted} audience can be"
        )


# -- decisions -------------------------------------------------------------------------------
def open_case(history: Sequence[Event], request: RequestSubmitted) -> list[Event]:
    if audience_of(history) is not None:
        return []
    return [
        AudienceRequested(
            audience_id=request.tracking_code,
            request_tracking_code=request.tracking_code,
            topic=request.topic,
            institution=request.requester.institution,
            institution_type=request.requester.institution_type,
            requester_position=request.requester.position,
            participants=request.participants,
            proposed_dates=request.proposed_dates,
            submitted_at=request.submitted_at,
            answer_due_at=request.answer_due_at,
            received_at=request.received_at,
            channel=request.channel,
        )
    ]


class _SlotFields(TypedDict):
    """The fields every event that places the audience in a slot carries."""

    audience_id: str
    request_tracking_code: str
    starts_at: datetime
    ends_at: datetime
    room: str
    host: str
    room_id: str
    host_id: str
    location: str
    booking_id: str


def _slot_fields(state: Audience, p: Placement) -> _SlotFields:
    return _SlotFields(
        audience_id=state.audience_id,
        request_tracking_code=state.request.request_tracking_code,
        starts_at=p.starts_at,
        ends_at=p.ends_at,
        room=p.room,
        host=p.host,
        room_id=p.room_id,
        host_id=p.host_id,
        location=p.location,
        booking_id=p.booking_id,
    )


def propose(state: Audience, p: Placement, by: str) -> list[Event]:
    require(state, (Status.REQUESTED,), "propose a slot for")
    return [AudienceProposed(**_slot_fields(state, p), proposed_by=by)]


def refer(state: Audience, reason: str, by: str) -> list[Event]:
    require(state, (Status.REQUESTED,), "refer")
    return [
        AudienceReferred(
            audience_id=state.audience_id,
            reason=reason[:300],
            referred_by=by,
            request_tracking_code=state.request.request_tracking_code,
        )
    ]


def schedule(state: Audience, p: Placement, by: str, letter: DocumentRef | None) -> list[Event]:
    """Book directly, confirm the proposal (p is the proposal) or choose another slot."""
    require(state, UNDECIDED, "schedule")
    return [AudienceScheduled(**_slot_fields(state, p), scheduled_by=by, answer_letter=letter)]


def confirm_target(state: Audience) -> Placement:
    require(state, (Status.PROPOSED,), "confirm the proposal of")
    if state.placement is None:
        raise StateError(f"audience {state.audience_id} has no proposal to confirm")
    return state.placement


def reschedule(
    state: Audience, p: Placement, reason: str, by: str, letter: DocumentRef | None
) -> list[Event]:
    require(state, (Status.SCHEDULED,), "reschedule")
    previous = state.placement
    if previous is None:
        raise StateError(f"audience {state.audience_id} holds no slot to move")
    return [
        AudienceRescheduled(
            **_slot_fields(state, p),
            previous_starts_at=previous.starts_at,
            previous_ends_at=previous.ends_at,
            reason=reason,
            rescheduled_by=by,
            answer_letter=letter,
        )
    ]


def decline(state: Audience, reason: str, by: str, letter: DocumentRef | None) -> list[Event]:
    require(state, UNDECIDED, "decline")
    return [
        AudienceDeclined(
            audience_id=state.audience_id,
            reason=reason,
            declined_by=by,
            answer_letter=letter,
            request_tracking_code=state.request.request_tracking_code,
        )
    ]


def require_audience_day(state: Audience, now: datetime, action: str) -> None:
    """Held and no-show are recorded from the audience's day on (WIB), never before it."""
    if state.placement is not None and wib_day(now) < wib_day(state.placement.starts_at):
        day = wib_day(state.placement.starts_at)
        raise AudienceDayError(
            "before_audience_day",
            f"audience {state.audience_id} cannot be {action} before its day ({day.isoformat()} WIB)",
            day,
        )


def mark_held(
    state: Audience, held_at: datetime, by: str, notes: Sealed | None, now: datetime
) -> list[Event]:
    require(state, (Status.SCHEDULED,), "mark as held")
    require_audience_day(state, now, "marked held")
    if held_at > now:
        raise StateError(f"audience {state.audience_id} cannot be marked held in the future")
    starts = state.placement.starts_at if state.placement else None
    if starts is not None and held_at < starts:
        raise StateError(
            f"audience {state.audience_id} starts at {starts.isoformat()}: "
            "it cannot have been held before that"
        )
    return [
        AudienceHeld(
            audience_id=state.audience_id,
            held_at=held_at,
            recorded_by=by,
            notes_sealed=notes,
            request_tracking_code=state.request.request_tracking_code,
        )
    ]


def mark_no_show(state: Audience, by: str, notes: Sealed | None, now: datetime) -> list[Event]:
    """The requester did not come: only once the slot has started, and only for a scheduled
    audience (the slot stays booked: it has passed)."""
    require(state, (Status.SCHEDULED,), "mark as a no-show")
    require_audience_day(state, now, "marked a no-show")
    if state.placement is None:
        raise StateError(f"audience {state.audience_id} holds no slot the requester could miss")
    if now < state.placement.starts_at:
        raise StateError(
            f"audience {state.audience_id} starts at {state.placement.starts_at.isoformat()}: "
            "it cannot be marked a no-show before it starts"
        )
    return [
        AudienceNoShow(
            audience_id=state.audience_id,
            starts_at=state.placement.starts_at,
            recorded_by=by,
            notes_sealed=notes,
            request_tracking_code=state.request.request_tracking_code,
        )
    ]


def cancel(state: Audience, reason: Sealed | None, by: str, *, withdrawn: bool = False) -> list[Event]:
    """Cancel: the public ``reason`` says only who cancelled; the officer's own words (``reason``
    here, sealed under the requester's key) go in ``reason_sealed``."""
    if withdrawn and state.status in FINAL:
        return []  # a withdrawal after the end changes nothing
    require(state, (*UNDECIDED, Status.SCHEDULED), "cancel")
    return [
        AudienceCancelled(
            audience_id=state.audience_id,
            reason=WITHDRAWN if withdrawn else CANCELLED_BY_BUREAU,
            reason_sealed=reason,
            cancelled_by=by,
            withdrawn=withdrawn,
            request_tracking_code=state.request.request_tracking_code,
        )
    ]
