"""Benchmark: SLA deadline computations per second, library vs a naive loop, in the same run.

    .venv/bin/python bench/calendar_bench.py [--quick]

Hour clocks (ringan, 3 working hours) against a minute-by-minute loop; 60-working-day clocks
(berkadar_pengawasan) against a day-by-day loop. Both naive loops read the same per-day working
periods, precomputed outside the timing, and must agree with the library on every start.
Goals (issue #3): < 20 µs per hour-clock deadline, < 50 µs per 60-day deadline.
Exits 1 if the library is slower than the naive loop (or disagrees with it).
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from serambi_calendar import WIB, Clock, SlaPolicy, WorkingCalendar, load_calendar

GOALS_US = {"hours": 20.0, "days": 50.0}
MINUTE = timedelta(minutes=1)


def starts(count: int, seed: int = 3) -> list[datetime]:
    """Whole-minute instants spread over 2026, working time or not."""
    rng = random.Random(seed)
    origin = datetime(2026, 1, 1, tzinfo=UTC)
    return [origin + timedelta(minutes=rng.randrange(365 * 24 * 60)) for _ in range(count)]


class Naive:
    """The obvious implementation: look at every minute (hours) or every day (days)."""

    def __init__(self, calendar: WorkingCalendar) -> None:
        self.periods: dict[date, tuple[tuple[datetime, datetime], ...]] = {}
        day = date(2025, 12, 1)
        while day < date(2028, 1, 1):
            self.periods[day] = calendar.working_periods(day)
            day += timedelta(days=1)

    def is_working(self, instant: datetime) -> bool:
        day = instant.astimezone(WIB).date()
        return any(s <= instant < e for s, e in self.periods[day])

    def add_hours(self, start: datetime, hours: int) -> datetime:
        t, left = start, hours * 60
        while not self.is_working(t):
            t += MINUTE
        while left:
            if self.is_working(t):
                left -= 1
                last = t
            t += MINUTE
        return last + MINUTE

    def add_days(self, start: datetime, n: int) -> datetime:
        day, counted, first = start.astimezone(WIB).date(), -1, True
        while True:
            periods = self.periods[day]
            if periods and (not first or periods[-1][1] > start):
                counted += 1
                if counted == n:
                    return periods[-1][1]
            first = False
            day += timedelta(days=1)


def per_call_us(fn: Callable[[datetime], object], inputs: list[datetime], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for start in inputs:
            fn(start)
        best = min(best, time.perf_counter() - t0)
    return best / len(inputs) * 1e6


def main(argv: list[str] | None = None) -> int:
    quick = "--quick" in (argv if argv is not None else sys.argv[1:])
    t0 = time.perf_counter()
    calendar = load_calendar()
    calendar.precompile([2026, 2027])
    compile_ms = (time.perf_counter() - t0) * 1e3
    policy = SlaPolicy()
    naive = Naive(calendar)
    many, few = starts(2_000 if quick else 50_000), starts(100 if quick else 1_000)

    cases = {
        "hours": ("ringan", lambda s: naive.add_hours(s, 3), "minute-by-minute"),
        "days": ("berkadar_pengawasan", lambda s: naive.add_days(s, 60), "day-by-day"),
    }
    ok = True
    print(f"calendar {calendar.revision}; compiling 2026-2027 + holidays: {compile_ms:.0f} ms")
    print(f"{'clock':<22}{'library µs':>12}{'naive µs':>12}{'speed-up':>10}{'goal µs':>9}  naive loop")
    for kind, (name, naive_fn, label) in cases.items():
        for start in few:  # the two must agree before their speed means anything
            expected = Clock(name, start).deadline(calendar, policy)
            if naive_fn(start) != expected:
                print(f"MISMATCH {name} from {start.isoformat()}: naive {naive_fn(start)} vs {expected}")
                ok = False
        lib = per_call_us(lambda s, name=name: Clock(name, s).deadline(calendar, policy), many)
        slow = per_call_us(naive_fn, few, repeat=1)
        goal = GOALS_US[kind]
        verdict = "ok" if lib < goal else "MISSED"
        print(f"{name:<22}{lib:>12.2f}{slow:>12.1f}{slow / lib:>9.0f}x{goal:>8.0f} {verdict:<6} {label}")
        print(f"{'':<22}{1e6 / lib:>12,.0f} deadlines/s (library)")
        ok = ok and lib < slow
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
