"""`serambi dead-letters list`: messages the services could not handle, with the reason."""

from __future__ import annotations

import asyncio
import json

import typer
from serambi_kit.deadletters import DeadLetters
from serambi_kit.mongo import connect, database

from ..services import SERVICES, service_named

app = typer.Typer(no_args_is_help=True)


async def open_letters(names: list[str], limit: int) -> list[dict]:
    rows = []
    for name in names:
        settings = service_named(name).runtime().settings
        mongo = connect(settings.mongo_url.get_secret_value())
        try:
            for letter in await DeadLetters(database(mongo, settings.database)).list(limit=limit):
                rows.append({"service": name, **letter})
        finally:
            await mongo.close()
    return rows


@app.command("list")
def list_command(
    service: str | None = typer.Option(None, help="only this service"),
    limit: int = typer.Option(100, min=1, max=10_000),
    as_json: bool = typer.Option(False, "--json", help="one JSON object per line"),
) -> None:
    """Open dead letters, newest first."""
    rows = asyncio.run(open_letters([service] if service else list(SERVICES), limit))
    for row in rows:
        if as_json:
            row = {**row, "payload": row["payload"].decode("utf-8", "replace")}
            typer.echo(json.dumps(row, default=str))
        else:
            typer.echo(
                f"{row['service']:<11} {row['consumer']:<28} {row['stream']}#{row['sequence']:<8} "
                f"{row['subject']}  ×{row['deliveries']}  {row['reason']}"
            )
    if not rows:
        typer.echo("no open dead letters")
