"""Notifier's read model ``cases``: what it needs to know about a case to address its notices.

Later events of a case do not carry the citizen's contact (AudienceScheduled names no requester),
so the notifier projects the contacts — still sealed — and the details its messages mention from
the events that carry them. One document per case, ``_id`` = ``<kind>:<id>``:

- ``request:<tracking code>`` — the requester (sealed name, email, phone), the sealed topic,
  institution, answer due date, the sealed access token for tracking links (RequestSubmitted);
- ``audience:<audience id>`` — its request, sealed topic, the current slot, and the aggregate versions of
  its reschedules (the iCalendar SEQUENCE);
- ``complaint:<tracking code>`` — the complainant, the summary, the access token and, for an
  e-mail, its thread (sealed), tier, deadline, team and assignee.

Events of these aggregates without a projector still advance the document's position (kit rule).
"""

from __future__ import annotations

from typing import Any

from serambi_contracts import complaints as c
from serambi_contracts import scheduling as s
from serambi_contracts.intake import RequestSubmitted, RequestWithdrawn
from serambi_kit.eventstore import RecordedEvent
from serambi_kit.projections import Change, Projection

CASES = "cases"
KINDS = {"intake.request": "request", "scheduling.audience": "audience", "complaints.complaint": "complaint"}


def case_id(kind: str, identifier: str) -> str:
    return f"{kind}:{identifier}"


def document_id(recorded: RecordedEvent) -> str:
    return case_id(KINDS[recorded.ref.key], recorded.ref.id)


def _sealed(value: Any) -> dict | None:
    return None if value is None else value.model_dump(mode="json")


def _topic(value: Any) -> dict[str, Any]:
    """The topic, sealed under the requester's key (revealed only into the requester's own
    messages); a request or audience recorded before sealing had it in clear."""
    return {"topic": value} if isinstance(value, str) else {"sealed_topic": _sealed(value)}


def on_request_submitted(event: RequestSubmitted, recorded: RecordedEvent) -> Change:
    requester = event.requester
    return Change(
        document_id(recorded),
        {
            "$set": {
                "kind": "request",
                "tracking_code": event.tracking_code,
                "contact": {
                    "name": _sealed(requester.name),
                    "email": _sealed(requester.email),
                    "phone": _sealed(requester.phone),
                },
                "position": requester.position,
                "institution": requester.institution,
                **_topic(event.topic),
                "submitted_at": event.submitted_at,
                "answer_due_at": event.answer_due_at,
                "sealed_token": _sealed(event.access_token),
            }
        },
    )


def on_request_withdrawn(event: RequestWithdrawn, recorded: RecordedEvent) -> Change:
    return Change(document_id(recorded), {"$set": {"withdrawn_at": event.withdrawn_at}})


def on_audience_requested(event: s.AudienceRequested, recorded: RecordedEvent) -> Change:
    return Change(
        document_id(recorded),
        {
            "$set": {
                "kind": "audience",
                "audience_id": event.audience_id,
                "request_tracking_code": event.request_tracking_code,
                **_topic(event.topic),
                "institution": event.institution,
            }
        },
    )


def _slot(event: Any) -> dict[str, Any]:
    return {
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "room": event.room,
        "host": event.host,
        "location": getattr(event, "location", None),
    }


def on_audience_scheduled(event: Any, recorded: RecordedEvent) -> Change:
    return Change(
        document_id(recorded),
        {
            "$set": {
                "kind": "audience",
                "audience_id": event.audience_id,
                "request_tracking_code": event.request_tracking_code,
                "slot": _slot(event),
                "scheduled": True,
            }
        },
    )


def on_audience_rescheduled(event: Any, recorded: RecordedEvent) -> Change:
    return Change(
        document_id(recorded),
        {
            "$set": {"slot": _slot(event), "scheduled": True},
            "$push": {"reschedule_versions": recorded.version},
        },
    )


CLOSED = {"AudienceCancelled": "cancelled", "AudienceDeclined": "declined", "AudienceNoShow": "no_show"}


def on_audience_closed(event: Any, recorded: RecordedEvent) -> Change:
    status = CLOSED[type(event).__name__]
    return Change(document_id(recorded), {"$set": {"status": status}})


def on_complaint_received(event: c.ComplaintReceived, recorded: RecordedEvent) -> Change:
    return Change(
        document_id(recorded),
        {
            "$set": {
                "kind": "complaint",
                "tracking_code": event.tracking_code,
                "contact": {
                    "name": _sealed(event.complainant_name),
                    "email": _sealed(event.complainant_email),
                    "phone": _sealed(event.complainant_phone),
                },
                "sealed_summary": _sealed(event.summary),
                "sealed_token": _sealed(event.access_token),
                "sealed_email_thread": _sealed(event.email_thread),
                "channel": event.channel.value,
                "disclosure": event.disclosure.value,
                "tier": event.tier.value if event.tier else None,
                "due_at": event.due_at,
                "received_at": event.received_at,
            }
        },
    )


def on_complaint_classified(event: c.ComplaintClassified, recorded: RecordedEvent) -> Change:
    return Change(document_id(recorded), {"$set": {"tier": event.tier.value, "due_at": event.due_at}})


def on_complaint_assigned(event: c.ComplaintAssigned, recorded: RecordedEvent) -> Change:
    return Change(document_id(recorded), {"$set": {"team": event.team, "assignee": event.assignee}})


def on_complaint_due(event: Any, recorded: RecordedEvent) -> Change:
    """Events that move the deadline (reopened, clock resumed, deadline moved)."""
    return Change(document_id(recorded), {"$set": {"due_at": event.due_at}})


PROJECTORS: dict[type, Any] = {
    RequestSubmitted: on_request_submitted,
    RequestWithdrawn: on_request_withdrawn,
    c.ComplaintReceived: on_complaint_received,
    c.ComplaintClassified: on_complaint_classified,
    c.ComplaintAssigned: on_complaint_assigned,
    c.ComplaintReopened: on_complaint_due,
    c.ComplaintClockResumed: on_complaint_due,
    c.ComplaintDeadlineMoved: on_complaint_due,
    s.AudienceRequested: on_audience_requested,
    s.AudienceScheduled: on_audience_scheduled,
    s.AudienceRescheduled: on_audience_rescheduled,
    s.AudienceDeclined: on_audience_closed,
    s.AudienceCancelled: on_audience_closed,
    s.AudienceNoShow: on_audience_closed,
}

CASES_PROJECTION = Projection(
    collection=CASES,
    sources=tuple(KINDS),
    projectors=PROJECTORS,
    document_id=document_id,
)
PROJECTIONS = (CASES_PROJECTION,)
