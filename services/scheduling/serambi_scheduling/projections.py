"""Scheduling's read model: audience details."""

from __future__ import annotations

from serambi_contracts.scheduling import AudienceScheduled
from serambi_kit.eventstore import RecordedEvent
from serambi_kit.projections import Change, Projection

AUDIENCES = "audiences"


def on_audience_scheduled(event: AudienceScheduled, recorded: RecordedEvent) -> Change:
    return Change(
        event.audience_id,
        {
            "$set": {
                "audience_id": event.audience_id,
                "request_tracking_code": event.request_tracking_code,
                "status": "scheduled",
                "starts_at": event.starts_at,
                "ends_at": event.ends_at,
                "room": event.room,
                "host": event.host,
                "scheduled_by": event.scheduled_by,
            }
        },
    )


AUDIENCE_DETAILS = Projection(
    collection=AUDIENCES,
    sources=("scheduling.audience",),
    projectors={AudienceScheduled: on_audience_scheduled},
)
PROJECTIONS = (AUDIENCE_DETAILS,)
