"""serambi_calendar: the bureau's working calendar and SLA clock arithmetic (pure library).

Instants are timezone-aware datetimes; results are in UTC (show them with `local()` in WIB).
"""

from serambi_calendar.calendar import WorkingCalendar
from serambi_calendar.clocks import Clock, Pause, SlaWarning
from serambi_calendar.days import DayChange, DayEntry, fixed_source, package_days
from serambi_calendar.errors import (
    CalendarError,
    CalendarRangeError,
    ClockStateError,
    NaiveDatetimeError,
    OverrideFileError,
    SettingsError,
    UnknownClockError,
)
from serambi_calendar.instants import WIB, in_wib, local, utc_now
from serambi_calendar.live import (
    LiveCalendar,
    RevisionError,
    check_change,
    live_calendar_from_env,
    revised,
    revision_change,
)
from serambi_calendar.names import DAY_NAMES, MONTH_NAMES
from serambi_calendar.overrides import Overrides, default_override_path, load_overrides, parse_overrides
from serambi_calendar.policy import DEFAULT_CLOCKS, DEFAULT_WARNINGS, ClockKind, ClockSpec, SlaPolicy
from serambi_calendar.profiles import RAMADAN, STANDARD, ProfilePeriod, WorkingProfile
from serambi_calendar.revisions import DeadlineMoved, fingerprint, revise
from serambi_calendar.settings import (
    ENV_CLOCKS,
    ENV_OVERRIDES,
    ENV_WARNINGS,
    calendar_from_env,
    calendar_from_overrides,
    load_calendar,
    policy_from_env,
)

__all__ = [
    "DAY_NAMES",
    "MONTH_NAMES",
    "DEFAULT_CLOCKS",
    "DEFAULT_WARNINGS",
    "ENV_CLOCKS",
    "ENV_OVERRIDES",
    "ENV_WARNINGS",
    "RAMADAN",
    "STANDARD",
    "WIB",
    "CalendarError",
    "CalendarRangeError",
    "Clock",
    "ClockKind",
    "ClockSpec",
    "ClockStateError",
    "DayChange",
    "DayEntry",
    "DeadlineMoved",
    "LiveCalendar",
    "NaiveDatetimeError",
    "OverrideFileError",
    "Overrides",
    "Pause",
    "ProfilePeriod",
    "RevisionError",
    "SettingsError",
    "SlaPolicy",
    "SlaWarning",
    "UnknownClockError",
    "WorkingCalendar",
    "WorkingProfile",
    "calendar_from_env",
    "calendar_from_overrides",
    "check_change",
    "default_override_path",
    "fingerprint",
    "fixed_source",
    "in_wib",
    "load_calendar",
    "live_calendar_from_env",
    "load_overrides",
    "local",
    "package_days",
    "parse_overrides",
    "policy_from_env",
    "revise",
    "revised",
    "revision_change",
    "utc_now",
]
