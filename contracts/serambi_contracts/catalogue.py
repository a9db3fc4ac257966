"""Every public event type, by its CloudEvents type."""

from __future__ import annotations

from .base import Event
from .complaints import ComplaintReceived
from .intake import RequestSubmitted, RequestWithdrawn
from .scheduling import AudienceScheduled
from .sla import ClockDue, SLABreached, SLAWarning

EVENTS: tuple[type[Event], ...] = (
    RequestSubmitted,
    RequestWithdrawn,
    AudienceScheduled,
    ComplaintReceived,
    SLAWarning,
    SLABreached,
    ClockDue,
)
BY_TYPE: dict[str, type[Event]] = {event.event_type(): event for event in EVENTS}


class UnknownEventTypeError(LookupError):
    """A CloudEvents type that is not in the catalogue."""


def event_class(event_type: str) -> type[Event]:
    try:
        return BY_TYPE[event_type]
    except KeyError:
        raise UnknownEventTypeError(f"ce-type {event_type!r} is not in the catalogue") from None
