"""Loading and configuration: the override file and the SLA clocks, from arguments or environment.

- SERAMBI_CALENDAR_OVERRIDES: path of the override file (default: the one shipped in the package).
- SERAMBI_SLA_CLOCKS: JSON object of clock durations merged over the defaults,
  e.g. {"ringan": "3h", "normatif": "5d"} ("h" working hours, "d" working days).
- SERAMBI_SLA_WARNINGS: warning thresholds in percent, comma separated (default "50,75,90").
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from serambi_calendar.calendar import WorkingCalendar
from serambi_calendar.days import combined_source
from serambi_calendar.errors import SettingsError
from serambi_calendar.overrides import Overrides, load_overrides
from serambi_calendar.policy import DEFAULT_WARNINGS, SlaPolicy

ENV_OVERRIDES = "SERAMBI_CALENDAR_OVERRIDES"
ENV_CLOCKS = "SERAMBI_SLA_CLOCKS"
ENV_WARNINGS = "SERAMBI_SLA_WARNINGS"


def calendar_from_overrides(overrides: Overrides) -> WorkingCalendar:
    return WorkingCalendar(
        combined_source(overrides.changes),
        overrides.profiles,
        overrides.profile_periods,
        revision=f"{Path(overrides.path).name} v{overrides.version}",
    )


def load_calendar(override_path: Path | str | None = None, years: Iterable[int] = ()) -> WorkingCalendar:
    """The calendar from an override file (default: the packaged one); `years` are compiled now
    so a broken calendar fails at start-up. Raises OverrideFileError."""
    calendar = calendar_from_overrides(load_overrides(override_path))
    calendar.precompile(years)
    return calendar


def calendar_from_env(env: Mapping[str, str] | None = None, years: Iterable[int] = ()) -> WorkingCalendar:
    env = os.environ if env is None else env
    return load_calendar(env.get(ENV_OVERRIDES) or None, years)


def policy_from_env(env: Mapping[str, str] | None = None) -> SlaPolicy:
    """The SLA policy from SERAMBI_SLA_CLOCKS / SERAMBI_SLA_WARNINGS; raises SettingsError."""
    env = os.environ if env is None else env
    durations: Mapping[str, object] = {}
    if raw := env.get(ENV_CLOCKS, "").strip():
        try:
            durations = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise SettingsError(f"{ENV_CLOCKS} is not valid JSON: {exc}") from None
        if not isinstance(durations, dict):
            raise SettingsError(f'{ENV_CLOCKS} must be a JSON object like {{"ringan": "3h"}}')
    warnings = DEFAULT_WARNINGS
    if raw := env.get(ENV_WARNINGS, "").strip():
        try:
            warnings = tuple(int(p) for p in raw.split(","))
        except ValueError:
            raise SettingsError(f"{ENV_WARNINGS} must be percentages like 50,75,90, not {raw!r}") from None
    try:
        return SlaPolicy.from_mapping(durations, warnings)
    except SettingsError as exc:
        raise SettingsError(f"{ENV_CLOCKS}: {exc}") from None
