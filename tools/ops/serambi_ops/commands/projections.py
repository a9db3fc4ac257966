"""`serambi projections rebuild SERVICE`: replay streams into fresh read models and swap."""

from __future__ import annotations

import asyncio

import nats
import typer
from serambi_kit.mongo import connect, database
from serambi_kit.rebuild import RebuildReport, rebuild

from ..services import service_named

app = typer.Typer(no_args_is_help=True)


async def rebuild_service(name: str) -> list[RebuildReport]:
    service = service_named(name)
    settings = service.runtime().settings
    nc = await nats.connect(settings.nats_url, **settings.nats_options())
    mongo = connect(settings.mongo_url.get_secret_value())
    try:
        db = database(mongo, settings.database)
        return [await rebuild(nc, db, projection) for projection in service.projections()]
    finally:
        await nc.drain()
        await mongo.close()


@app.command("rebuild")
def rebuild_command(
    service: str = typer.Argument(..., help="intake, scheduling, complaints, notifier"),
) -> None:
    """Rebuild every read model of SERVICE from its events (the service may keep running)."""
    reports = asyncio.run(rebuild_service(service))
    if not reports:
        typer.echo(f"{service}: no read models")
    for report in reports:
        typer.echo(
            f"{service}.{report.collection}: {report.applied} events applied, "
            f"{report.skipped_invalid} messages skipped, {report.indexes} indexes kept"
        )
        for skipped in report.skipped:
            typer.echo(f"  skipped {skipped.subject} #{skipped.sequence}: {skipped.reason}")
