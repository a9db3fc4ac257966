"""`serambi token --role ROLE`: a development officer token (refused in production)."""

from __future__ import annotations

import typer
from serambi_kit.auth import ROLES, AuthError, issue_dev_token
from serambi_kit.settings import ServiceSettings


def token_command(
    role: list[str] = typer.Option(..., "--role", help=f"one or more of: {', '.join(ROLES)}"),
    subject: str = typer.Option("dev-officer", help="the officer's user id (sub claim)"),
    hours: int = typer.Option(8, min=1, max=24, help="validity"),
) -> None:
    """Print a bearer token signed with the development key."""
    try:
        typer.echo(issue_dev_token(ServiceSettings(), role, subject, ttl_seconds=hours * 3600))
    except AuthError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
