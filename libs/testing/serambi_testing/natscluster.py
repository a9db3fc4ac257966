"""The nodes of a NATS cluster on loopback, for the tests that kill one: their ports, health and
start-up wait. Two clusters use them, configured differently: the fault tests' plain 3-node
JetStream cluster (tests/faults/fault_infrastructure.py) and the deployment tests' cluster
running deploy/nats verbatim (tests/deploy/conftest.py)."""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

from .localstack import ManagedProcess, StartError, free_port, nats_url


@dataclass
class NatsNode:
    """One nats-server of a cluster: client, route and monitoring ports, and its process once
    started."""

    name: str
    port: int
    cluster_port: int
    monitor_port: int
    process: ManagedProcess | None = None

    def healthy(self) -> bool:
        """Whether its ``/healthz`` answers 200 (routes up, JetStream current)."""
        url = f"http://127.0.0.1:{self.monitor_port}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 — loopback
                return bool(response.status == 200)
        except OSError:
            return False

    def varz(self) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.monitor_port}/varz"
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 — loopback
            found: dict[str, Any] = json.load(response)
            return found


def free_nodes(prefix: str, count: int = 3) -> list[NatsNode]:
    """``count`` nodes named ``<prefix><i>``, each on three free ports."""
    return [NatsNode(f"{prefix}{i}", free_port(), free_port(), free_port()) for i in range(count)]


def wait_healthy(nodes: list[NatsNode], timeout: float) -> None:
    """Until every node reports healthy (routes up, JetStream meta leader elected)."""
    deadline = time.monotonic() + timeout
    while not all(node.healthy() for node in nodes):
        if time.monotonic() > deadline:
            raise StartError(f"NATS cluster not healthy after {timeout}s")
        time.sleep(0.2)


def urls(nodes: list[NatsNode]) -> list[str]:
    return [nats_url(node.port) for node in nodes]


def stop(nodes: list[NatsNode]) -> None:
    for node in nodes:
        if node.process is not None:
            node.process.stop()
