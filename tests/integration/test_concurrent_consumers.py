"""A consumer with ``workers`` > 1 (``Runtime.consume``) on a real nats-server: messages of
different aggregates are handled at once, those of one aggregate one after the other in stream
order, and a stop lets the handlers already started finish and ack (the broker's connection
closes only after them)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from serambi_contracts import AggregateRef
from serambi_contracts.sla import SLAWarning
from serambi_kit.eventstore import JetStreamEventStore, RecordedEvent
from serambi_kit.runtime import Runtime
from serambi_kit.settings import ServiceSettings
from serambi_kit.topology import ConsumerSpec

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


class KitTestSettings(ServiceSettings):
    service: ClassVar[str] = "kittest"


def warning(case: str, percent: int) -> SLAWarning:
    return SLAWarning(
        case_id=case, clock="ringan", threshold_percent=percent, started_at=NOW, due_at=NOW, warned_at=NOW
    )


async def append(store: JetStreamEventStore, kind: str, case: str, percents: list[int]) -> None:
    await store.append(
        AggregateRef("complaints", kind, case),
        [warning(case, percent) for percent in percents],
        expected_sequence=0,
        expected_version=0,
    )


def runtime_for(nats_url: str, mongo_url: str, database: str, **settings: Any) -> Runtime:
    return Runtime(
        KitTestSettings(nats_url=nats_url, mongo_url=mongo_url, mongo_database=database, **settings)
    )


async def test_aggregates_are_handled_at_once_and_each_one_in_order(nc, nats_url, mongo_url, mongo_db):
    kind = "t" + uuid.uuid4().hex[:10]
    store = JetStreamEventStore(nc, "/serambi/test")
    for case in ("a", "b", "c", "d"):
        await append(store, kind, case, [50, 75, 90])
    seen: dict[str, list[int]] = {}
    running = most = 0
    all_handled = asyncio.Event()

    async def handle(recorded: RecordedEvent) -> None:
        nonlocal running, most
        event = recorded.event
        assert isinstance(event, SLAWarning)
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.05 if event.threshold_percent == 50 else 0)  # the first is the slowest
        seen.setdefault(event.case_id, []).append(event.threshold_percent)
        running -= 1
        if sum(map(len, seen.values())) == 12:
            all_handled.set()

    runtime = runtime_for(nats_url, mongo_url, mongo_db.name)
    spec = ConsumerSpec("kittest", f"workers-{kind}", "complaints", (f"complaints.{kind}.>",))
    runtime.consume(spec, handle, "test", workers=4)
    await runtime.start()
    try:
        await asyncio.wait_for(all_handled.wait(), 10)
    finally:
        await runtime.stop()
    assert seen == {case: [50, 75, 90] for case in "abcd"}
    assert most > 1


async def test_a_stop_lets_started_handlers_finish_and_ack(nc, nats_url, mongo_url, mongo_db):
    kind = "t" + uuid.uuid4().hex[:10]
    store = JetStreamEventStore(nc, "/serambi/test")
    for case in ("a", "b", "c"):
        await append(store, kind, case, [50])
    started: set[str] = set()
    finished: list[str] = []
    all_started = asyncio.Event()

    async def handle(recorded: RecordedEvent) -> None:
        event = recorded.event
        assert isinstance(event, SLAWarning)
        started.add(event.case_id)
        if len(started) == 3:
            all_started.set()
        await asyncio.sleep(0.5)  # still running when the stop begins
        finished.append(event.case_id)

    runtime = runtime_for(nats_url, mongo_url, mongo_db.name)
    spec = ConsumerSpec("kittest", f"stop-{kind}", "complaints", (f"complaints.{kind}.>",))
    runtime.consume(spec, handle, "test", workers=4)
    await runtime.start()
    await asyncio.wait_for(all_started.wait(), 10)
    await runtime.stop()
    assert sorted(finished) == ["a", "b", "c"]
    info = await nc.jetstream().consumer_info("COMPLAINTS", spec.durable)
    assert info.num_ack_pending == 0 and info.num_pending == 0  # all three acked, none to redeliver


async def test_a_message_waiting_for_a_busy_worker_is_not_redelivered_to_another_replica(
    nc, nats_url, mongo_url, mongo_db
):
    kind = "t" + uuid.uuid4().hex[:10]
    store = JetStreamEventStore(nc, "/serambi/test")
    spec = ConsumerSpec("kittest", f"busy-{kind}", "complaints", (f"complaints.{kind}.>",))
    first_handled: list[str] = []
    both_busy = asyncio.Event()

    async def slow(recorded: RecordedEvent) -> None:  # both workers busy for twice the ack wait
        first_handled.append(recorded.ref.id)
        if len(first_handled) == 2:
            both_busy.set()
        if recorded.ref.id != "c":
            await asyncio.sleep(3)

    other_handled: list[str] = []

    async def record(recorded: RecordedEvent) -> None:
        other_handled.append(recorded.ref.id)

    await append(store, kind, "a", [50])
    await append(store, kind, "b", [50])
    first, other = (
        runtime_for(nats_url, mongo_url, mongo_db.name, consumer_ack_wait_seconds=1.5) for _ in range(2)
    )
    first.consume(spec, slow, "test", workers=2)
    other.consume(spec, record, "test")
    await first.start()
    try:
        await asyncio.wait_for(both_busy.wait(), 10)
        await append(store, kind, "c", [50])  # the first replica takes it and waits for a worker
        await asyncio.sleep(0.5)
        await other.start()
        await asyncio.sleep(3)  # past the ack wait of the waiting message
    finally:
        await first.stop()
        await other.stop()
    assert sorted(first_handled) == ["a", "b", "c"]
    assert other_handled == []


async def test_messages_waiting_behind_their_aggregate_are_not_redelivered_to_another_replica(
    nc, nats_url, mongo_url, mongo_db
):
    """Six events of one case, each handled in 0.4 s: the last waits 2 s, past the ack wait,
    while no single handler runs long enough to renew anything itself."""
    kind = "t" + uuid.uuid4().hex[:10]
    store = JetStreamEventStore(nc, "/serambi/test")
    spec = ConsumerSpec("kittest", f"chain-{kind}", "complaints", (f"complaints.{kind}.>",))
    first_handled: list[int] = []
    other_handled: list[int] = []

    async def in_turn(recorded: RecordedEvent) -> None:
        assert isinstance(recorded.event, SLAWarning)
        first_handled.append(recorded.event.threshold_percent)
        await asyncio.sleep(0.4)

    async def record(recorded: RecordedEvent) -> None:
        assert isinstance(recorded.event, SLAWarning)
        other_handled.append(recorded.event.threshold_percent)

    await append(store, kind, "a", [1, 2, 3, 4, 5, 6])
    first, other = (
        runtime_for(nats_url, mongo_url, mongo_db.name, consumer_ack_wait_seconds=1.5) for _ in range(2)
    )
    first.consume(spec, in_turn, "test", workers=6)
    other.consume(spec, record, "test")
    await first.start()
    try:
        await asyncio.sleep(0.2)  # the first replica took all six
        await other.start()
        await asyncio.sleep(3)
    finally:
        await first.stop()
        await other.stop()
    assert first_handled == [1, 2, 3, 4, 5, 6]
    assert other_handled == []
