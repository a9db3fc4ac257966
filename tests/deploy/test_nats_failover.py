"""An R3 event stream on the deploy/nats cluster loses no acknowledged write when a node dies."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Iterator

import nats.errors
import pytest
from nats.aio.client import Client
from nats.js.errors import NoStreamResponseError
from serambi_kit.eventstore import read_raw
from serambi_kit.topology import apply_streams

from .conftest import NatsCluster, NatsNode, started_cluster

pytestmark = pytest.mark.slow  # make test-slow (CI runs it after make test)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsCluster]:
    yield from started_cluster(tmp_path_factory.mktemp("nats-failover"))


async def append_until_acked(nc: Client, number: int, deadline: float) -> int:
    """Publish event ``number`` until the stream acknowledges it; the same Nats-Msg-Id on every
    try makes a retry of a write that did land a duplicate, not a second copy."""
    subject = f"intake.request.R-{number}.RequestSubmitted"
    headers = {"Nats-Msg-Id": f"event-{number}"}
    while True:
        try:
            ack = await nc.jetstream().publish(subject, str(number).encode(), headers=headers, timeout=1)
            return ack.seq
        except (nats.errors.TimeoutError, NoStreamResponseError):  # no leader at this moment
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


def stored_messages(node: NatsNode, stream: str) -> int:
    """How many messages this node's replica of ``stream`` holds (its own monitoring view)."""
    url = f"http://127.0.0.1:{node.monitor_port}/jsz?acc=SERAMBI&streams=true"
    with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 — loopback
        details = json.load(response)["account_details"]
    for account in details:
        for info in account.get("stream_detail", []):
            if info["name"] == stream:
                return info["state"]["messages"]
    return 0


async def test_an_r3_stream_keeps_every_acknowledged_write_when_its_leader_dies(cluster: NatsCluster):
    ops = await cluster.connect("ops")
    writer = await cluster.connect("intake")
    try:
        await apply_streams(ops.jetstream(), replicas=3)
        acked = {n: await append_until_acked(writer, n, time.monotonic() + 10) for n in range(50)}

        leader_name = (await ops.jetstream().stream_info("INTAKE")).cluster.leader
        leader = next(node for node in cluster.nodes if node.name == leader_name)
        assert leader.process is not None
        leader.process.kill()  # SIGKILL: no graceful hand-over, no final flush

        deadline = time.monotonic() + 30
        for n in range(50, 100):  # writes go on once the two survivors elect a leader
            acked[n] = await append_until_acked(writer, n, deadline)

        survivors = [node for node in cluster.nodes if node is not leader]
        reader = await cluster.connect("ops", servers=cluster.urls(survivors))
        try:
            stored = [
                (int(headers["Nats-Sequence"]), headers["Nats-Msg-Id"], int(body))
                async for headers, body in read_raw(reader, "INTAKE", "intake.>", timeout=5)
            ]
        finally:
            await reader.close()
        assert [number for _, _, number in stored] == list(range(100))  # all, once, in order
        assert {number: sequence for sequence, _, number in stored} == acked

        cluster.start(leader)  # the dead node comes back and catches up from the others
        cluster.wait_healthy(cluster.nodes)
        for _ in range(100):
            if stored_messages(leader, "INTAKE") == 100:
                break
            await asyncio.sleep(0.1)
        assert stored_messages(leader, "INTAKE") == 100
    finally:
        await writer.close()
        await ops.close()
