"""Every public event type, by its CloudEvents type."""

from __future__ import annotations

from .audit import PersonalDataAccessed, PersonalDataErased
from .base import Event
from .complaints import COMPLAINT_EVENTS
from .intake import (
    GuestRegistered,
    RequestLinkRequested,
    RequestSubmitted,
    RequestSubmittedV1,
    RequestWithdrawn,
)
from .notifier import NotificationFailed, NotificationFailedV1, NotificationSent, NotificationSentV1
from .scheduling import (
    AUDIENCE_EVENTS,
    BOOKING_EVENTS,
    CALENDAR_EVENTS,
    DAYLIST_EVENTS,
    RESOURCE_EVENTS,
    AudienceRequestedV1,
)
from .sla import ClockDue, SLABreached, SLAWarning
from .survey import SURVEY_EVENTS

EVENTS: tuple[type[Event], ...] = (
    GuestRegistered,
    RequestSubmitted,
    RequestWithdrawn,
    RequestLinkRequested,
    *SURVEY_EVENTS,
    *AUDIENCE_EVENTS,
    *RESOURCE_EVENTS,
    *BOOKING_EVENTS,
    *CALENDAR_EVENTS,
    *DAYLIST_EVENTS,
    *COMPLAINT_EVENTS,
    SLAWarning,
    SLABreached,
    ClockDue,
    NotificationSent,
    NotificationFailed,
    NotificationSentV1,  # read only: the events recorded before version 2
    NotificationFailedV1,
    RequestSubmittedV1,  # read only: requests and audiences recorded before their version 2
    AudienceRequestedV1,
    PersonalDataAccessed,
    PersonalDataErased,
)
BY_TYPE: dict[str, type[Event]] = {event.event_type(): event for event in EVENTS}


class UnknownEventTypeError(LookupError):
    """A CloudEvents type that is not in the catalogue."""


def event_class(event_type: str) -> type[Event]:
    try:
        return BY_TYPE[event_type]
    except KeyError:
        raise UnknownEventTypeError(f"ce-type {event_type!r} is not in the catalogue") from None
