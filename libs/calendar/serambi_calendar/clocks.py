"""SLA clocks: a start, a named duration, pauses. Deadlines and warnings come from a calendar.

A paused clock does not count: working time between a pause and its resume is added to the
deadline. An hours clock measures that in working time; a days clock in working days (a pause of
two whole working days moves the deadline by two working days; part of a day counts as that part
of the day's working time). While paused the clock has no deadline unless it was already reached.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from serambi_calendar.calendar import WorkingCalendar
from serambi_calendar.errors import ClockStateError
from serambi_calendar.instants import from_us, to_us
from serambi_calendar.policy import ClockKind, ClockSpec, SlaPolicy
from serambi_calendar.timeline import Table

_HOUR_US = 3_600_000_000


def _utc(instant: datetime, what: str) -> datetime:
    to_us(instant, what)  # rejects naive datetimes
    return instant.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Pause:
    paused_at: datetime
    resumed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SlaWarning:
    percent: int
    at: datetime


@dataclass(frozen=True, slots=True)
class Clock:
    """An SLA clock. `started_at` is the event's instant (the clock itself starts at the next
    working instant). Instants are normalised to UTC."""

    name: str
    started_at: datetime
    pauses: tuple[Pause, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "started_at", _utc(self.started_at, "clock start"))
        pauses = tuple(
            Pause(_utc(p.paused_at, "pause"), None if p.resumed_at is None else _utc(p.resumed_at, "resume"))
            for p in self.pauses
        )
        last = self.started_at
        for i, p in enumerate(pauses):
            if p.paused_at < last or (p.resumed_at is not None and p.resumed_at < p.paused_at):
                raise ClockStateError(f"clock {self.name!r}: pauses must follow the start in order")
            if p.resumed_at is None and i != len(pauses) - 1:
                raise ClockStateError(f"clock {self.name!r}: only the last pause may be open")
            last = p.resumed_at or p.paused_at
        object.__setattr__(self, "pauses", pauses)

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1].resumed_at is None

    def pause(self, at: datetime) -> Clock:
        if self.paused:
            raise ClockStateError(f"clock {self.name!r} is already paused")
        return replace(self, pauses=(*self.pauses, Pause(at)))

    def resume(self, at: datetime) -> Clock:
        if not self.paused:
            raise ClockStateError(f"clock {self.name!r} is not paused")
        return replace(self, pauses=(*self.pauses[:-1], Pause(self.pauses[-1].paused_at, at)))

    def reclassify(self, name: str, policy: SlaPolicy) -> Clock:
        """The same clock (start and pauses kept) under another name, e.g. a new complaint tier."""
        policy.spec(name)
        return replace(self, name=name)

    def deadline(self, calendar: WorkingCalendar, policy: SlaPolicy) -> datetime | None:
        """When the clock runs out; None while paused before running out."""
        spec = policy.spec(self.name)
        if not self.pauses:  # the hot path
            if spec.kind is ClockKind.HOURS:
                return calendar.add_working_time(self.started_at, timedelta(hours=spec.amount))
            return calendar.add_working_days(self.started_at, spec.amount)
        return self._instant_at(calendar, spec, Fraction(1))

    def warning_instants(self, calendar: WorkingCalendar, policy: SlaPolicy) -> tuple[SlaWarning, ...]:
        """When each warning threshold of the policy is reached (those known while paused)."""
        spec = policy.spec(self.name)
        out = []
        for percent in policy.warnings:
            at = self._instant_at(calendar, spec, Fraction(percent, 100))
            if at is not None:
                out.append(SlaWarning(percent, at))
        return tuple(out)

    def elapsed(self, calendar: WorkingCalendar, at: datetime) -> timedelta:
        """Working time the clock has counted by `at` (paused time excluded)."""
        end = to_us(at, "at")

        def compute(t: Table) -> int:
            total = 0
            for a, b in self._segments():
                b = end if b is None else min(b, end)
                if b > a:
                    total += t.w(b) - t.w(a)
            return total

        return timedelta(microseconds=calendar.run(to_us(self.started_at), compute))

    def _segments(self) -> list[tuple[int, int | None]]:
        """The running stretches [from, to) of the clock in epoch µs; to=None: still running."""
        out: list[tuple[int, int | None]] = []
        cursor = to_us(self.started_at)
        for p in self.pauses:
            out.append((cursor, to_us(p.paused_at)))
            if p.resumed_at is None:
                return out
            cursor = to_us(p.resumed_at)
        out.append((cursor, None))
        return out

    def _instant_at(self, calendar: WorkingCalendar, spec: ClockSpec, share: Fraction) -> datetime | None:
        """When the clock has counted `share` of its duration; None if paused before that."""
        hours = spec.kind is ClockKind.HOURS
        granule = 1 if share == 1 else 1_000_000  # warnings fall on whole seconds

        def compute(t: Table) -> int | None:
            pos = t.w if hours else t.d
            if hours:
                left = share * spec.amount * _HOUR_US
            else:
                start = to_us(self.started_at)
                left = share * (t.day_of(start) + 1 + spec.amount - t.d(start))
            for a, b in self._segments():
                if b is None or left <= pos(b) - pos(a):
                    target = pos(a) + left
                    w = _ceil(target) if hours else t.d_to_w(target)
                    return t.w_inv(-(-w // granule) * granule)
                left -= pos(b) - pos(a)
            return None

        found = calendar.run(to_us(self.started_at), compute)
        return None if found is None else from_us(found)


def _ceil(value: Fraction) -> int:
    return -(-value.numerator // value.denominator)
