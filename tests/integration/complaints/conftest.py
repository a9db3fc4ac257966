"""The complaints service in-process against real nats-server and SecantusDB.

Each test gets its own nats-server (streams and durable consumers are shared by every service
on a server, and tracking codes restart in every database) and its own databases.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import nats
import pytest
from complaints_support import always_rules, stop
from serambi_complaints.domain import Rules
from serambi_complaints.main import ComplaintsService, build_service
from serambi_complaints.settings import ComplaintsSettings
from serambi_testing import localstack


@pytest.fixture
def own_nats(tmp_path) -> str:
    process = localstack.nats_server(tmp_path / "nats", localstack.free_port()).start()
    yield localstack.nats_url(process.port)
    process.stop()


@pytest.fixture
async def nats_client(own_nats: str):
    client = await nats.connect(own_nats)
    yield client
    await client.drain()


@pytest.fixture
async def start_service(own_nats, mongo_url, mongo_client) -> AsyncIterator:
    """Start a complaints service (several may run at once, as replicas of one deployment)."""
    started: list[ComplaintsService] = []
    name = f"test_{uuid.uuid4().hex[:10]}"

    async def start(rules: Rules | None = None, **options) -> ComplaintsService:
        settings = ComplaintsSettings(
            nats_url=own_nats,
            mongo_url=mongo_url,
            mongo_database=name,
            vault_database=f"{name}_vault",
            consumer_max_deliver=5,
            retry_delays_seconds=(0.05, 0.1, 0.2, 0.5),
            sla_sweep_seconds=0,
            rearm_on_start=False,
            received_at_max_age_days=3650,
            **options.pop("settings", {}),
        )
        service = build_service(settings, rules=rules or always_rules(), **options)
        await service.runtime.start()
        await service.started()
        started.append(service)
        return service

    yield start
    for service in started:
        await stop(service)
    await localstack.drop_databases(mongo_client, name, f"{name}_vault")
