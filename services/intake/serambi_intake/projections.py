"""Intake's read models: the public tracking view and the officers' request list."""

from __future__ import annotations

from serambi_contracts.intake import RequestSubmitted, RequestWithdrawn
from serambi_contracts.scheduling import AudienceScheduled
from serambi_kit.eventstore import RecordedEvent
from serambi_kit.projections import Change, Projection

REQUESTS = "requests"


def _entry(step: str, recorded: RecordedEvent, **details: object) -> dict:
    return {"step": step, "at": recorded.envelope.time, "event_id": recorded.envelope.id, **details}


def on_request_submitted(event: RequestSubmitted, recorded: RecordedEvent) -> Change:
    return Change(
        event.tracking_code,
        {
            "$set": {
                "tracking_code": event.tracking_code,
                "channel": event.channel.value,
                "requester": event.requester.model_dump(mode="json"),
                "institution": event.requester.institution,
                "institution_type": event.requester.institution_type.value,
                "topic": event.topic,
                "participants": event.participants,
                "proposed_dates": [day.isoformat() for day in event.proposed_dates],
                "submitted_at": event.submitted_at,
                "answer_due_at": event.answer_due_at,
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


def on_audience_scheduled(event: AudienceScheduled, recorded: RecordedEvent) -> Change:
    schedule = {
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "room": event.room,
        "host": event.host,
    }
    return Change(
        event.request_tracking_code,
        {
            "$set": {"schedule": schedule},
            "$push": {"timeline": _entry("scheduled", recorded, **schedule)},
        },
    )


TRACKING = Projection(
    collection=REQUESTS,
    sources=("intake.request", "scheduling.audience"),
    projectors={
        RequestSubmitted: on_request_submitted,
        RequestWithdrawn: on_request_withdrawn,
        AudienceScheduled: on_audience_scheduled,
    },
)
PROJECTIONS = (TRACKING,)
