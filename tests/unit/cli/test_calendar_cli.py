"""`serambi calendar show|due|elapsed`, through typer's runner and the installed console script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from serambi_ops.cli import app
from typer.testing import CliRunner

runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None):
    base = {"SERAMBI_CALENDAR_OVERRIDES": "", "SERAMBI_SLA_CLOCKS": "", "SERAMBI_SLA_WARNINGS": ""}
    return runner.invoke(app, ["calendar", *args], env={**base, **(env or {})})


def test_due_prints_the_deadline_in_wib_on_the_first_line():
    result = run("due", "--start", "2026-03-17T10:00:00+07:00", "--clock", "audience_answer")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "2026-03-27T16:30:00+07:00"
    assert "warning 50%: 2026-03-26T08:39:14+07:00" in lines  # 2/13 of a 7.5 h day


def test_due_accepts_utc_and_answers_in_wib():
    result = run("due", "--start", "2026-01-05T02:00:00Z", "--clock", "ringan")
    assert result.stdout.splitlines()[0] == "2026-01-05T12:00:00+07:00"


def test_due_uses_durations_from_the_environment():
    result = run(
        "due",
        "--start",
        "2026-01-05T09:00:00+07:00",
        "--clock",
        "ringan",
        env={"SERAMBI_SLA_CLOCKS": '{"ringan": "1h"}'},
    )
    assert result.stdout.splitlines()[0] == "2026-01-05T10:00:00+07:00"


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (("due", "--start", "2026-01-05T09:00:00", "--clock", "ringan"), "has no time zone offset"),
        (
            ("due", "--start", "2026-01-05T09:00+07:00", "--clock", "urgent"),
            "unknown clock 'urgent'; known clocks: audience_answer",
        ),
        (("due", "--start", "kemarin", "--clock", "ringan"), "--start 'kemarin' is not an ISO 8601"),
        (
            ("elapsed", "--from", "2026-01-05T09:00", "--to", "2026-01-06T09:00+07:00"),
            "from 2026-01-05T09:00:00 has no time zone offset",
        ),
    ],
)
def test_bad_input_exits_2_with_a_message_and_no_traceback(args, problem):
    result = run(*args)
    assert result.exit_code == 2
    assert problem in result.stderr
    assert "Traceback" not in result.output and result.stdout == ""


def test_a_broken_override_file_stops_the_cli_naming_file_and_line(tmp_path: Path):
    path = tmp_path / "overrides.toml"
    path.write_text(
        'version = "x"\n\n[[day]]\naction = "add"\ndate = "2026-02-30"\nname = "x"\ndecree = "x"\n',
        encoding="utf-8",
    )
    result = run(
        "due",
        "--start",
        "2026-01-05T09:00+07:00",
        "--clock",
        "ringan",
        env={"SERAMBI_CALENDAR_OVERRIDES": str(path)},
    )
    assert result.exit_code == 2
    assert f"broken calendar, refusing to count: {path}:3: day[1]: bad date" in result.stderr


def test_elapsed_prints_the_working_time_between_two_instants():
    result = run("elapsed", "--from", "2026-03-02T00:00+07:00", "--to", "2026-03-09T00:00+07:00")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "PT32H30M"  # a Ramadan week
    assert "32.50 working hours" in result.stdout


def test_show_lists_the_non_working_days_with_their_source():
    result = run("show", "2026")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(
        line.startswith("2026-01-01 Thu libur  Tahun Baru Masehi  [package: holidays ") for line in lines
    )
    assert any(
        line.startswith("2026-02-16 Mon libur  Cuti Bersama Tahun Baru Imlek")
        and "[override: SKB 3 Menteri 2026" in line
        for line in lines
    )
    assert any(line.startswith("profile ramadan 2026-02-19..2026-03-20") for line in lines)
    assert sum(" libur " in line for line in lines) == 25


def test_the_installed_serambi_script_prints_the_deadline_first():
    script = Path(sys.executable).parent / "serambi"
    result = subprocess.run(
        [
            str(script),
            "calendar",
            "due",
            "--start",
            "2026-01-10T10:00:00+07:00",
            "--clock",
            "audience_answer",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "2026-01-15T16:00:00+07:00"
