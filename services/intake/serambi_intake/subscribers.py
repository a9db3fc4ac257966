"""Intake's consumers: its own request events and scheduling's audience events, both projected
into the tracking read model."""

from serambi_contracts.intake import RequestSubmitted, RequestWithdrawn
from serambi_kit.runtime import Runtime
from serambi_kit.topology import ConsumerSpec

from .projections import TRACKING

REQUEST_EVENTS = ConsumerSpec("intake", "tracking-requests", "intake", ("intake.request.>",))
AUDIENCE_EVENTS = ConsumerSpec(
    "intake", "tracking-audiences", "scheduling", ("scheduling.audience.>",)
)


def register(runtime: Runtime) -> None:
    runtime.project(REQUEST_EVENTS, TRACKING)
    runtime.project(AUDIENCE_EVENTS, TRACKING)
    runtime.publishes("intake", "request", RequestSubmitted, RequestWithdrawn)
