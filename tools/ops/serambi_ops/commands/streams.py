"""`serambi streams apply`: create or update every stream and every service's consumers."""

from __future__ import annotations

import asyncio

import nats
import typer
from serambi_kit.settings import ServiceSettings
from serambi_kit.topology import apply_consumers, apply_streams

from ..services import SERVICES, operator_settings

app = typer.Typer(no_args_is_help=True)


async def apply_all(settings: ServiceSettings) -> list[str]:
    nc = await nats.connect(settings.nats_url, **settings.nats_options())
    try:
        js = nc.jetstream()
        done = await apply_streams(js, settings.stream_replicas)
        for service in SERVICES.values():
            done += await apply_consumers(
                js,
                tuple(service.runtime().consumers),
                ack_wait=settings.consumer_ack_wait_seconds,
                replicas=settings.stream_replicas,
            )
        return done
    finally:
        await nc.drain()


@app.command("apply")
def apply_command() -> None:
    """Idempotent: safe to run at every deploy (services also run it at start-up)."""
    for line in asyncio.run(apply_all(operator_settings())):
        typer.echo(line)
