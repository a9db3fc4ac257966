"""The calendar fingerprint an owner of clocks records: it changes with the calendar revision and
with the clock durations (both move deadlines), not with the warning thresholds."""

from __future__ import annotations

from serambi_calendar import SlaPolicy, fingerprint, parse_overrides
from serambi_calendar.settings import calendar_from_overrides


def calendar(version: str):
    return calendar_from_overrides(parse_overrides(f'version = "{version}"\n', "overrides.toml"))


def test_the_fingerprint_names_the_revision_and_changes_with_it_and_with_the_durations():
    policy = SlaPolicy()
    first = fingerprint(calendar("2026.1"), policy)
    assert first.startswith("overrides.toml v2026.1 / clocks ")
    assert fingerprint(calendar("2026.1"), policy) == first
    assert fingerprint(calendar("2026.2"), policy) != first
    assert fingerprint(calendar("2026.1"), SlaPolicy.from_mapping({"audience_answer": "4d"})) != first


def test_the_warning_thresholds_do_not_change_the_fingerprint():
    assert fingerprint(calendar("2026.1"), SlaPolicy(warnings=(50, 75, 90))) == fingerprint(
        calendar("2026.1"), SlaPolicy(warnings=(80,))
    )
