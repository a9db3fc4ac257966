"""`serambi personal-data erase`: crypto-shred a person (UU 27/2022 erasure).

Deletes every data-subject key whose keyed hashes match the email, phone or NIK given; every
sealed copy of the person's data — streams, read models, backups, replays — becomes unreadable
(within 60 s in running processes, their key cache's lifetime). Record the request and the key
ids printed in the bureau's erasure register (docs/security.md): after a vault backup is restored,
``--key`` repeats those erasures. The admin console does the same through intake's
``POST /api/v1/admin/personal-data/erase`` (``serambi_kit.erasure`` for both), audited.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import typer
from serambi_kit import erasure
from serambi_kit.mongo import connect, database
from serambi_kit.pii import Vault, parse_master_key

from ..services import operator_settings

app = typer.Typer(no_args_is_help=True)


async def erase(identifiers: list[str], key_ids: Iterable[str] = ()) -> list[str]:
    settings = operator_settings(vault=True)
    mongo = connect(settings.mongo_url.get_secret_value())
    try:
        vault = Vault(
            database(mongo, settings.vault_database),
            parse_master_key(settings.pii_master_key.get_secret_value()),
        )
        return await erasure.erase(vault, identifiers, key_ids)
    finally:
        await mongo.close()


@app.command("erase")
def erase_command(
    email: str | None = typer.Option(None, help="the person's email address"),
    phone: str | None = typer.Option(
        None, help="the person's phone number (any written form: 0812-…, +62 812 …, 62812…)"
    ),
    nik: str | None = typer.Option(None, help="the person's NIK (16 digits)"),
    key: list[str] = typer.Option(
        [],
        help="a data-subject key id printed by an earlier erasure (repeat the erasures of "
        "the register after restoring a vault backup)",
    ),
) -> None:
    """Erase everything Serambi holds about a person, found by any of their identifiers.
    Prints the key ids erased: record them in the erasure register (they are random ids, not
    personal data) so the erasure can be repeated after a vault backup is restored."""
    identifiers = erasure.identifiers(email, phone, nik)
    if not identifiers and not key:
        typer.echo("error: give --email, --phone, --nik or --key", err=True)
        raise typer.Exit(2)
    erased = asyncio.run(erase(identifiers, key))
    typer.echo(f"erased {len(erased)} data-subject key(s)")
    for key_id in erased:
        typer.echo(key_id)
