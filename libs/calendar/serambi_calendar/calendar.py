"""WorkingCalendar: is-working, next working instant and working-time arithmetic.

Semantics (see docs/calendar.md):
- Working time is the union of the profile's working periods on working days; breaks, weekends
  and non-working days are not working time. Periods are half-open: 16:00 is not working time
  on a day that ends at 16:00, but a deadline may fall exactly on 16:00 (the period's end).
- A clock starts at its event's instant if that is working time, else at the next working instant.
- N working hours end after N hours of working time counted from the start.
- N working days end at the end of working time on the Nth working day after the start day (the
  day the clock starts, itself not counted).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import TypeVar

from serambi_calendar.days import DayEntry, DaySource
from serambi_calendar.errors import CalendarRangeError
from serambi_calendar.instants import from_us, local_day_us, local_year, to_us
from serambi_calendar.profiles import DEFAULT_PROFILES, ProfilePeriod, WorkingProfile
from serambi_calendar.timeline import Beyond, Table, WorkingDay

T = TypeVar("T")
_US = timedelta(microseconds=1)
MAX_YEARS = 50  # a computation spanning more years than this is refused, not looped forever
_ONE_DAY = timedelta(days=1)


class WorkingCalendar:
    """The bureau's working time. Immutable in meaning; compiles year tables lazily and caches them."""

    def __init__(
        self,
        days: DaySource,
        profiles: Mapping[str, WorkingProfile] = DEFAULT_PROFILES,
        profile_periods: Sequence[ProfilePeriod] = (),
        revision: str = "",
    ) -> None:
        self._days = days
        self.profiles = dict(profiles)
        self.standard = self.profiles["standard"]
        self.profile_periods = tuple(sorted(profile_periods, key=lambda p: p.first))
        self.revision = revision
        self._years: dict[int, tuple[WorkingDay, ...]] = {}
        self._entries: dict[int, tuple[DayEntry, ...]] = {}
        self._off_days: dict[int, frozenset[date]] = {}
        self._table: Table | None = None
        self._lock = threading.Lock()

    # -- days -------------------------------------------------------------------------------
    def days(self, year: int) -> tuple[DayEntry, ...]:
        """Every day the sources mention in `year` (non-working, or made working by an override)."""
        if year not in self._entries:
            self._entries[year] = tuple(sorted(self._days(year), key=lambda e: e.date))
        return self._entries[year]

    def non_working_days(self, year: int) -> tuple[DayEntry, ...]:
        return tuple(e for e in self.days(year) if e.non_working)

    def profile_for(self, day: date) -> WorkingProfile:
        for period in self.profile_periods:
            if period.covers(day):
                return self.profiles[period.profile]
        return self.standard

    def working_periods(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The working periods of a local date as UTC instants (empty on a non-working day)."""
        return tuple((from_us(s), from_us(e)) for s, e in self._day_periods(day))

    def _day_periods(self, day: date) -> tuple[tuple[int, int], ...]:
        if day in self._off(day.year):
            return ()
        spans = self.profile_for(day).spans(day)
        return tuple((local_day_us(day, s), local_day_us(day, e)) for s, e in spans)

    def _off(self, year: int) -> frozenset[date]:
        if year not in self._off_days:
            self._off_days[year] = frozenset(e.date for e in self.non_working_days(year))
        return self._off_days[year]

    # -- compiled tables --------------------------------------------------------------------
    def _year(self, year: int) -> tuple[WorkingDay, ...]:
        """The working days of a year with their periods (a per-day loop, run once per year)."""
        if year not in self._years:
            out, day = [], date(year, 1, 1)
            while day.year == year:
                periods = self._day_periods(day)
                if periods:
                    out.append((day.toordinal(), periods))
                day += _ONE_DAY
            self._years[year] = tuple(out)
        return self._years[year]

    def _table_for(self, first: int, last: int) -> Table:
        table = self._table
        if table is not None and table.covers(first, last):
            return table
        if last - first > MAX_YEARS:
            raise CalendarRangeError(f"computation spans more than {MAX_YEARS} years ({first}..{last})")
        with self._lock:
            if table is not None:  # grow the cached table unless that makes it too long
                lo, hi = min(first, table.first_year), max(last, table.last_year)
                if hi - lo <= MAX_YEARS:
                    first, last = lo, hi
            days = [d for year in range(first, last + 1) for d in self._year(year)]
            end_us = local_day_us(date(last + 1, 1, 1), 0)
            self._table = Table(first, last, end_us, days)
            return self._table

    def run(self, first_us: int, compute: Callable[[Table], T]) -> T:
        """Runs `compute` on a table from the year of `first_us`, lengthening it as needed."""
        first = local_year(first_us)
        span = 1
        while True:
            try:
                return compute(self._table_for(first, first + span))
            except Beyond:
                span *= 2

    def precompile(self, years: Iterable[int]) -> None:
        """Compiles the given years now (e.g. at start-up, to fail fast)."""
        years = list(years)
        if years:
            self._table_for(min(years), max(years))

    # -- public arithmetic ------------------------------------------------------------------
    def is_working(self, instant: datetime) -> bool:
        us = to_us(instant)
        return self.run(us, lambda t: t.is_working(us))

    def next_working_instant(self, instant: datetime) -> datetime:
        """`instant` itself if it is working time, else the start of the next working period."""
        us = to_us(instant)
        return from_us(self.run(us, lambda t: t.next_period(us)[1]))

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """The instant `duration` of working time after the clock start (see module docstring)."""
        us, dur = to_us(start, "start"), _non_negative(duration) // _US
        return from_us(self.run(us, lambda t: t.add(us, dur)))

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        return self.add_working_time(start, timedelta(hours=hours))

    def add_working_days(self, start: datetime, n: int) -> datetime:
        """End of working time on the nth working day after the day the clock starts."""
        if n < 0:
            raise ValueError(f"working days must be >= 0, got {n}")
        us = to_us(start, "start")
        return from_us(self.run(us, lambda t: t.end_of_day(t.day_of(us) + n)))

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time from a to b (negative if b is before a)."""
        ua, ub = to_us(a, "from"), to_us(b, "to")
        lo, hi = min(ua, ub), max(ua, ub)
        elapsed = self.run(lo, lambda t: t.w(hi) - t.w(lo))
        return timedelta(microseconds=elapsed if ub >= ua else -elapsed)


def _non_negative(duration: timedelta) -> timedelta:
    if not isinstance(duration, timedelta) or duration < timedelta(0):
        raise ValueError(f"working time must be a non-negative timedelta, got {duration!r}")
    return duration
