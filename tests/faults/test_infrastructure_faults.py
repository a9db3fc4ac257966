"""Fault scenarios 2 and 7 (issue #9): NATS restarts, leader kills, and full streams.

Every test starts its own nats-server(s) on loopback ports and temporary directories, bounds
every loop in count and time, and stops what it started. The checker compares what the
publisher saw acknowledged with what the stream holds: lost, duplicated and unexpected are 0.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import nats
import pytest
from nats.js.api import DiscardPolicy, StorageType, StreamConfig
from nats.js.errors import APIError
from prometheus_client import REGISTRY
from serambi_kit.eventstore import EventStoreError, JetStreamEventStore, deterministic_id, read_raw
from serambi_kit.topology import stream_config
from serambi_testing import localstack

RESENT_METRIC = "serambi_event_store_appends_resent_total"  # the store resends when NATS is silent

sys.path.insert(0, str(Path(__file__).parent))
from fault_infrastructure import Cluster, probe_event, probe_ref, wait_until  # noqa: E402

pytestmark = pytest.mark.faults

EVENTS = 120
RETRY_FOR_SECONDS = 30.0


def account(acked: dict[str, int], stored: list[tuple[str, int]]) -> dict[str, int]:
    """lost: acked ids not stored; duplicated: ids stored more than once; unexpected: stored
    ids never submitted; mismatched: an acked sequence that holds another id."""
    counts = Counter(event_id for event_id, _ in stored)
    by_sequence = dict((sequence, event_id) for event_id, sequence in stored)
    submitted = set(acked) | {deterministic_id("fault", str(n)) for n in range(EVENTS)}
    return {
        "lost": sum(1 for event_id in acked if counts[event_id] == 0),
        "duplicated": sum(1 for count in counts.values() if count > 1),
        "unexpected": sum(1 for event_id in counts if event_id not in submitted),
        "mismatched": sum(1 for event_id, seq in acked.items() if by_sequence.get(seq) != event_id),
    }


async def append_with_retries(
    store: JetStreamEventStore, kind: str, number: int, acked: dict[str, int], stats: Counter
) -> None:
    """Append event ``number`` (its own aggregate) until acknowledged, always with the same id."""
    event_id = deterministic_id("fault", str(number))
    deadline = time.monotonic() + RETRY_FOR_SECONDS
    while True:
        try:
            appended = await store.append(
                probe_ref(kind, number),
                [probe_event(number)],
                expected_sequence=0,
                expected_version=0,
                event_ids=[event_id],
            )
        except Exception as exc:  # noqa: BLE001 — any failure is retried with the same id
            stats[type(exc).__name__] += 1
            if time.monotonic() > deadline:
                raise AssertionError(f"event {number} not acknowledged in {RETRY_FOR_SECONDS}s") from exc
            await asyncio.sleep(0.1)
            continue
        stats["duplicate_acks" if appended.duplicate else "acks"] += 1
        acked[event_id] = appended.sequences[0]
        return


async def stored_ids(nc, stream: str, kind: str) -> list[tuple[str, int]]:
    return [
        (headers["ce-id"], int(headers["Nats-Sequence"]))
        async for headers, _ in read_raw(nc, stream, f"intake.{kind}.*.*", timeout=10.0)
    ]


async def test_a_restarted_nats_server_loses_no_acknowledged_event(tmp_path: Path) -> None:
    port = localstack.free_port()
    server = localstack.nats_server(tmp_path / "nats", port).start()
    nc = await nats.connect(
        localstack.nats_url(port), max_reconnect_attempts=-1, reconnect_time_wait=0.1, connect_timeout=2
    )
    try:
        js = nc.jetstream()
        await js.add_stream(stream_config("intake", 1))
        store = JetStreamEventStore(nc, "/faults", timeout=2.0)
        kind = "f" + uuid.uuid4().hex[:8]
        acked: dict[str, int] = {}
        stats: Counter = Counter()
        resent_before = REGISTRY.get_sample_value(RESENT_METRIC, {"stream": "INTAKE"}) or 0
        started = time.monotonic()
        for number in range(EVENTS):
            if number in (30, 80):  # restart mid-run: same port, same store directory
                server.stop()
                restart = asyncio.get_running_loop().call_later(1.0, lambda: server.start(ready_timeout=20))
                await append_with_retries(store, kind, number, acked, stats)
                restart.cancel()
                continue
            await append_with_retries(store, kind, number, acked, stats)
        elapsed = time.monotonic() - started
        result = account(acked, await stored_ids(nc, "INTAKE", kind))
        print(f"single-server restart x2: {len(acked)} acked in {elapsed:.1f}s, {dict(stats)}, {result}")
        assert len(acked) == EVENTS
        assert result == {"lost": 0, "duplicated": 0, "unexpected": 0, "mismatched": 0}
        resent = REGISTRY.get_sample_value(RESENT_METRIC, {"stream": "INTAKE"}) or 0
        errors = sum(v for k, v in stats.items() if k not in ("acks", "duplicate_acks"))
        assert errors + resent - resent_before > 0, (
            "the restarts caused no publish error and no re-sent append: the fault was not exercised"
        )
    finally:
        await nc.close()
        server.stop()


async def test_killing_the_r3_stream_leader_loses_no_acknowledged_event(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path)
    cluster.start_all()
    nc = None
    try:
        nc = await nats.connect(
            servers=cluster.urls(), max_reconnect_attempts=-1, reconnect_time_wait=0.1, connect_timeout=2
        )
        js = nc.jetstream(timeout=5)

        async def created() -> bool:
            try:
                await js.add_stream(stream_config("intake", 3))
            except Exception:  # noqa: BLE001 — the meta leader may still be electing
                return False
            return True

        await wait_until(created, 30, interval=0.5)
        store = JetStreamEventStore(nc, "/faults", timeout=2.0)
        kind = "f" + uuid.uuid4().hex[:8]
        acked: dict[str, int] = {}
        stats: Counter = Counter()
        kills: list[str] = []
        started = time.monotonic()
        for number in range(EVENTS):
            if number in (20, 55, 90):
                leader = (await js.stream_info("INTAKE")).cluster.leader
                victim = cluster.node_named(leader)
                assert victim.process is not None
                victim.process.kill()  # SIGKILL, then reap
                kills.append(leader)
                for extra in range(number, number + 5):  # appends while the node is down
                    await append_with_retries(store, kind, extra, acked, stats)
                cluster.start(victim)
                cluster.wait_healthy()
                continue
            if any(number in range(k, k + 5) for k in (20, 55, 90)):
                continue
            await append_with_retries(store, kind, number, acked, stats)
        elapsed = time.monotonic() - started

        async def current() -> bool:
            info = await js.stream_info("INTAKE")
            replicas = info.cluster.replicas or []
            return len(replicas) == 2 and all(r.current for r in replicas)

        await wait_until(current, 30)
        result = account(acked, await stored_ids(nc, "INTAKE", kind))
        print(
            f"R3 leader kill -9 x{len(kills)} ({kills}): {len(acked)} acked in {elapsed:.1f}s, "
            f"{dict(stats)}, {result}"
        )
        assert len(kills) == 3
        assert len(acked) == EVENTS
        assert result == {"lost": 0, "duplicated": 0, "unexpected": 0, "mismatched": 0}
    finally:
        if nc is not None:
            await nc.close()
        cluster.stop_all()


@pytest.fixture
async def lone_nats(tmp_path: Path):
    server = localstack.nats_server(tmp_path / "nats", localstack.free_port()).start()
    nc = await nats.connect(localstack.nats_url(server.port), connect_timeout=2)
    yield nc
    await nc.close()
    server.stop()


async def test_a_full_stream_refuses_without_false_acknowledgements_and_recovers(lone_nats) -> None:
    js = lone_nats.jetstream(timeout=5)
    config = StreamConfig(
        name="FAULTLIMIT",
        subjects=["faultlimit.>"],
        storage=StorageType.FILE,
        max_msgs=40,
        max_bytes=64 * 1024,
        discard=DiscardPolicy.NEW,
    )
    await js.add_stream(config)
    acked: dict[int, bytes] = {}
    refused: Counter = Counter()
    for number in range(200):  # 40 fit by count; 1 KiB bodies keep max_bytes out of the way
        body = f"{number:04d}".encode() + b"x" * 1000
        try:
            ack = await js.publish(f"faultlimit.{number}", body, headers={"Nats-Msg-Id": f"m{number}"})
        except APIError as exc:
            refused[exc.err_code] += 1
            continue
        acked[ack.seq] = body
    # Every ack names a stored message with the body that was sent.
    for seq, body in acked.items():
        assert (await js.get_msg("FAULTLIMIT", seq)).data == body
    info = await js.stream_info("FAULTLIMIT")
    assert len(acked) == info.state.messages == 40
    assert sum(refused.values()) == 160
    # Space returns: raise the limits, and publishing works again.
    config.max_msgs, config.max_bytes = 400, 1024 * 1024
    await js.update_stream(config)
    ack = await js.publish("faultlimit.after", b"after", headers={"Nats-Msg-Id": "after"})
    assert (await js.get_msg("FAULTLIMIT", ack.seq)).data == b"after"
    # Now the byte limit: fill by bytes until refused.
    bytes_refused = 0
    for number in range(2000):
        try:
            ack = await js.publish(f"faultlimit.b{number}", b"y" * 4000)
        except APIError as exc:
            refused[exc.err_code] += 1
            bytes_refused += 1
            if bytes_refused >= 5:
                break
            continue
        acked[ack.seq] = b"y" * 4000
    for seq, body in acked.items():
        assert (await js.get_msg("FAULTLIMIT", seq)).data == body
    info = await js.stream_info("FAULTLIMIT")
    print(
        f"stream limits: {len(acked)} acked (all read back), refused by code {dict(refused)}, "
        f"state {info.state.messages} msgs / {info.state.bytes} bytes"
    )
    assert bytes_refused == 5
    assert info.state.messages == len(acked) + 1


async def test_the_event_store_reports_a_full_stream_as_a_clear_error(lone_nats) -> None:
    js = lone_nats.jetstream(timeout=5)
    config = stream_config("intake", 1)
    config.max_msgs, config.discard = 3, DiscardPolicy.NEW
    await js.add_stream(config)
    store = JetStreamEventStore(lone_nats, "/faults", timeout=2.0)
    for number in range(3):
        await store.append(
            probe_ref("full", number), [probe_event(number)], expected_sequence=0, expected_version=0
        )
    with pytest.raises(EventStoreError) as refused:
        await store.append(probe_ref("full", 3), [probe_event(3)], expected_sequence=0, expected_version=0)
    message = str(refused.value)
    print(f"event store error: {message}")
    assert "intake.full.p3" in message and "maximum messages exceeded" in message
    assert (await js.stream_info("INTAKE")).state.messages == 3
    config.max_msgs = 10
    await js.update_stream(config)
    appended = await store.append(
        probe_ref("full", 3), [probe_event(3)], expected_sequence=0, expected_version=0
    )
    assert appended.sequences == (4,)


async def test_a_full_disk_refuses_without_false_acknowledgements_and_recovers(tmp_path: Path) -> None:
    """The server's JetStream file-store limit (as a full disk looks to JetStream): publishers
    get 10023 "insufficient resources", the event store says so, and freeing space recovers."""
    port = localstack.free_port()
    config = tmp_path / "nats.conf"
    config.write_text(
        f'listen: "127.0.0.1:{port}"\njetstream {{ store_dir: "{tmp_path / "js"}", max_file_store: 1MB }}\n'
    )
    server = localstack.ManagedProcess(
        "nats",
        [localstack.find_binary("nats-server"), "-c", str(config)],
        port,
        tmp_path / "nats.log",
    ).start()
    nc = await nats.connect(localstack.nats_url(port), connect_timeout=2)
    try:
        js = nc.jetstream(timeout=5)
        await js.add_stream(stream_config("intake", 1))
        await js.add_stream(StreamConfig(name="FILLER", subjects=["filler.>"], storage=StorageType.FILE))
        acked: dict[int, bytes] = {}
        refused: Counter = Counter()
        for number in range(400):  # 4 kB each: the 1 MB store fills after about 260
            body = f"{number:04d}".encode() + b"z" * 4000
            try:
                ack = await js.publish(f"filler.{number}", body)
            except APIError as exc:
                refused[(exc.err_code, exc.description)] += 1
                continue
            acked[ack.seq] = body
        for seq, body in acked.items():
            assert (await js.get_msg("FILLER", seq)).data == body
        assert (await js.stream_info("FILLER")).state.messages == len(acked)
        assert refused and set(refused) == {(10023, "insufficient resources")}
        store = JetStreamEventStore(nc, "/faults", timeout=2.0)
        with pytest.raises(EventStoreError) as full:
            await store.append(
                probe_ref("disk", 0), [probe_event(0)], expected_sequence=0, expected_version=0
            )
        assert "insufficient resources" in str(full.value)
        assert (await js.stream_info("INTAKE")).state.messages == 0
        await js.delete_stream("FILLER")  # space returns
        appended = await store.append(
            probe_ref("disk", 0), [probe_event(0)], expected_sequence=0, expected_version=0
        )
        assert appended.sequences == (1,)
        print(
            f"disk limit: {len(acked)} acked (all read back), refused {dict(refused)}; "
            f"event store: {full.value}"
        )
    finally:
        await nc.close()
        server.stop()
