"""`serambi dead-letters list|redrive`: messages the services could not handle, with the reason.

``redrive`` marks open records (all of a service's, or one by id) for the running service to
handle again — stream messages only: an item taken from elsewhere (a mail, a LAPOR! item) says
what to do instead: JetStream cannot redeliver an acknowledged message, so the service reads the
original back from its stream by sequence and gives it to the same handler
(``serambi_kit.messaging.redrive``, every ``Runtime.redrive_interval`` seconds). A record then
becomes ``redriven``, or ``open`` again with the new reason (a malformed message stays open).
"""

from __future__ import annotations

import asyncio
import json

import typer
from serambi_kit.deadletters import DeadLetters, not_redrivable
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


async def mark_letters(name: str, letter_id: str | None) -> int:
    settings = service_named(name).runtime().settings
    mongo = connect(settings.mongo_url.get_secret_value())
    try:
        return await DeadLetters(database(mongo, settings.database)).mark_for_redrive(letter_id)
    finally:
        await mongo.close()


async def letter_status(name: str, letter_id: str) -> dict | None:
    settings = service_named(name).runtime().settings
    mongo = connect(settings.mongo_url.get_secret_value())
    try:
        return await DeadLetters(database(mongo, settings.database)).collection.find_one({"_id": letter_id})
    finally:
        await mongo.close()


@app.command("list")
def list_command(
    service: str | None = typer.Option(None, help="only this service"),
    size: int = typer.Option(
        100,
        "--size",
        "--limit",
        min=1,
        max=10_000,
        help="at most this many per service (--limit: deprecated)",
    ),
    as_json: bool = typer.Option(False, "--json", help="one JSON object per line"),
) -> None:
    """Open dead letters, newest first; a record's id (for `redrive --id`) is
    <consumer>:<STREAM>:<sequence>, as each line shows them."""
    rows = asyncio.run(open_letters([service] if service else list(SERVICES), size))
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


@app.command("redrive")
def redrive_command(
    service: str = typer.Option(..., help="the service whose dead letters to redrive"),
    letter_id: str | None = typer.Option(
        None, "--id", help="only this record: <consumer>:<STREAM>:<sequence>"
    ),
) -> None:
    """Mark open dead letters for the running service to handle again."""
    marked = asyncio.run(mark_letters(service, letter_id))
    if letter_id is not None and marked == 0:
        found = asyncio.run(letter_status(service, letter_id))
        why = not_redrivable(found) if found else None
        state = (
            f"it cannot be redriven ({why})"
            if why
            else f"its status is {found['status']!r}"
            if found
            else "no such record"
        )
        typer.echo(f"{service}: {letter_id} not marked: {state}", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"{service}: {marked} dead letter(s) marked for redrive; the running service "
        "handles them within seconds (`serambi dead-letters list` shows any that fail again)"
    )
