"""Instants: aware datetimes <-> integer microseconds since the Unix epoch (UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
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


def utc_now(*, whole_seconds: bool = False) -> datetime:
    """The current instant in UTC: the one clock production code reads (tests pass their own
    instants); ``whole_seconds`` drops the microseconds (complaints records whole seconds, so
    that deadlines and their timers are whole seconds too)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=0) if whole_seconds else now


def local(instant: datetime) -> datetime:
    """The same instant in WIB (Asia/Pontianak), for display."""
    return instant.astimezone(WIB)


def in_wib(value: Any) -> Any:
    """Every instant in ``value`` (a datetime, or the dicts and lists of an API answer holding
    them) in WIB (+07:00), recursively; a naive datetime is read as UTC (MongoDB's)."""
    if isinstance(value, datetime):
        return local(value if value.tzinfo else value.replace(tzinfo=UTC))
    if isinstance(value, dict):
        return {key: in_wib(item) for key, item in value.items()}
    if isinstance(value, list):
        return [in_wib(item) for item in value]
    return value


def local_year(us: int) -> int:
    return from_us(us).astimezone(WIB).year


def local_day_us(day: date, seconds: int) -> int:
    """Epoch microseconds of `seconds` after local midnight on `day`."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=WIB)
    return to_us(midnight) + seconds * 1_000_000
