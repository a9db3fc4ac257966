"""`serambi dev up`: run the whole local stack in the foreground."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True)


@app.command("up")
def up_command(
    var: Path = typer.Option(Path("var"), help="where data and logs live (git-ignored)"),
    nats_port: int = typer.Option(4222),
    nats_monitor_port: int = typer.Option(8222),
    mongo_port: int = typer.Option(27017),
    smtp_port: int = typer.Option(1025),
    sms_port: int = typer.Option(8025),
    oidc_port: int = typer.Option(8010, help="the development OpenID provider"),
    service_port: list[str] = typer.Option([], help="NAME=PORT to move a service, e.g. intake=9001"),
) -> None:
    """NATS, the MongoDB-wire server, the four services, the web service (portal and officer
    console), the development OpenID provider and the mail/SMS sinks. Ctrl-C stops all."""
    # imported here: the dev stack needs serambi-testing (serambi-ops's `devstack` extra), which
    # the ops image does not install
    from ..devstack import Ports, up

    ports = Ports(nats_port, nats_monitor_port, mongo_port, smtp_port, sms_port, oidc_port)
    for item in service_port:
        name, _, port = item.partition("=")
        if name not in ports.services or not port.isdigit():
            raise typer.BadParameter(f"{item!r}: expected NAME=PORT with NAME in {list(ports.services)}")
        ports.services[name] = int(port)
    raise typer.Exit(up(var, ports))
