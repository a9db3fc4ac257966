"""Compiled working time of a range of years: sorted tables searched with bisect.

Instants are epoch microseconds (UTC). W(t) is the working time (µs) from the start of the table
to t; D(t) counts working days, each day's fraction weighted by its own working time. Both are
only meaningful inside one table object, which is why callers compute within a single table.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from fractions import Fraction
from itertools import accumulate

WorkingDay = tuple[int, tuple[tuple[int, int], ...]]  # (date ordinal, ((start_us, end_us), ...))


class Beyond(Exception):  # noqa: N818 - internal control flow, not an error
    """The computation needs time past the end of this table; compile a longer one."""


class Table:
    """Working periods of the years [first_year, last_year] in cumulative form."""

    __slots__ = (
        "first_year",
        "last_year",
        "end_us",
        "p_start",
        "p_end",
        "p_cum_end",
        "p_day",
        "d_ord",
        "d_cum_start",
        "d_len",
        "d_end_us",
    )

    def __init__(self, first_year: int, last_year: int, end_us: int, days: Iterable[WorkingDay]):
        self.first_year, self.last_year, self.end_us = first_year, last_year, end_us
        self.p_start: list[int] = []
        self.p_end: list[int] = []
        self.p_day: list[int] = []
        self.d_ord: list[int] = []
        self.d_end_us: list[int] = []
        self.d_len: list[int] = []
        for index, (ordinal, periods) in enumerate(days):
            self.d_ord.append(ordinal)
            self.d_end_us.append(periods[-1][1])
            self.d_len.append(sum(e - s for s, e in periods))
            for s, e in periods:
                self.p_start.append(s)
                self.p_end.append(e)
                self.p_day.append(index)
        self.p_cum_end = list(accumulate(e - s for s, e in zip(self.p_start, self.p_end, strict=True)))
        self.d_cum_start = [0, *accumulate(self.d_len)][:-1]

    def covers(self, first_year: int, last_year: int) -> bool:
        return self.first_year <= first_year and last_year <= self.last_year

    def _check(self, us: int) -> None:
        if us >= self.end_us:
            raise Beyond

    def is_working(self, us: int) -> bool:
        self._check(us)
        i = bisect_right(self.p_start, us) - 1
        return i >= 0 and us < self.p_end[i]

    def next_period(self, us: int) -> tuple[int, int]:
        """(period index, instant): `us` itself if working, else the next period's start."""
        self._check(us)
        i = bisect_right(self.p_start, us) - 1
        if i >= 0 and us < self.p_end[i]:
            return i, us
        if i + 1 >= len(self.p_start):
            raise Beyond
        return i + 1, self.p_start[i + 1]

    def w(self, us: int) -> int:
        """Working µs from the table start to `us`."""
        self._check(us)
        i = bisect_right(self.p_start, us) - 1
        if i < 0:
            return 0
        end = self.p_end[i]
        return self.p_cum_end[i] - (end - us if us < end else 0)

    def w_inv(self, w: int) -> int:
        """The earliest instant with W = w (w > 0): a working instant or a period's end."""
        j = bisect_left(self.p_cum_end, w)
        if j >= len(self.p_cum_end):
            raise Beyond
        return self.p_end[j] - (self.p_cum_end[j] - w)

    def add(self, us: int, dur: int) -> int:
        """`dur` working µs after `us` (dur = 0: the next working instant)."""
        if dur <= 0:
            return self.next_period(us)[1]
        return self.w_inv(self.w(us) + dur)

    def day_of(self, us: int) -> int:
        """Index of the working day in which the clock started at `us` runs."""
        return self.p_day[self.next_period(us)[0]]

    def end_of_day(self, index: int) -> int:
        if index >= len(self.d_end_us):
            raise Beyond
        return self.d_end_us[index]

    def d(self, us: int) -> Fraction:
        """Working days from the table start to `us`, partial days weighted by working time."""
        w = self.w(us)
        j = max(bisect_right(self.d_cum_start, w) - 1, 0)
        return j + Fraction(w - self.d_cum_start[j], self.d_len[j])

    def d_to_w(self, d: Fraction) -> int:
        """The W (rounded up to a µs) at which D = d."""
        j = int(d)  # floor, d >= 0
        if j >= len(self.d_len):
            raise Beyond
        part = (d - j) * self.d_len[j]
        return self.d_cum_start[j] - (-part.numerator // part.denominator)
