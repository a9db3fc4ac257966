"""`serambi token --role ROLE`: a development officer token (refused in production).

A development tool: it signs with the development key unless ``SERAMBI_ENVIRONMENT`` says
otherwise (unset here means development, unlike a service, which it cannot make accept the key)."""

from __future__ import annotations

import os

import typer
from pydantic import ValidationError
from serambi_kit.auth import ROLES, AuthError, issue_dev_token
from serambi_kit.settings import ServiceSettings


def token_command(
    role: list[str] = typer.Option(..., "--role", help=f"one or more of: {', '.join(ROLES)}"),
    subject: str = typer.Option("dev-officer", help="the officer's user id (sub claim)"),
    hours: int = typer.Option(8, min=1, max=24, help="validity"),
) -> None:
    """Print a bearer token signed with the development key."""
    try:
        settings = ServiceSettings(environment=os.environ.get("SERAMBI_ENVIRONMENT", "development"))
        typer.echo(issue_dev_token(settings, role, subject, ttl_seconds=hours * 3600))
    except AuthError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except ValidationError:  # production settings: no development key to sign with
        typer.echo("error: development tokens are refused in production", err=True)
        raise typer.Exit(2) from None
