"""SLA policy and configuration from the environment."""

from __future__ import annotations

import pytest
from serambi_calendar import (
    ENV_CLOCKS,
    ENV_OVERRIDES,
    ENV_WARNINGS,
    ClockKind,
    OverrideFileError,
    SettingsError,
    SlaPolicy,
    UnknownClockError,
    calendar_from_env,
    policy_from_env,
)


def test_the_default_policy_has_the_service_standard_clocks():
    policy = SlaPolicy()
    assert {n: str(policy.spec(n)) for n in policy.names} == {
        "audience_answer": "3 working days",
        "triage": "3 working hours",
        "ringan": "3 working hours",
        "normatif": "5 working days",
        "tidak_berkadar_pengawasan": "14 working days",
        "berkadar_pengawasan": "60 working days",
    }
    assert policy.warnings == (50, 75, 90)


def test_clock_durations_and_warnings_come_from_the_environment():
    policy = policy_from_env({ENV_CLOCKS: '{"ringan": "2h", "darurat": "1d"}', ENV_WARNINGS: "90,60"})
    assert (policy.spec("ringan").kind, policy.spec("ringan").amount) == (ClockKind.HOURS, 2)
    assert policy.spec("darurat").kind is ClockKind.DAYS
    assert policy.spec("normatif").amount == 5  # defaults kept
    assert policy.warnings == (60, 90)


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({ENV_CLOCKS: "{ringan: 3h}"}, "not valid JSON"),
        ({ENV_CLOCKS: '["3h"]'}, "must be a JSON object"),
        ({ENV_CLOCKS: '{"ringan": "3 jam"}'}, "clock 'ringan': duration '3 jam'"),
        ({ENV_CLOCKS: '{"ringan": "0h"}'}, "amount must be a whole number >= 1"),
        ({ENV_WARNINGS: "50,x"}, "SERAMBI_SLA_WARNINGS must be percentages"),
        ({ENV_WARNINGS: "50,100"}, "1..99"),
    ],
)
def test_malformed_settings_are_refused_naming_the_variable(env, problem):
    with pytest.raises(SettingsError, match="SERAMBI_SLA_") as caught:
        policy_from_env(env)
    assert problem in str(caught.value)


def test_an_unknown_clock_error_lists_the_known_clocks():
    with pytest.raises(UnknownClockError) as caught:
        SlaPolicy().spec("sedang")
    assert str(caught.value) == (
        "unknown clock 'sedang'; known clocks: audience_answer, berkadar_pengawasan, normatif, "
        "ringan, tidak_berkadar_pengawasan, triage"
    )


def test_the_override_file_path_comes_from_the_environment(tmp_path):
    path = tmp_path / "other.toml"
    path.write_text('version = "other.7"\n', encoding="utf-8")
    assert calendar_from_env({ENV_OVERRIDES: str(path)}).revision == "other.toml vother.7"
    assert calendar_from_env({}).revision.startswith("overrides.toml v")
    with pytest.raises(OverrideFileError, match="nope.toml"):
        calendar_from_env({ENV_OVERRIDES: str(tmp_path / "nope.toml")})
