"""The override file: format errors name the file and line; day changes and profile ranges apply;
a changed file yields the clocks whose deadline moves."""

from __future__ import annotations

from pathlib import Path

import pytest
from serambi_calendar import (
    Clock,
    OverrideFileError,
    default_override_path,
    load_calendar,
    load_overrides,
    revise,
)

HEADER = 'version = "test.1"\n'
RAMADAN_2026 = """
[[profile_period]]
profile = "ramadan"
first = 2026-02-19
last = 2026-03-20
decree = "test ramadan"
"""


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "overrides.toml"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def day(action: str, date: str, extra: str = "") -> str:
    return f'\n[[day]]\naction = "{action}"\ndate = {date}\nname = "x"\ndecree = "SKB test"\n{extra}'


@pytest.mark.parametrize(
    ("body", "line", "problem"),
    [
        (day("add", "2026-02-30"), 5, "invalid TOML"),  # tomllib rejects the date itself
        (day("add", '"2026-13-01"'), 3, "bad date date = '2026-13-01'"),
        (day("add", "2026-05-01") + day("remove", "2026-05-01"), 9, "already changed by day[1]"),
        (day("adds", "2026-05-01"), 3, "action must be add, remove or move"),
        (day("move", "2026-05-01"), 3, "missing 'to'"),
        (day("move", "2026-05-01", "to = 2026-05-01"), 3, "onto itself"),
        (day("add", "2026-05-01", "dat = 2026-05-02"), 3, "unknown key(s) dat"),
        (day("add", "2026-05-01T08:00:00"), 3, "must be a date"),
        ('\n[[day]]\naction = "add"\ndate = 2026-05-01\nname = "x"\n', 3, "missing 'decree'"),
        (
            RAMADAN_2026
            + RAMADAN_2026.replace("2026-02-19", "2026-03-10").replace("2026-03-20", "2026-04-01"),
            9,
            "profile_period[2] (2026-03-10..2026-04-01) overlaps "
            "profile_period[1] (2026-02-19..2026-03-20, line 3)",
        ),
        (RAMADAN_2026.replace("2026-02-19", "2026-03-21"), 3, "last 2026-03-20 is before first"),
        (RAMADAN_2026.replace('"ramadan"', '"puasa"'), 3, "unknown profile 'puasa'"),
        ('\n[profiles.standard]\nmon = ["07:30-25:00"]\n', 3, "impossible time"),
        ('\n[profiles.standard]\nmon = ["07:30-12:00", "11:00-16:00"]\n', 3, "overlap"),
        ("\n[profiles.standard]\n", 3, "no working time"),
    ],
)
def test_a_broken_override_file_fails_naming_the_file_line_and_problem(tmp_path, body, line, problem):
    path = write(tmp_path, body)
    with pytest.raises(OverrideFileError) as caught:
        load_calendar(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert problem in message


def test_an_override_file_without_a_version_is_refused(tmp_path):
    path = tmp_path / "overrides.toml"
    path.write_text(day("add", "2026-05-04"), encoding="utf-8")
    with pytest.raises(OverrideFileError, match="version"):
        load_overrides(path)


def test_a_missing_override_file_is_refused_with_its_path(tmp_path):
    with pytest.raises(OverrideFileError, match="missing.toml: cannot read"):
        load_calendar(tmp_path / "missing.toml")


def test_the_packaged_override_file_is_valid_and_shipped_inside_the_package():
    overrides = load_overrides()
    assert default_override_path().is_file()
    assert default_override_path().parent.parent.name == "serambi_calendar"
    assert overrides.version and overrides.changes and overrides.profile_periods


def test_added_removed_and_moved_days_override_the_package_and_name_their_source(tmp_path, wib):
    path = write(
        tmp_path,
        day("add", "2026-01-07") + day("remove", "2026-01-16") + day("move", "2026-05-01", "to = 2026-05-04"),
    )
    calendar = load_calendar(path)
    days = {d.date.isoformat(): d for d in calendar.days(2026)}
    assert not calendar.is_working(wib("2026-01-07 09:00"))
    assert calendar.is_working(wib("2026-01-16 09:00"))  # Isra Mikraj removed
    assert calendar.is_working(wib("2026-05-01 09:00"))
    assert not calendar.is_working(wib("2026-05-04 09:00"))
    assert days["2026-01-16"].non_working is False
    assert days["2026-01-16"].name == "Isra Mikraj Nabi Muhammad"  # the package's name is kept
    assert {days[d].source for d in ("2026-01-07", "2026-01-16", "2026-05-04")} == {"override"}
    assert days["2026-05-04"].reference == f"SKB test [{path.name} vtest.1, line 15]"
    assert days["2026-01-01"].source == "package"


def test_without_a_ramadan_range_march_2026_has_standard_hours(tmp_path, wib):
    calendar = load_calendar(write(tmp_path, ""))
    assert calendar.is_working(wib("2026-03-02 07:45"))
    calendar = load_calendar(write(tmp_path, RAMADAN_2026))
    assert not calendar.is_working(wib("2026-03-02 07:45"))


def test_working_hours_can_be_changed_in_the_override_file(tmp_path, wib):
    body = '\n[profiles.standard]\nmon = ["08:00-12:00"]\nfri = ["08:00-11:00"]\n'
    calendar = load_calendar(write(tmp_path, body))
    assert not calendar.is_working(wib("2026-01-06 09:00"))  # Tuesday is off now
    assert calendar.add_working_days(wib("2026-01-05 09:00"), 1) == wib("2026-01-09 11:00")


def test_a_revision_yields_exactly_the_clocks_whose_deadline_moves(tmp_path, policy, wib):
    old = load_calendar(write(tmp_path, ""))
    new = load_calendar(write(tmp_path, day("add", "2026-01-07")))
    moved_clock = Clock("audience_answer", wib("2026-01-05 09:00"))
    same_hours = Clock("ringan", wib("2026-01-05 09:00"))
    later = Clock("normatif", wib("2026-02-02 09:00"))
    moves = revise([moved_clock, same_hours, later], old, new, policy)
    assert [(m.clock, m.old, m.new) for m in moves] == [
        (moved_clock, wib("2026-01-08 16:00"), wib("2026-01-09 16:30"))
    ]


def test_a_revision_that_removes_a_cuti_bersama_brings_deadlines_forward(tmp_path, policy, wib):
    old = load_calendar(write(tmp_path, ""))
    new = load_calendar(write(tmp_path, day("remove", "2026-05-15")))
    clock = Clock("normatif", wib("2026-05-13 10:00"))
    (move,) = revise([clock], old, new, policy)
    assert (move.old, move.new) == (wib("2026-05-22 16:30"), wib("2026-05-21 16:00"))
