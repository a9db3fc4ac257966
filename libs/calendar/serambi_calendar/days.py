"""Non-working days: the `holidays` package (ID, public + government) with the override file on top."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from datetime import date as Date  # for annotations after a field named `date` shadows the type
from functools import lru_cache
from typing import Literal

Source = Literal["package", "override"]


@dataclass(frozen=True, slots=True)
class DayEntry:
    """A day a source speaks about. `non_working=False` means an override made it a working day."""

    date: date
    name: str
    source: Source
    reference: str
    non_working: bool = True


@dataclass(frozen=True, slots=True)
class DayChange:
    """One entry of the override file: add, remove or move (from `date` to `to`) a day."""

    action: Literal["add", "remove", "move"]
    date: date
    name: str
    reference: str
    to: Date | None = None


DaySource = Callable[[int], Iterable[DayEntry]]

_CATEGORIES = {"public": "libur nasional", "government": "cuti bersama"}


@lru_cache(maxsize=64)
def package_days(year: int) -> tuple[DayEntry, ...]:
    """National holidays and cuti bersama of `year` as the `holidays` package knows them."""
    import holidays
    from holidays.version import __version__ as holidays_version

    out: dict[date, DayEntry] = {}
    for category, label in _CATEGORIES.items():
        found = holidays.country_holidays("ID", years=year, categories=(category,), language="id")
        for day, name in found.items():
            ref = f"holidays {holidays_version} ({label})"
            if day in out:  # both categories on one day: keep both names
                name = f"{out[day].name}; {name}"
                ref = f"{out[day].reference}; {label}"
            out[day] = DayEntry(day, name, "package", ref)
    return tuple(sorted(out.values(), key=lambda e: e.date))


def apply_changes(base: Iterable[DayEntry], changes: Iterable[DayChange], year: int) -> dict[date, DayEntry]:
    """The days of `year` after the override entries, which win over the package."""
    days = {e.date: e for e in base}
    for change in changes:
        old = days.get(change.date) if change.date.year == year else None
        if change.action == "add" and change.date.year == year:
            days[change.date] = DayEntry(change.date, change.name, "override", change.reference)
        if change.action in ("remove", "move") and change.date.year == year:
            name = old.name if old else change.name
            days[change.date] = DayEntry(change.date, name, "override", change.reference, False)
        if change.action == "move" and change.to is not None and change.to.year == year:
            name = change.name or (old.name if old else f"dipindah dari {change.date}")
            days[change.to] = DayEntry(change.to, name, "override", change.reference)
    return days


def combined_source(changes: tuple[DayChange, ...], package: DaySource = package_days) -> DaySource:
    """A day source: the package's days of a year, then the override entries."""

    def days_of(year: int) -> Iterable[DayEntry]:
        return apply_changes(package(year), changes, year).values()

    return days_of


def fixed_source(entries: Mapping[date, str], reference: str = "fixed") -> DaySource:
    """A day source from a plain mapping (tests, tools)."""

    def days_of(year: int) -> Iterable[DayEntry]:
        return [DayEntry(d, n, "override", reference) for d, n in entries.items() if d.year == year]

    return days_of
