"""Scheduling's use cases: load → decide → append."""

from __future__ import annotations

from serambi_contracts import AggregateRef
from serambi_contracts.intake import RequestSubmitted
from serambi_kit.eventstore import EventStore, deterministic_id, execute

from . import domain


def audience_ref(audience_id: str) -> AggregateRef:
    return AggregateRef("scheduling", "audience", audience_id)


async def schedule_request(
    store: EventStore, request: RequestSubmitted, cause_id: str, slot: domain.Slot
) -> None:
    """Book an audience for a submitted request (once, however often the request arrives)."""
    audience_id = request.tracking_code
    await execute(
        store,
        audience_ref(audience_id),
        lambda history: domain.schedule(history, audience_id, request.tracking_code, slot, "auto"),
        event_ids=lambda events: [deterministic_id(cause_id, e.name()) for e in events],
    )
