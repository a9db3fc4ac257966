"""Intake's consumers: its own events and scheduling's audience events, projected into the
request views and the guest book."""

from serambi_contracts.audit import PersonalDataAccessed, PersonalDataErased
from serambi_contracts.intake import GuestRegistered, RequestLinkRequested, RequestSubmitted, RequestWithdrawn
from serambi_kit.runtime import Runtime
from serambi_kit.topology import ConsumerSpec

from .projections import GUEST_BOOK, REQUEST_VIEWS

REQUEST_EVENTS = ConsumerSpec("intake", "tracking-requests", "intake", ("intake.request.>",))
AUDIENCE_EVENTS = ConsumerSpec("intake", "tracking-audiences", "scheduling", ("scheduling.audience.>",))
GUEST_EVENTS = ConsumerSpec("intake", "guestbook", "intake", ("intake.guest.>",))


def register(runtime: Runtime) -> None:
    runtime.project(REQUEST_EVENTS, REQUEST_VIEWS)
    runtime.project(AUDIENCE_EVENTS, REQUEST_VIEWS)
    runtime.project(GUEST_EVENTS, GUEST_BOOK)
    runtime.publishes("intake", "request", RequestSubmitted, RequestWithdrawn, RequestLinkRequested)
    runtime.publishes("intake", "guest", GuestRegistered)
    runtime.publishes("intake", "access", PersonalDataAccessed)
    runtime.publishes("intake", "erasure", PersonalDataErased)  # serambi_kit.admin.erasure_router
