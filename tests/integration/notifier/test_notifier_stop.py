"""The notifier's stop lets the events its notify consumers already took finish and ack before
its connections close (it stops more than the kit's runtime: the sends, the channels). On a
nats-server of its own: the session's holds other tests' events for the same durable consumer."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client
from notifier_harness import app_settings, code
from serambi_contracts import AggregateRef
from serambi_kit.eventstore import JetStreamEventStore
from serambi_kit.topology import apply_streams
from serambi_notifier.application.dispatch import Dispatcher
from serambi_notifier.main import create_app
from serambi_testing import localstack, samples


@pytest.fixture
async def own_nats(tmp_path: Path) -> AsyncIterator[tuple[str, Client]]:
    server = localstack.nats_server(tmp_path / "nats", localstack.free_port()).start()
    url = localstack.nats_url(server.port)
    client = await nats.connect(url)
    await apply_streams(client.jetstream())
    yield url, client
    await client.drain()
    server.stop()


async def test_events_being_handled_at_stop_are_finished_and_acked(
    own_nats, mongo_url, mongo_client, mailbox, sms_sink, monkeypatch: pytest.MonkeyPatch
):
    nats_url, nc = own_nats
    name = f"test_notifier_{uuid.uuid4().hex[:10]}"
    hosts = [f"H{code()[-8:]}" for _ in range(3)]
    settings = app_settings(
        nats_url,
        mongo_url,
        name,
        mailbox,
        sms_sink,
        host_emails={host: [f"pejabat-{host.lower()}@ekonomi.example"] for host in hosts},
    )
    handle = Dispatcher.handle
    started: list[str] = []
    finished: list[str] = []

    async def slow_handle(self, recorded):
        started.append(recorded.ref.id)
        await asyncio.sleep(0.5)  # still planning when the stop begins
        await handle(self, recorded)
        finished.append(recorded.ref.id)

    monkeypatch.setattr(Dispatcher, "handle", slow_handle)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        store = JetStreamEventStore(nc, "/serambi/test-scheduling")
        for host in hosts:
            ref = AggregateRef("scheduling", "daylist", f"{host}-20260304")
            await store.append(
                ref, [samples.host_day_list_due(host)], expected_sequence=0, expected_version=0
            )
        deadline = asyncio.get_running_loop().time() + 30
        while len(started) < 3:
            assert asyncio.get_running_loop().time() < deadline, "the notifier never took the day lists"
            await asyncio.sleep(0.05)
    assert sorted(finished) == sorted(f"{host}-20260304" for host in hosts)
    info = await nc.jetstream().consumer_info("SCHEDULING", "notifier-notify-scheduling")
    assert info.num_ack_pending == 0
    await localstack.drop_databases(mongo_client, name, f"{name}_vault")
