"""`serambi calendar …`: non-working days, SLA deadlines and working time, in WIB.

Configuration: SERAMBI_CALENDAR_OVERRIDES (override file), SERAMBI_SLA_CLOCKS (JSON durations,
e.g. {"ringan": "3h"}), SERAMBI_SLA_WARNINGS (e.g. "50,75,90"). Errors exit with code 2.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, NoReturn

import typer
from serambi_calendar import (
    CalendarError,
    Clock,
    WorkingCalendar,
    calendar_from_env,
    local,
    policy_from_env,
)

app = typer.Typer(no_args_is_help=True)
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _fail(message: str) -> NoReturn:
    typer.echo(f"serambi calendar: {message}", err=True)
    raise typer.Exit(2)


def _calendar(*years: int) -> WorkingCalendar:
    try:
        return calendar_from_env(years=years)
    except CalendarError as exc:
        _fail(f"broken calendar, refusing to count: {exc}")


def _instant(option: str, text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        _fail(f"{option} {text!r} is not an ISO 8601 instant (e.g. 2026-03-02T09:00:00+07:00)")


def iso_duration(value: timedelta) -> str:
    """`PT7H30M`-style working time (hours are not folded into days)."""
    sign, total = ("-", -value) if value < timedelta(0) else ("", value)
    seconds, micro = divmod(total // timedelta(microseconds=1), 1_000_000)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}H" if hours else ""
    text += f"{minutes}M" if minutes else ""
    if secs or micro:
        text += (f"{secs}.{micro:06d}".rstrip("0") if micro else str(secs)) + "S"
    return f"{sign}PT{text or '0S'}"


@app.command()
def show(year: Annotated[int, typer.Argument(min=1950, max=2200, help="Calendar year")]) -> None:
    """List the non-working days of YEAR with their source, and the year's working-hour profiles."""
    calendar = _calendar(year)
    typer.echo(f"# {year}, calendar {calendar.revision}")
    for entry in calendar.days(year):
        mark = "libur " if entry.non_working else "KERJA "
        typer.echo(
            f"{entry.date.isoformat()} {_WEEKDAYS[entry.date.weekday()]} {mark} {entry.name}"
            f"  [{entry.source}: {entry.reference}]"
        )
    for period in calendar.profile_periods:
        if period.first.year <= year <= period.last.year:
            typer.echo(f"profile {period.profile} {period.first}..{period.last}  [{period.reference}]")
    for profile in calendar.profiles.values():
        typer.echo(f"# hours {profile.describe()}")


@app.command()
def due(
    start: Annotated[str, typer.Option(help="Event instant, ISO 8601 with offset")],
    clock: Annotated[str, typer.Option(help="Clock name, e.g. audience_answer or ringan")],
) -> None:
    """Print the deadline of CLOCK started at START (first line: ISO 8601 in +07:00)."""
    at = _instant("--start", start)
    try:
        policy = policy_from_env()
        running = Clock(clock, at)
        calendar = _calendar(running.started_at.year)
        deadline = running.deadline(calendar, policy)
        warnings = running.warning_instants(calendar, policy)
    except CalendarError as exc:
        _fail(str(exc))
    assert deadline is not None  # a clock without pauses always has one
    typer.echo(local(deadline).isoformat())
    starts = local(calendar.next_working_instant(running.started_at)).isoformat()
    typer.echo(f"clock {clock}: {policy.spec(clock)}, counting from {starts}")
    for warning in warnings:
        typer.echo(f"warning {warning.percent}%: {local(warning.at).isoformat()}")
    typer.echo(f"calendar {calendar.revision}")


@app.command()
def elapsed(
    from_: Annotated[str, typer.Option("--from", help="ISO 8601 instant with offset")],
    to: Annotated[str, typer.Option("--to", help="ISO 8601 instant with offset")],
) -> None:
    """Print the working time between --from and --to (ISO 8601 duration, then hours)."""
    a, b = _instant("--from", from_), _instant("--to", to)
    try:
        calendar = _calendar(a.year)
        worked = calendar.working_time_between(a, b)
    except CalendarError as exc:
        _fail(str(exc))
    typer.echo(iso_duration(worked))
    typer.echo(f"{worked / timedelta(hours=1):.2f} working hours, calendar {calendar.revision}")
