"""Instants: aware datetimes <-> integer microseconds since the Unix epoch (UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from serambi_calendar.errors import NaiveDatetimeError

WIB = ZoneInfo("Asia/Pontianak")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def to_us(instant: datetime, what: str = "instant") -> int:
    """Microseconds since the epoch; rejects naive datetimes."""
    if not isinstance(instant, datetime):
        raise TypeError(f"{what} must be a datetime, not {type(instant).__name__}")
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise NaiveDatetimeError(what, instant.isoformat())
    return (instant - EPOCH) // _US


def from_us(us: int) -> datetime:
    """The UTC datetime of an epoch-microsecond value."""
    return EPOCH + timedelta(microseconds=us)


def local(instant: datetime) -> datetime:
    """The same instant in WIB (Asia/Pontianak), for display."""
    return instant.astimezone(WIB)


def local_year(us: int) -> int:
    return from_us(us).astimezone(WIB).year


def local_day_us(day: date, seconds: int) -> int:
    """Epoch microseconds of `seconds` after local midnight on `day`."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=WIB)
    return to_us(midnight) + seconds * 1_000_000
