"""A backlog projected in batches whose consecutive changes to a document are merged into one
write (``projections.coalesce``), against real nats-server and SecantusDB: the read model is
the one event-by-event application gives, events applied before are not applied twice, an
unreadable event in the middle of a batch is dead-lettered while the rest applies, and every
message is acknowledged (nothing comes back after a restart)."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from serambi_contracts.sla import SLAWarning
from serambi_kit import runtime as runtime_module
from serambi_kit.eventstore import RecordedEvent
from serambi_kit.messaging import caught_up
from serambi_kit.projections import Change, Projection, apply_change, read_leniently
from serambi_kit.runtime import Runtime
from test_projection_kit import eventually
from test_projection_skips_and_rebuilds import Case, quick_settings, reasons, spec


def counting(event: SLAWarning, recorded: RecordedEvent) -> Change:
    return Change(event.case_id, {"$set": {"last": event.threshold_percent}, "$inc": {"count": 1}})


@pytest.fixture
def kind() -> str:
    return "b" + uuid.uuid4().hex[:10]


@pytest.fixture
def projection(kind: str) -> Projection:
    return Projection(collection="counts", sources=(f"complaints.{kind}",), projectors={SLAWarning: counting})


@pytest.fixture
def batches(monkeypatch) -> list[tuple[int, bool]]:
    """(size, whether the merged writes took effect) of every batch the runtime applies; a
    write that raises (a first event's upsert on a document that exists) counts as not."""
    seen: list[tuple[int, bool]] = []
    apply_batch = runtime_module.apply_batch

    async def recording(collection, projection, batch):
        result = False
        try:
            result = await apply_batch(collection, projection, batch)
        finally:
            seen.append((len(batch), result))
        return result

    monkeypatch.setattr(runtime_module, "apply_batch", recording)
    return seen


@pytest.fixture
async def runtimes(nats_url, mongo_url, mongo_db, kind, projection):
    """Starts a runtime projecting ``projection``; stopped at the end unless stopped before."""
    started: list[Runtime] = []

    async def start(**overrides) -> Runtime:
        runtime = Runtime(quick_settings(nats_url, mongo_url, mongo_db.name, **overrides))
        runtime.project(spec(kind), projection)
        await runtime.start()
        started.append(runtime)
        return runtime

    async def stop(runtime: Runtime) -> None:
        started.remove(runtime)
        await runtime.stop()

    yield start, stop
    for runtime in started:
        await runtime.stop()


async def publish_round_robin(cases: dict[str, Case], percents: tuple[int, ...]) -> dict[str, list[int]]:
    sequences: dict[str, list[int]] = {name: [] for name in cases}
    for percent in percents:
        for name, case in cases.items():
            sequences[name].append(await case.good(percent))
    return sequences


async def counts(mongo_db) -> dict[str, tuple[int, int, int]]:
    return {
        doc["_id"]: (doc["count"], doc["last"], next(iter(doc["_applied"].values())))
        async for doc in mongo_db.counts.find()
    }


async def test_a_backlog_is_applied_in_merged_writes_each_event_once_and_all_acked(
    nc, mongo_db, kind, projection, runtimes, batches
):
    start, stop = runtimes
    cases = {name: Case(nc, kind, name) for name in ("a", "b", "c")}
    await publish_round_robin(cases, (10, 20, 30, 40, 50))
    js = nc.jetstream()
    runtime = await start()
    assert await caught_up(js, spec(kind), timeout=20)
    assert batches == [(15, True)]  # one batch, every merged write took effect
    assert await counts(mongo_db) == {"a": (5, 50, 5), "b": (5, 50, 5), "c": (5, 50, 5)}
    await stop(runtime)

    await start()
    await publish_round_robin({"a": cases["a"]}, (60,))
    assert await caught_up(js, spec(kind), timeout=20)
    assert await counts(mongo_db) == {"a": (6, 60, 6), "b": (5, 50, 5), "c": (5, 50, 5)}
    info = await js.consumer_info("COMPLAINTS", spec(kind).durable)
    assert (info.num_pending, info.num_ack_pending, info.num_redelivered) == (0, 0, 0)


async def test_a_backlog_of_many_batches_is_applied_in_order_while_the_next_batch_is_taken(
    nc, mongo_db, kind, projection, runtimes, batches
):
    start, _ = runtimes
    cases = {name: Case(nc, kind, name) for name in ("a", "b", "c")}
    await publish_round_robin(cases, tuple(range(1, 11)))
    await start(projection_batch_size=4)
    js = nc.jetstream()
    assert await caught_up(js, spec(kind), timeout=20)
    assert sum(size for size, _ in batches) == 30 and all(applied for _, applied in batches)
    assert [size for size, _ in batches][:7] == [4] * 7
    assert await counts(mongo_db) == {"a": (10, 10, 10), "b": (10, 10, 10), "c": (10, 10, 10)}
    info = await js.consumer_info("COMPLAINTS", spec(kind).durable)
    assert (info.num_pending, info.num_ack_pending, info.num_redelivered) == (0, 0, 0)


async def test_events_applied_before_are_not_applied_again_when_a_merged_write_misses(
    nc, mongo_db, kind, projection, runtimes, batches
):
    """c's first two events were applied before (a consumer whose acks were lost): its merged
    write does not match, the batch falls back to one event at a time, and each applies once."""
    start, _ = runtimes
    cases = {name: Case(nc, kind, name) for name in ("a", "b", "c")}
    sequences = await publish_round_robin(cases, (10, 20, 30, 40, 50))
    js = nc.jetstream()
    for sequence in sequences["c"][:2]:
        message = await js.get_msg("COMPLAINTS", sequence)
        recorded = read_leniently(message.headers, message.subject, message.data, sequence)
        assert await apply_change(mongo_db.counts, projection.change_for(recorded), recorded)
    await start()
    assert await caught_up(js, spec(kind), timeout=20)
    assert batches[0] == (15, False)
    assert await counts(mongo_db) == {"a": (5, 50, 5), "b": (5, 50, 5), "c": (5, 50, 5)}


async def test_an_unreadable_event_in_the_middle_of_a_batch_is_dead_lettered_and_the_rest_applies(
    nc, mongo_db, kind, projection, runtimes
):
    start, _ = runtimes
    cases = {name: Case(nc, kind, name) for name in ("a", "b", "c")}
    await publish_round_robin(cases, (10, 20, 30))
    await cases["b"].invalid()  # version 4 of b
    await publish_round_robin(cases, (40, 50))
    runtime = await start()
    assert await caught_up(nc.jetstream(), spec(kind), timeout=20)
    assert await counts(mongo_db) == {"a": (5, 50, 5), "b": (5, 50, 6), "c": (5, 50, 5)}
    assert reasons(await runtime.dead_letters().list()) == ["ValidationError"]

    async def nothing_left() -> bool:
        info = await nc.jetstream().consumer_info("COMPLAINTS", spec(kind).durable)
        return (info.num_pending, info.num_ack_pending) == (0, 0)

    await eventually(nothing_left)


async def test_a_stop_ends_a_projection_draining_a_backlog_after_its_current_batch(
    nc, mongo_db, kind, projection, runtimes, monkeypatch
):
    """Each batch of this backlog takes 0.3 s (15 batches): the runtime's stop ends the
    projection after the batch under way — not after the backlog, nor after FastStream's 15-s
    graceful timeout. What it took and did not settle comes back after the ack wait."""
    start, stop = runtimes
    applied: list[int] = []
    apply_batch = runtime_module.apply_batch

    async def slow(collection, projection, batch):
        await asyncio.sleep(0.3)
        applied.append(len(batch))
        return await apply_batch(collection, projection, batch)

    monkeypatch.setattr(runtime_module, "apply_batch", slow)
    cases = {name: Case(nc, kind, name) for name in ("a", "b", "c")}
    await publish_round_robin(cases, tuple(range(1, 21)))
    runtime = await start(projection_batch_size=4)

    async def first_batch_applied() -> bool:
        return bool(applied)

    await eventually(first_batch_applied)
    began = time.monotonic()
    await stop(runtime)
    assert time.monotonic() - began < 3.0
    assert sum(applied) < 60
