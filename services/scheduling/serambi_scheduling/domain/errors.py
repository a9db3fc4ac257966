"""What scheduling refuses, and why. The HTTP layer maps each to a status code."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .bookings import Booking


class SchedulingError(Exception):
    """Base of scheduling's refusals."""


class StateError(SchedulingError):
    """A command the audience's (or resource's) current state does not allow (HTTP 409)."""


class AudienceDayError(StateError):
    """Held or no-show recorded before the audience's day (HTTP 409, ``rule``
    ``before_audience_day``); ``day`` is the audience's WIB day."""

    def __init__(self, rule: str, message: str, day: object) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.day = day


class NotFoundError(SchedulingError):
    """No such audience, room or host (HTTP 404)."""


class ResourceExistsError(SchedulingError):
    """A room, host or leave with that id exists already (HTTP 409)."""


class SlotRuleError(SchedulingError):
    """A slot that breaks a booking rule (HTTP 422), named by ``rule``."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


class SlotTakenError(SchedulingError):
    """The room or host is booked at an overlapping time (HTTP 409).

    ``bookings`` are the resource-day's active bookings as the store has them, so an automatic
    search can learn them and try the next slot.
    """

    def __init__(
        self,
        rule: str,
        message: str,
        key: tuple[str, str, object] | None = None,
        bookings: tuple[Booking, ...] = (),
    ) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.key = key
        self.bookings = bookings
