"""WIB helpers (instants are stored in UTC; days and wall-clock rules are WIB)."""

from __future__ import annotations

from datetime import date, datetime

from serambi_calendar import WIB
from serambi_calendar import local as wib  # the one converter: re-exported under the name scheduling uses

__all__ = ["at", "wib", "wib_day"]


def wib_day(instant: datetime) -> date:
    return instant.astimezone(WIB).date()


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A WIB wall-clock instant."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=WIB)
