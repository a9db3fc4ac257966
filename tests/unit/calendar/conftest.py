"""Fixtures of the calendar tests: the packaged calendar, the default policy, a reference model."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from serambi_calendar import WIB, SlaPolicy, WorkingCalendar, load_calendar


@pytest.fixture(scope="session")
def calendar() -> WorkingCalendar:
    return load_calendar(years=range(2025, 2028))


@pytest.fixture(scope="session")
def policy() -> SlaPolicy:
    return SlaPolicy()


@pytest.fixture(scope="session")
def wib() -> Callable[[str], datetime]:
    """`wib("2026-01-05 09:00")` -> that wall-clock time in Asia/Pontianak."""
    return lambda text: datetime.fromisoformat(text).replace(tzinfo=WIB)


class Reference:
    """A slow, obviously-correct model: walks the working periods day by day."""

    def __init__(self, calendar: WorkingCalendar) -> None:
        self.calendar = calendar

    def periods_from(self, instant: datetime):
        day = instant.astimezone(WIB).date()
        while True:
            for start, end in self.calendar.working_periods(day):
                if end > instant:
                    yield day, max(start, instant), end
            day += timedelta(days=1)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        for _, s, e in self.periods_from(start):
            if duration == timedelta(0):
                return s
            if duration <= e - s:
                return s + duration
            duration -= e - s
        raise AssertionError("unreachable")

    def add_days(self, start: datetime, n: int) -> datetime:
        days: list[date] = []  # distinct working days, the start day first
        for day, _, _ in self.periods_from(start):
            if not days or days[-1] != day:
                days.append(day)
            if len(days) == n + 1:
                return self.calendar.working_periods(day)[-1][1]
        raise AssertionError("unreachable")

    def between(self, a: datetime, b: datetime) -> timedelta:
        total = timedelta(0)
        for _, s, e in self.periods_from(a):
            if s >= b:
                return total
            total += min(e, b) - s
        raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def reference(calendar: WorkingCalendar) -> Reference:
    return Reference(calendar)
