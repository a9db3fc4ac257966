"""`serambi`: the one home for every operator command."""

from __future__ import annotations

import typer

from serambi_ops.commands import (
    calendar,
    complaints,
    contracts,
    deadletters,
    demo,
    dev,
    personal_data,
    projections,
    streams,
    token,
)

app = typer.Typer(help="Serambi operator commands.", no_args_is_help=True)
app.add_typer(streams.app, name="streams", help="JetStream streams and consumers.")
app.add_typer(projections.app, name="projections", help="Read models.")
app.add_typer(deadletters.app, name="dead-letters", help="Messages the services could not handle.")
app.add_typer(calendar.app, name="calendar", help="Working calendar and SLA deadlines.")
app.add_typer(contracts.app, name="contracts", help="Event schemas and AsyncAPI documents.")
app.add_typer(complaints.app, name="complaints", help="Monthly recap, SP4N-LAPOR!, calendar revision.")
app.add_typer(dev.app, name="dev", help="The local development stack.")
app.add_typer(personal_data.app, name="personal-data", help="Erasure of a person's data (UU PDP).")
app.command("token")(token.token_command)
app.command("demo")(demo.demo_command)


def main() -> None:
    app()
