"""Errors of the working calendar. Every one names the problem; file errors also name file/line."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class CalendarError(Exception):
    """Base class of every calendar and SLA-clock error."""


class NaiveDatetimeError(CalendarError, ValueError):
    """An instant without a time zone: the calendar refuses to guess one."""

    def __init__(self, what: str, value: object) -> None:
        super().__init__(
            f"{what} {value!s} has no time zone offset; give an aware instant "
            "such as 2026-03-02T09:00:00+07:00"
        )


class UnknownClockError(CalendarError, LookupError):
    """A clock name the SLA policy does not define."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.known = tuple(sorted(known))
        super().__init__(f"unknown clock {name!r}; known clocks: {', '.join(self.known)}")

    def __str__(self) -> str:  # LookupError would quote the message
        return str(self.args[0])


class OverrideFileError(CalendarError):
    """The override file is unreadable or wrong; the calendar refuses to count with it."""

    def __init__(self, path: Path | str, problem: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {problem}")


class SettingsError(CalendarError):
    """A configuration value (environment variable, clock duration) is malformed."""


class ClockStateError(CalendarError):
    """A pause/resume that does not fit the clock's state (e.g. resuming a running clock)."""


class CalendarRangeError(CalendarError):
    """The computation runs past the years the calendar can compile."""
