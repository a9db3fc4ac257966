"""`serambi complaints …`: the monthly recap, SP4N-LAPOR! import, calendar revision, timers.

They read the complaints service's settings from the environment (``SERAMBI_NATS_URL``,
``SERAMBI_MONGO_URL``, ``SERAMBI_CALENDAR_OVERRIDES``, ``SERAMBI_LAPOR_*`` …) and connect
directly, without consuming any of the service's messages. Errors exit with code 2.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, NoReturn

import nats
import structlog
import typer
from pymongo.asynchronous.database import AsyncDatabase
from serambi_calendar import CalendarError
from serambi_kit.eventstore import JetStreamEventStore
from serambi_kit.mongo import connect, database
from serambi_kit.pii import Vault, parse_master_key

from ..services import operator_settings

app = typer.Typer(no_args_is_help=True)


def _fail(message: str) -> NoReturn:
    typer.echo(f"serambi complaints: {message}", err=True)
    raise typer.Exit(2)


@dataclass
class Parts:
    store: JetStreamEventStore
    db: AsyncDatabase
    vault: Vault


@asynccontextmanager
async def _connected() -> AsyncIterator[tuple[object, Parts]]:
    from serambi_complaints.settings import ComplaintsSettings

    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))  # stdout is the output

    settings = operator_settings(ComplaintsSettings, vault=True)
    credentials = {}
    if settings.nats_user and settings.nats_password:
        credentials = {"user": settings.nats_user, "password": settings.nats_password.get_secret_value()}
    nc = await nats.connect(settings.nats_url, name="serambi-ops-complaints", **credentials)
    mongo = connect(settings.mongo_url.get_secret_value())
    try:
        vault = Vault(
            database(mongo, settings.vault_database),
            parse_master_key(settings.pii_master_key.get_secret_value()),
        )
        store = JetStreamEventStore(nc, "/serambi/ops")
        yield settings, Parts(store, database(mongo, settings.database), vault)
    finally:
        await nc.drain()
        await mongo.close()


def _rules(settings):
    from serambi_complaints.main import rules_from_env

    try:
        return rules_from_env(settings)
    except CalendarError as exc:
        _fail(f"broken calendar or SLA settings, refusing to count: {exc}")


def _iso(value: object) -> str:
    """Instants in the recap (the reopened complaints' receipt) as ISO 8601."""
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


@app.command("report")
def report_command(
    month: Annotated[str, typer.Option(help="YYYY-MM (WIB)")],
    format_: Annotated[str, typer.Option("--format", help="json or csv")] = "json",
    output: Annotated[Path | None, typer.Option(help="write to this file instead of stdout")] = None,
) -> None:
    """The monthly recap per channel, tier, status and team: received, answered, tier and
    triage on-time rates, breaches, reopened (the figures the bureau reports upward)."""
    from serambi_complaints.adapters import reports

    if format_ not in ("json", "csv"):
        _fail(f"--format {format_!r}: use json or csv")
    if not reports.MONTH.match(month):
        _fail(f"--month {month!r} is not YYYY-MM")

    async def run() -> dict:
        async with _connected() as (_, parts):
            return await reports.monthly(parts.db, month)

    recap = asyncio.run(run())
    text = reports.to_csv(recap) if format_ == "csv" else json.dumps(recap, indent=2, default=_iso) + "\n"
    if output:
        output.write_text(text)
        typer.echo(f"wrote {output}")
    else:
        typer.echo(text, nl=False)


@app.command("lapor-import")
def lapor_import_command() -> None:
    """Import the complaints SP4N-LAPOR! has for the bureau since the last import (idempotent:
    the LAPOR! id is the key). Needs SERAMBI_LAPOR_MODE=http and its settings."""
    from serambi_complaints.adapters import lapor_import
    from serambi_complaints.application import ports
    from serambi_complaints.main import gateway_from_settings

    async def run() -> list[str]:
        async with _connected() as (settings, parts):
            gateway = gateway_from_settings(settings)
            if gateway is None:
                _fail("SP4N-LAPOR! is not configured (SERAMBI_LAPOR_MODE=http, _BASE_URL, _TOKEN)")
            try:
                return await lapor_import.import_new(
                    gateway,
                    parts.store,
                    parts.db,
                    parts.vault,
                    _rules(settings),
                    datetime.now(UTC).replace(microsecond=0),
                )
            except ports.LaporError as exc:
                _fail(str(exc))
            finally:
                await gateway.close()

    codes = asyncio.run(run())
    typer.echo(f"imported {len(codes)} complaint(s)" + (": " + ", ".join(codes) if codes else ""))


@app.command("revise-calendar")
def revise_calendar_command(
    force: Annotated[bool, typer.Option(help="revise even if the calendar did not change")] = False,
) -> None:
    """After a calendar revision (SKB 3 Menteri) or changed SLA durations: record the moved
    deadline of every open complaint (ComplaintDeadlineMoved); the running service re-arms the
    timers. The service also does this at start-up when the calendar revision changed, and when
    it reads a revision made in the console (the override file, then those revisions, here too)."""
    from serambi_complaints.application.sla_timers import revise_if_needed
    from serambi_kit.calendars import STREAM, CalendarRevisions
    from serambi_kit.eventstore import read_stream

    async def run() -> tuple[str, int]:
        async with _connected() as (settings, parts):
            rules = _rules(settings)
            await CalendarRevisions(
                rules.calendar,
                lambda subjects, first: read_stream(parts.store.nc, STREAM, subjects, from_sequence=first),
            ).refresh()
            return rules.fingerprint, await revise_if_needed(parts.store, parts.db, rules, force=force)

    fingerprint, moved = asyncio.run(run())
    typer.echo(f"{moved} deadline(s) moved; calendar {fingerprint}")
