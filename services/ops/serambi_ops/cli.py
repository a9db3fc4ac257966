"""`serambi`: the one home for every operator command."""

from __future__ import annotations

import typer

from serambi_ops.commands import calendar

app = typer.Typer(help="Serambi operator commands.", no_args_is_help=True)
app.add_typer(calendar.app, name="calendar", help="Working calendar and SLA deadlines.")


def main() -> None:
    app()
