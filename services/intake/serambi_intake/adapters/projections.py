"""Intake's read models: requests (public tracking + officer list) and the daily guest book.

A request's document combines its own events with scheduling's audience events; the two
streams arrive in any relative order, so each source writes its own fields and the status is
derived on read (see queries.status_of). The answer deadline likewise: the request's own
``answer_due_at``, unless scheduling moved it after a calendar revision (``audience_answer_due_at``,
see queries.answer_due_of).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from serambi_calendar import WIB
from serambi_contracts.intake import GuestRegistered, RequestSubmitted, RequestWithdrawn
from serambi_contracts.scheduling import (
    AudienceCancelled,
    AudienceDeadlineMoved,
    AudienceDeclined,
    AudienceHeld,
    AudienceNoShow,
    AudienceProposed,
    AudienceReferred,
    AudienceRescheduled,
    AudienceScheduled,
)
from serambi_contracts.survey import SurveyAnswered, SurveyInvited
from serambi_kit.eventstore import RecordedEvent
from serambi_kit.projections import Change, Projection

REQUESTS = "requests"
ORDER = "_order"  # a timeline entry's tie-breaker (see _entry); the tracking view leaves it out
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
GUESTS = "guests"
SURVEY_INVITATIONS_COLLECTION = "survey_invitations"
SURVEY_RESPONSES_COLLECTION = "survey_responses"


def _entry(step: str, recorded: RecordedEvent, **details: object) -> dict:
    """A timeline entry, pushed in order of time: the request's and the audience's events come
    from two streams in any relative order, and the document must not depend on that order.
    MongoDB keeps ``at`` to the millisecond, so events of one millisecond tie on it (and events
    appended together share their time): ``_order`` breaks the tie by the event's own time to the
    microsecond, then its version in its aggregate, then its source — never by the step's name."""
    return {
        "$each": [{"step": step, "at": recorded.envelope.time, **details, ORDER: _order(recorded)}],
        "$sort": {"at": 1, ORDER: 1},
    }


def _order(recorded: RecordedEvent) -> str:
    """The timeline's sort key beside ``at``: ``<microseconds since the epoch>/<version>/<source>``,
    zero-padded so that it sorts as text (a request's events before its audience's on a full tie:
    scheduling acts on the request)."""
    instant = recorded.envelope.time
    micros = (instant - EPOCH) // timedelta(microseconds=1)
    return f"{micros:017d}/{recorded.version:09d}/{recorded.ref.context}.{recorded.ref.aggregate}"


def _letter(event) -> str | None:
    letter = getattr(event, "answer_letter", None)
    return letter.document_id if letter else None


def _text(value) -> dict | str | None:
    """A sealed text as stored (revealed on read); the clear text of an event version before
    sealing as it is; None as None."""
    return value.model_dump() if hasattr(value, "model_dump") else value


def on_request_submitted(event: RequestSubmitted, recorded: RecordedEvent) -> Change:
    return Change(
        event.tracking_code,
        {
            "$set": {
                "tracking_code": event.tracking_code,
                "channel": event.channel.value,
                "requester": event.requester.model_dump(mode="json"),
                "identity_number": event.identity_number.model_dump() if event.identity_number else None,
                "institution": event.requester.institution,
                "institution_type": event.requester.institution_type.value,
                "topic": _text(event.topic),  # sealed: revealed for the requester and officers
                "participants": event.participants,
                "proposed_dates": [day.isoformat() for day in event.proposed_dates],
                "documents": [document.model_dump() for document in event.documents],
                "submitted_at": event.submitted_at,
                "received_at": event.received_at,
                "answer_due_at": event.answer_due_at,
                "recorded_by": event.recorded_by,
                "access_token_sha256": event.access_token_sha256,
            },
            "$push": {"timeline": _entry("submitted", recorded)},
        },
    )


def on_request_withdrawn(event: RequestWithdrawn, recorded: RecordedEvent) -> Change:
    return Change(
        event.tracking_code,
        {
            "$set": {"withdrawn_at": event.withdrawn_at},
            "$push": {"timeline": _entry("withdrawn", recorded)},
        },
    )


def _schedule(event) -> dict:
    return {"starts_at": event.starts_at, "ends_at": event.ends_at, "room": event.room, "host": event.host}


def on_audience_scheduled(event: AudienceScheduled | AudienceRescheduled, recorded: RecordedEvent) -> Change:
    step = "scheduled" if isinstance(event, AudienceScheduled) else "rescheduled"
    schedule = _schedule(event)
    return Change(
        event.request_tracking_code,
        {
            "$set": {
                "audience_status": "scheduled",
                "schedule": schedule,
                "answered_at": recorded.envelope.time,
            },
            "$push": {"timeline": _entry(step, recorded, **schedule, letter=_letter(event))},
        },
    )


def on_audience_in_review(event: AudienceProposed | AudienceReferred, recorded: RecordedEvent) -> Change:
    return Change(event.request_tracking_code, {"$set": {"audience_status": "in_review"}})


def on_audience_declined(event: AudienceDeclined, recorded: RecordedEvent) -> Change:
    return Change(
        event.request_tracking_code,
        {
            "$set": {"audience_status": "declined", "schedule": None, "answered_at": recorded.envelope.time},
            "$push": {"timeline": _entry("declined", recorded, reason=event.reason, letter=_letter(event))},
        },
    )


def on_audience_held(event: AudienceHeld, recorded: RecordedEvent) -> Change:
    return Change(
        event.request_tracking_code,
        {
            "$set": {"audience_status": "held"},
            "$push": {"timeline": _entry("held", recorded)},
        },
    )


def on_audience_no_show(event: AudienceNoShow, recorded: RecordedEvent) -> Change:
    """The requester did not come: the case ends as such (the slot stays shown: it was kept)."""
    return Change(
        event.request_tracking_code,
        {
            "$set": {"audience_status": "no_show"},
            "$push": {"timeline": _entry("no_show", recorded)},
        },
    )


def on_audience_cancelled(event: AudienceCancelled, recorded: RecordedEvent) -> Change:
    return Change(
        event.request_tracking_code,
        {
            "$set": {"audience_status": "cancelled", "schedule": None},
            "$push": {
                "timeline": _entry(
                    "cancelled",
                    recorded,
                    reason=event.reason,  # who cancelled
                    reason_sealed=_text(event.reason_sealed or None),
                )
            },
        },
    )


def on_audience_deadline_moved(event: AudienceDeadlineMoved, recorded: RecordedEvent) -> Change:
    return Change(
        event.request_tracking_code,
        {
            "$set": {"audience_answer_due_at": event.due_at},
            "$push": {"timeline": _entry("deadline_moved", recorded, due_at=event.due_at)},
        },
    )


def on_guest_registered(event: GuestRegistered, recorded: RecordedEvent) -> Change:
    return Change(
        event.guest_id,
        {
            "$set": {
                "guest_id": event.guest_id,
                "name": event.guest_name.model_dump(),
                "institution": event.institution,
                "purpose": event.purpose,
                "arrived_at": event.arrived_at,
                "day": event.arrived_at.astimezone(WIB).date().isoformat(),
                "recorded_by": event.recorded_by,
                "request_tracking_code": event.request_tracking_code,
            }
        },
    )


REQUEST_VIEWS = Projection(
    collection=REQUESTS,
    sources=("intake.request", "scheduling.audience"),
    projectors={
        RequestSubmitted: on_request_submitted,
        RequestWithdrawn: on_request_withdrawn,
        AudienceScheduled: on_audience_scheduled,
        AudienceRescheduled: on_audience_scheduled,
        AudienceProposed: on_audience_in_review,
        AudienceReferred: on_audience_in_review,
        AudienceDeclined: on_audience_declined,
        AudienceHeld: on_audience_held,
        AudienceNoShow: on_audience_no_show,
        AudienceCancelled: on_audience_cancelled,
        AudienceDeadlineMoved: on_audience_deadline_moved,
    },
)
GUEST_BOOK = Projection(
    collection=GUESTS, sources=("intake.guest",), projectors={GuestRegistered: on_guest_registered}
)


def on_survey_invited(event: SurveyInvited, recorded: RecordedEvent) -> Change:
    """An invitation: the report's population (by month, WIB) and the token's keyed hash to find
    it. Not the sealed token: intake never needs it back, and holding it would link every answer
    to its case."""
    return Change(
        event.case_code,
        {
            "$set": {
                "service": event.service.value,
                "invited_at": event.invited_at,
                "month": event.invited_at.astimezone(WIB).strftime("%Y-%m"),
                "token_hmac": event.token_hmac,
            }
        },
    )


def on_survey_answered(event: SurveyAnswered, recorded: RecordedEvent) -> Change:
    return Change(
        event.response_id,
        {
            "$set": {
                "service": event.service.value,
                "channel": event.channel.value,
                "answered_on": event.answered_on.isoformat(),
                "month": event.answered_on.isoformat()[:7],
                "scores": event.scores.by_code(),
                "profile": event.profile.model_dump(mode="json"),
                "suggestion": event.suggestion,
            }
        },
    )


SURVEY_INVITATIONS = Projection(
    collection=SURVEY_INVITATIONS_COLLECTION,
    sources=("intake.survey",),
    projectors={SurveyInvited: on_survey_invited},
)
SURVEY_RESPONSES = Projection(
    collection=SURVEY_RESPONSES_COLLECTION,
    sources=("intake.response",),
    projectors={SurveyAnswered: on_survey_answered},
)
PROJECTIONS = (REQUEST_VIEWS, GUEST_BOOK, SURVEY_INVITATIONS, SURVEY_RESPONSES)
INDEXES = {
    REQUESTS: ["submitted_at", "institution", "audience_status", "withdrawn_at", "documents.document_id"],
    GUESTS: ["day"],
    SURVEY_INVITATIONS_COLLECTION: ["token_hmac", "month"],
    SURVEY_RESPONSES_COLLECTION: ["month"],
}
