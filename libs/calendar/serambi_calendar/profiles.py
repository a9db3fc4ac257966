"""Working-time profiles: the working periods of each weekday, breaks excluded."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

Span = tuple[int, int]  # seconds after local midnight, [start, end)


def parse_span(text: str) -> Span:
    """`"07:30-12:00"` -> (27000, 43200). Raises ValueError naming the problem."""
    match = _SPAN.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"working period {text!r} is not of the form 'HH:MM-HH:MM'")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if m1 > 59 or m2 > 59 or h1 > 23 or h2 > 24 or (h2 == 24 and m2):
        raise ValueError(f"working period {text!r} has an impossible time")
    start, end = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60
    if start >= end:
        raise ValueError(f"working period {text!r} ends before it starts")
    return start, end


def _fmt(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


@dataclass(frozen=True, slots=True)
class WorkingProfile:
    """Working periods per weekday (index 0 = Monday); time outside them (breaks) is not worked."""

    name: str
    week: tuple[tuple[Span, ...], ...]

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise ValueError(f"profile {self.name!r}: needs 7 weekdays, got {len(self.week)}")
        for weekday, spans in zip(WEEKDAYS, self.week, strict=True):
            for (s1, e1), (s2, _) in zip(spans, spans[1:], strict=False):
                if s2 < e1 or s1 >= e1:
                    raise ValueError(f"profile {self.name!r}: {weekday} periods overlap or are out of order")
        if not any(self.week):
            raise ValueError(f"profile {self.name!r} has no working time at all")

    @classmethod
    def from_texts(cls, name: str, days: dict[str, list[str]]) -> WorkingProfile:
        """Build from `{"mon": ["07:30-12:00", "13:00-16:00"], ...}`; absent days are off."""
        unknown = set(days) - set(WEEKDAYS)
        if unknown:
            raise ValueError(f"profile {name!r}: unknown weekday(s) {sorted(unknown)}")
        week = []
        for wd in WEEKDAYS:
            texts = days.get(wd, [])
            if not isinstance(texts, list):
                raise ValueError(f"profile {name!r}: {wd} must be a list of 'HH:MM-HH:MM'")
            week.append(_merge(sorted(parse_span(t) for t in texts)))
        return cls(name, tuple(week))

    def spans(self, day: date) -> tuple[Span, ...]:
        return self.week[day.weekday()]

    def weekly_seconds(self) -> int:
        return sum(e - s for spans in self.week for s, e in spans)

    def describe(self) -> str:
        parts = []
        for wd, spans in zip(WEEKDAYS, self.week, strict=True):
            if spans:
                parts.append(f"{wd} " + ",".join(f"{_fmt(s)}-{_fmt(e)}" for s, e in spans))
        return f"{self.name}: " + "; ".join(parts)


def _merge(spans: list[Span]) -> tuple[Span, ...]:
    """Joins touching periods ("08:00-12:00", "12:00-13:00"); overlaps are left for validation."""
    out: list[Span] = []
    for s, e in spans:
        if out and out[-1][1] == s:
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return tuple(out)


_MON_THU = ["07:30-12:00", "13:00-16:00"]
_RAMADAN_MON_THU = ["08:00-12:00", "12:30-15:00"]

#: Perpres 21/2023, five-day week: 37.5 h net of breaks.
STANDARD = WorkingProfile.from_texts(
    "standard",
    {
        "mon": _MON_THU,
        "tue": _MON_THU,
        "wed": _MON_THU,
        "thu": _MON_THU,
        "fri": ["07:30-11:30", "13:00-16:30"],
    },
)
#: Ramadan, five-day week: 32.5 h net of breaks.
RAMADAN = WorkingProfile.from_texts(
    "ramadan",
    {
        "mon": _RAMADAN_MON_THU,
        "tue": _RAMADAN_MON_THU,
        "wed": _RAMADAN_MON_THU,
        "thu": _RAMADAN_MON_THU,
        "fri": ["08:00-11:30", "12:30-15:30"],
    },
)
DEFAULT_PROFILES = {STANDARD.name: STANDARD, RAMADAN.name: RAMADAN}


@dataclass(frozen=True, slots=True)
class ProfilePeriod:
    """A dated range (inclusive) in which `profile` replaces the standard profile."""

    profile: str
    first: date
    last: date
    reference: str = ""

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last
