"""`serambi personal-data erase`: crypto-shred a person (UU 27/2022 erasure).

Deletes every data-subject key whose keyed hashes match the email, phone or NIK given; every
sealed copy of the person's data — streams, read models, backups, replays — becomes unreadable
(within 60 s in running processes, their key cache's lifetime). Record the request in the
bureau's register (docs/security.md).
"""

from __future__ import annotations

import asyncio

import typer
from serambi_kit.mongo import connect, database
from serambi_kit.phones import PhoneNumberError, to_e164
from serambi_kit.pii import Vault, parse_master_key
from serambi_kit.settings import ServiceSettings

app = typer.Typer(no_args_is_help=True)


async def erase(identifiers: list[str]) -> list[str]:
    settings = ServiceSettings()
    mongo = connect(settings.mongo_url.get_secret_value())
    try:
        vault = Vault(database(mongo, settings.vault_database),
                      parse_master_key(settings.pii_master_key.get_secret_value()))
        erased: list[str] = []
        for identifier in identifiers:
            erased += await vault.erase_person(identifier)
        return sorted(set(erased))
    finally:
        await mongo.close()


@app.command("erase")
def erase_command(
    email: str | None = typer.Option(None, help="the person's email address"),
    phone: str | None = typer.Option(None, help="the person's phone number (any Indonesian form)"),
    nik: str | None = typer.Option(None, help="the person's NIK (16 digits)"),
) -> None:
    """Erase everything Serambi holds about a person, found by any of their identifiers."""
    identifiers = [value for value in (email, nik) if value]
    if phone:
        try:
            identifiers.append(to_e164(phone))
        except PhoneNumberError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
    if not identifiers:
        typer.echo("error: give --email, --phone or --nik", err=True)
        raise typer.Exit(2)
    erased = asyncio.run(erase(identifiers))
    typer.echo(f"erased {len(erased)} data-subject key(s)")
