"""A calendar revised while the services run: the override file, then day changes decided later
(a cuti bersama added by an administrator in the console), in order.

The override file stays the base (deployed with the services, versioned, checked at start-up).
Revisions made afterwards are day changes of the same kinds as its ``[[day]]`` entries — add,
remove, move — each with its decree; they are recorded as events by scheduling
(``WorkingDayRevised``) and every owner of clocks applies them on top of the file. A later change
of a date wins over the file's and over an earlier revision's. The calendar's revision label
names both: ``overrides.toml v2026.1 + revisi 2``, so the fingerprint changes with every
revision and the owners of clocks move their open deadlines (``serambi_kit.revisions``).

``LiveCalendar`` is the calendar every part of a service holds: revising it replaces the
calendar inside, so the rules, the clock keeper and the read side all count with the new one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Literal

from serambi_calendar.calendar import WorkingCalendar
from serambi_calendar.days import DayChange, combined_source
from serambi_calendar.overrides import Overrides, load_overrides
from serambi_calendar.settings import ENV_OVERRIDES

Action = Literal["add", "remove", "move"]


class RevisionError(ValueError):
    """A day change that cannot be made, named by ``field`` and ``rule``."""

    def __init__(self, field: str, rule: str, message: str) -> None:
        super().__init__(message)
        self.field, self.rule, self.message = field, rule, message


def revision_change(
    number: int, action: Action, day: date, name: str | None, decree: str, to: date | None = None
) -> DayChange:
    """Revision ``number`` (1, 2, …) as a day change, its reference naming the decree and it."""
    return DayChange(action, day, (name or "").strip(), f"{decree.strip()} [revisi {number}]", to)


def revised(
    overrides: Overrides, revisions: Sequence[DayChange], years: Iterable[int] = ()
) -> WorkingCalendar:
    """The override file's calendar with ``revisions`` applied after its own day changes."""
    label = f"{Path(overrides.path).name} v{overrides.version}"
    if revisions:
        label += f" + revisi {len(revisions)}"
    calendar = WorkingCalendar(
        combined_source((*overrides.changes, *revisions)),
        overrides.profiles,
        overrides.profile_periods,
        revision=label,
    )
    calendar.precompile(years)
    return calendar


def check_change(
    calendar: WorkingCalendar,
    action: Action,
    day: date,
    name: str | None,
    decree: str,
    to: date | None = None,
) -> None:
    """Refuse a change that would mean nothing or something else than asked (RevisionError)."""
    if not decree.strip():
        raise RevisionError("decree", "missing", "decree: name the decision this change comes from")
    if action == "add" and not (name or "").strip():
        raise RevisionError("name", "missing", "name: a holiday or cuti bersama needs its name")
    off = {entry.date for entry in calendar.non_working_days(day.year)}
    if action in ("remove", "move") and day not in off:
        raise RevisionError("date", "not_a_holiday", f"{day} is not a holiday or cuti bersama")
    if action == "move":
        if to is None:
            raise RevisionError("to", "missing", "to: the day the holiday moves to")
        if to == day:
            raise RevisionError("to", "same_day", "to: the same day as date")
        if not calendar.working_periods(to):
            raise RevisionError("to", "not_a_working_day", f"{to} is not a working day")
    elif to is not None:
        raise RevisionError("to", "only_for_move", "to: only a move has a day to move to")
    if action == "add" and day.weekday() >= 5:
        raise RevisionError("date", "weekend", f"{day} is a weekend day, not a working day already")


class LiveCalendar:
    """The override file's calendar with the revisions known so far; ``revise`` swaps in a new
    one. Everything else is the current ``WorkingCalendar``'s (its methods and attributes)."""

    def __init__(self, overrides: Overrides, years: Iterable[int] = ()) -> None:
        self.overrides = overrides
        self.years = tuple(years)
        self.revisions: tuple[DayChange, ...] = ()
        self.current = revised(overrides, (), self.years)

    def revise(self, revisions: Iterable[Any]) -> None:
        """Count with the file and these revisions from now on: all of them, each a record with
        ``revision``, ``action``, ``day``, ``to``, ``holiday_name`` and ``decree`` (the event
        ``WorkingDayRevised``), applied in the order of their numbers."""
        changes = tuple(
            revision_change(r.revision, r.action, r.day, r.holiday_name, r.decree, r.to)
            for r in sorted(revisions, key=lambda r: r.revision)
        )
        calendar = revised(self.overrides, changes, self.years)
        self.revisions = changes
        self.current = calendar

    def __getattr__(self, name: str) -> Any:
        return getattr(self.current, name)


def live_calendar_from_env(env: Mapping[str, str] | None = None, years: Iterable[int] = ()) -> LiveCalendar:
    """The live calendar on the override file of SERAMBI_CALENDAR_OVERRIDES (default: the
    packaged one); raises OverrideFileError as ``calendar_from_env`` does."""
    import os

    env = os.environ if env is None else env
    return LiveCalendar(load_overrides(env.get(ENV_OVERRIDES) or None), years)
