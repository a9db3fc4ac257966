"""SLA policy: named clocks with durations in working hours or working days, and warning thresholds."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from serambi_calendar.errors import SettingsError, UnknownClockError


class ClockKind(StrEnum):
    HOURS = "hours"
    DAYS = "days"


_DURATION = re.compile(r"^\s*(\d+)\s*(h|d)\s*$")


@dataclass(frozen=True, slots=True)
class ClockSpec:
    """A named clock: `amount` working hours or working days."""

    name: str
    kind: ClockKind
    amount: int

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool) or self.amount < 1:
            raise SettingsError(f"clock {self.name!r}: amount must be a whole number >= 1")

    @classmethod
    def parse(cls, name: str, text: object) -> ClockSpec:
        """`"3h"` = 3 working hours, `"5d"` = 5 working days."""
        match = _DURATION.match(text) if isinstance(text, str) else None
        if match is None:
            raise SettingsError(
                f"clock {name!r}: duration {text!r} is not like '3h' (working hours) or '5d' (working days)"
            )
        kind = ClockKind.HOURS if match.group(2) == "h" else ClockKind.DAYS
        return cls(name, kind, int(match.group(1)))

    def __str__(self) -> str:
        return f"{self.amount} working {self.kind.value}"


DEFAULT_CLOCKS: dict[str, str] = {
    "audience_answer": "3d",
    "triage": "3h",  # a complaint waiting to be classified (then its tier's clock takes over)
    "ringan": "3h",
    "normatif": "5d",
    "tidak_berkadar_pengawasan": "14d",
    "berkadar_pengawasan": "60d",
}
DEFAULT_WARNINGS: tuple[int, ...] = (50, 75, 90)


def _validate_warnings(warnings: Iterable[int]) -> tuple[int, ...]:
    out = tuple(sorted(set(warnings)))
    if any(not isinstance(p, int) or isinstance(p, bool) or not 0 < p < 100 for p in out):
        raise SettingsError(f"warning thresholds must be whole percentages in 1..99, got {out}")
    return out


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """The named clocks and the warning thresholds (percent of each clock's working time)."""

    clocks: Mapping[str, ClockSpec] = field(
        default_factory=lambda: {n: ClockSpec.parse(n, t) for n, t in DEFAULT_CLOCKS.items()}
    )
    warnings: tuple[int, ...] = DEFAULT_WARNINGS

    def __post_init__(self) -> None:
        object.__setattr__(self, "warnings", _validate_warnings(self.warnings))

    @classmethod
    def from_mapping(
        cls,
        durations: Mapping[str, object],
        warnings: Iterable[int] = DEFAULT_WARNINGS,
        *,
        keep_defaults: bool = True,
    ) -> SlaPolicy:
        """Clocks from `{"ringan": "3h", "normatif": "5d"}`, on top of the defaults unless told."""
        texts = {**(DEFAULT_CLOCKS if keep_defaults else {}), **durations}
        return cls({n: ClockSpec.parse(n, t) for n, t in texts.items()}, tuple(warnings))

    def spec(self, name: str) -> ClockSpec:
        try:
            return self.clocks[name]
        except KeyError:
            raise UnknownClockError(name, self.clocks) from None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.clocks)
