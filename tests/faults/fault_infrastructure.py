"""Helpers for the infrastructure fault tests (scenarios 2, 5, 6, 7); imported explicitly.

A standalone nats-server (restartable on the same port and store directory) and a small
3-node JetStream cluster on loopback without auth (deploy/nats is tested in tests/deploy).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from serambi_calendar import WIB
from serambi_contracts import AggregateRef
from serambi_contracts.base import Sealed
from serambi_contracts.intake import InstitutionType, IntakeChannel, Requester, RequestSubmitted
from serambi_contracts.sla import SLAWarning
from serambi_testing import localstack, natscluster
from serambi_testing.natscluster import NatsNode

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
SEALED = Sealed(key="k1", nonce="AAAAAAAAAAAAAAAA", data="AAAA")


def probe_event(number: int) -> SLAWarning:
    return SLAWarning(
        case_id=f"probe-{number}",
        clock="ringan",
        threshold_percent=50,
        started_at=NOW,
        due_at=NOW,
        warned_at=NOW,
    )


def probe_ref(kind: str, number: int) -> AggregateRef:
    return AggregateRef("intake", kind, f"p{number}")


def audience_request(code: str, due: datetime) -> RequestSubmitted:
    """RequestSubmitted as intake appends it, proposing a day 10 days ahead."""
    now = datetime.now(UTC)
    proposed: date = (now + timedelta(days=10)).astimezone(WIB).date()
    return RequestSubmitted(
        tracking_code=code,
        channel=IntakeChannel.ONLINE,
        requester=Requester(
            name=SEALED,
            position="Kepala Dinas",
            institution="Dinas Koperasi",
            institution_type=InstitutionType.LOCAL_GOVERNMENT,
            email=SEALED,
        ),
        topic=SEALED,
        purpose=SEALED,
        participants=4,
        proposed_dates=[proposed],
        submitted_at=now,
        answer_due_at=due,
        access_token_sha256="0" * 64,
    )


@dataclass
class Cluster:
    """Three nats-server processes with JetStream (sync_interval: always) and loopback routes."""

    directory: Path
    nodes: list[NatsNode] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.nodes = natscluster.free_nodes("n")

    def config(self, node: NatsNode) -> Path:
        routes = ", ".join(f'"nats-route://127.0.0.1:{peer.cluster_port}"' for peer in self.nodes)
        text = (
            f'server_name: "{node.name}"\nlisten: "127.0.0.1:{node.port}"\n'
            f'http: "127.0.0.1:{node.monitor_port}"\n'
            f'jetstream {{ store_dir: "{self.directory / node.name}", sync_interval: always }}\n'
            f'cluster {{ name: "faults", listen: "127.0.0.1:{node.cluster_port}", routes: [{routes}] }}\n'
        )
        path = self.directory / f"{node.name}.conf"
        path.write_text(text)
        return path

    def start(self, node: NatsNode) -> None:
        node.process = localstack.ManagedProcess(
            node.name,
            [localstack.find_binary("nats-server"), "-c", str(self.config(node))],
            node.port,
            self.directory / f"{node.name}.log",
        ).start()

    def start_all(self) -> None:
        for node in self.nodes:
            self.start(node)
        self.wait_healthy()

    def wait_healthy(self, timeout: float = 30.0) -> None:
        natscluster.wait_healthy(self.nodes, timeout)

    def node_named(self, name: str) -> NatsNode:
        return next(node for node in self.nodes if node.name == name)

    def urls(self) -> list[str]:
        return natscluster.urls(self.nodes)

    def stop_all(self) -> None:
        natscluster.stop(self.nodes)


async def wait_until(check, timeout: float, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not reached in {timeout}s")


def dumps(value) -> str:
    return json.dumps(value, default=str, sort_keys=True)
