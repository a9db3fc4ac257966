"""Scheduling's consumers: submitted requests (to book them) and its own audience events."""

from __future__ import annotations

from collections.abc import Callable

from serambi_contracts.intake import RequestSubmitted
from serambi_contracts.scheduling import AudienceScheduled
from serambi_kit.eventstore import RecordedEvent
from serambi_kit.runtime import Runtime
from serambi_kit.topology import ConsumerSpec

from . import application, domain
from .projections import AUDIENCE_DETAILS

SUBMITTED_REQUESTS = ConsumerSpec(
    "scheduling", "book-requests", "intake", ("intake.request.*.RequestSubmitted",)
)
AUDIENCE_EVENTS = ConsumerSpec(
    "scheduling", "audience-details", "scheduling", ("scheduling.audience.>",)
)


def register(runtime: Runtime, slot_for: Callable[[RequestSubmitted], domain.Slot]) -> None:
    async def on_request_submitted(recorded: RecordedEvent) -> None:
        request = recorded.event
        assert isinstance(request, RequestSubmitted)
        await application.schedule_request(
            runtime.store, request, recorded.envelope.id, slot_for(request)
        )

    runtime.consume(
        SUBMITTED_REQUESTS, on_request_submitted, "Books an audience for every submitted request."
    )
    runtime.project(AUDIENCE_EVENTS, AUDIENCE_DETAILS)
    runtime.publishes("scheduling", "audience", AudienceScheduled)
