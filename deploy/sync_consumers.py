"""Bring deploy/ in step with the durable consumers the services declare.

    .venv/bin/python deploy/sync_consumers.py

Rewrites, between the `BEGIN consumers` / `END consumers` markers:
- deploy/nats/auth.conf: each service user's grants on its own consumers (NATS permissions
  match whole subject tokens, so `intake-*` cannot be granted once for all);
- deploy/k8s/base/<service>.yaml: one KEDA nats-jetstream trigger per consumer of the service.
tests/deploy fails while either is out of step with the code.
"""

from __future__ import annotations

import re
from pathlib import Path

DEPLOY = Path(__file__).resolve().parent
BEGIN, END = "# BEGIN consumers", "# END consumers"
MONITORING = "nats-headless.serambi.svc.cluster.local:8222"
LAG_THRESHOLD = 100  # pending messages per replica before KEDA adds one


def grants(stream: str, durable: str) -> list[str]:
    base = f"{stream}.{durable}"
    return [
        f"$JS.API.CONSUMER.INFO.{base}",
        f"$JS.API.CONSUMER.DURABLE.CREATE.{base}",
        f"$JS.API.CONSUMER.CREATE.{base}",
        f"$JS.API.CONSUMER.CREATE.{base}.>",
        f"$JS.API.CONSUMER.MSG.NEXT.{base}",
        f"$JS.ACK.{base}.>",
    ]


def replace_region(text: str, anchor: str, lines: list[str], where: str) -> str:
    """Replace the marked region that follows ``anchor`` with ``lines`` (same indentation)."""
    start = text.index(anchor)
    region = re.compile(rf"^( *){re.escape(BEGIN)}.*?\n.*?^ *{re.escape(END)}\n", re.S | re.M)
    match = region.search(text, start)
    if match is None:
        raise SystemExit(f"{where}: no {BEGIN} … {END} region after {anchor!r}")
    indent = match.group(1)
    body = "".join(f"{indent}{line}\n" for line in [f"{BEGIN} (deploy/sync_consumers.py)", *lines, END])
    return text[: match.start()] + body + text[match.end() :]


def main() -> None:
    from serambi_ops.services import SERVICES

    auth_path = DEPLOY / "nats" / "auth.conf"
    auth = auth_path.read_text()
    for name, service in SERVICES.items():
        consumers = [(spec.stream, spec.durable) for spec in service.runtime().consumers]
        lines = []
        for stream, durable in consumers:
            lines += [f"# consumer {durable} on {stream}", *(f'"{g}",' for g in grants(stream, durable))]
        auth = replace_region(auth, f"user: {name}\n", lines, str(auth_path))

        manifest_path = DEPLOY / "k8s" / "base" / f"{name}.yaml"
        triggers = []
        for stream, durable in consumers:
            triggers += [
                "- type: nats-jetstream",
                f"  name: {durable}",
                "  metadata:",
                f"    natsServerMonitoringEndpoint: {MONITORING}",
                "    account: SERAMBI",
                f"    stream: {stream}",
                f"    consumer: {durable}",
                f'    lagThreshold: "{LAG_THRESHOLD}"',
            ]
        manifest = replace_region(
            manifest_path.read_text(), "kind: ScaledObject", triggers, str(manifest_path)
        )
        manifest_path.write_text(manifest)
        print(f"{name}: {len(consumers)} consumers")
    auth_path.write_text(auth)


if __name__ == "__main__":
    main()
