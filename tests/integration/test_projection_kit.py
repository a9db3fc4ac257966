"""The projection kit and delivery policy against real nats-server and SecantusDB."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import ClassVar

import pytest
from serambi_contracts import AggregateRef, encode_headers
from serambi_contracts.sla import SLABreached, SLAWarning
from serambi_kit import runtime as runtime_module
from serambi_kit.eventstore import JetStreamEventStore, RecordedEvent, execute
from serambi_kit.eventstore.model import make_envelopes
from serambi_kit.messaging import OutOfOrderError, caught_up
from serambi_kit.projections import Change, Projection, apply_change
from serambi_kit.rebuild import rebuild
from serambi_kit.runtime import Runtime
from serambi_kit.settings import ServiceSettings
from serambi_kit.topology import ConsumerSpec

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


class KitTestSettings(ServiceSettings):
    service: ClassVar[str] = "kittest"


def warning(case_id: str, percent: int) -> SLAWarning:
    return SLAWarning(
        case_id=case_id, clock="ringan", threshold_percent=percent, started_at=NOW, due_at=NOW, warned_at=NOW
    )


def on_warning(event: SLAWarning, recorded: RecordedEvent) -> Change:
    return Change(event.case_id, {"$push": {"warnings": event.threshold_percent}})


def on_breach(event: SLABreached, recorded: RecordedEvent) -> Change:
    return Change(event.case_id, {"$set": {"breached": True}})


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


@pytest.fixture
def kind() -> str:
    """A unique aggregate kind per test, so consumers see only this test's events."""
    return "t" + uuid.uuid4().hex[:10]


@pytest.fixture
def projection(kind: str) -> Projection:
    return Projection(
        collection="cases",
        sources=(f"complaints.{kind}",),
        projectors={SLAWarning: on_warning, SLABreached: on_breach},
    )


@pytest.fixture
async def start_runtime(nats_url, mongo_url, mongo_db):
    runtimes: list[Runtime] = []

    async def start(register: Callable[[Runtime], None], **overrides) -> Runtime:
        settings = KitTestSettings(
            nats_url=nats_url,
            mongo_url=mongo_url,
            mongo_database=mongo_db.name,
            consumer_max_deliver=3,
            retry_delays_seconds=(0.05, 0.05, 0.05),
            **overrides,
        )
        runtime = Runtime(settings)
        register(runtime)
        await runtime.start()
        runtimes.append(runtime)
        return runtime

    yield start
    for runtime in runtimes:
        await runtime.stop()


def spec(kind: str, purpose: str = "cases") -> ConsumerSpec:
    return ConsumerSpec("kittest", f"{purpose}-{kind}", "complaints", (f"complaints.{kind}.>",))


async def test_a_redelivered_event_changes_a_document_only_once(nc, mongo_db, kind, projection):
    store = JetStreamEventStore(nc, "/serambi/test")
    ref = AggregateRef("complaints", kind, "c1")
    await store.append(ref, [warning("c1", 50)], expected_sequence=0, expected_version=0)
    recorded = (await store.load(ref)).events[0]
    assert await apply_change(mongo_db.cases, projection.change_for(recorded), recorded)
    assert not await apply_change(mongo_db.cases, projection.change_for(recorded), recorded)
    document = await mongo_db.cases.find_one({"_id": "c1"})
    assert document["warnings"] == [50]
    assert document["_applied"] == {f"complaints_{kind}": 1}
    assert document["_sequence"] == recorded.sequence


async def test_an_event_that_arrives_before_its_predecessor_waits_for_it(nc, mongo_db, kind, projection):
    store = JetStreamEventStore(nc, "/serambi/test")
    ref = AggregateRef("complaints", kind, "c2")
    await store.append(ref, [warning("c2", 50), warning("c2", 75)], expected_sequence=0, expected_version=0)
    first, second = (await store.load(ref)).events
    with pytest.raises(OutOfOrderError):
        await apply_change(mongo_db.cases, projection.change_for(second), second)
    await apply_change(mongo_db.cases, projection.change_for(first), first)
    await apply_change(mongo_db.cases, projection.change_for(second), second)
    assert (await mongo_db.cases.find_one({"_id": "c2"}))["warnings"] == [50, 75]


async def test_a_live_projection_follows_appends_across_aggregates(
    nc, mongo_db, kind, projection, start_runtime
):
    runtime = await start_runtime(lambda r: r.project(spec(kind), projection))
    for case in ("a", "b", "c"):
        ref = AggregateRef("complaints", kind, case)
        for percent in (50, 75, 90):
            await execute(runtime.store, ref, lambda _h, p=percent, c=case: [warning(c, p)])

    async def done() -> bool:
        return await mongo_db.cases.count_documents({"warnings": [50, 75, 90]}) == 3

    await eventually(done)


async def test_poison_messages_are_dead_lettered_with_the_reason_and_the_rest_keeps_flowing(
    nc, mongo_db, kind, projection, start_runtime
):
    runtime = await start_runtime(lambda r: r.project(spec(kind), projection))
    [envelope] = make_envelopes(
        "/t", AggregateRef("complaints", kind, "p"), [warning("p", 50)], expected_version=0, event_ids=None
    )
    good = encode_headers(envelope)
    body = warning("p", 50).model_dump_json().encode()
    poison = {
        "malformed envelope": ({"ce-id": "x"}, body),
        "unknown type": ({**good, "ce-type": "id.go.kalbarprov.ekonomi.x.Nope.v1", "ce-id": "u1"}, body),
        "invalid payload": ({**good, "ce-id": "v1"}, json.dumps({"case_id": "p"}).encode()),
        "not json": ({**good, "ce-id": "j1"}, b"\xff{"),
    }
    js = nc.jetstream()
    for number, (headers, data) in enumerate(poison.values()):
        await js.publish(f"complaints.{kind}.poison{number}.SLAWarning", data, headers=headers)
    await execute(runtime.store, AggregateRef("complaints", kind, "ok"), lambda _h: [warning("ok", 50)])

    async def settled() -> bool:
        letters = await runtime.dead_letters().list()
        return len(letters) == 4 and await mongo_db.cases.count_documents({"_id": "ok"}) == 1

    await eventually(settled)
    reasons = sorted(letter["reason"].split(":")[0] for letter in await runtime.dead_letters().list())
    assert reasons == ["EnvelopeError", "UnknownEventTypeError", "ValidationError", "ValidationError"]
    letter = next(
        x for x in await runtime.dead_letters().list() if x["subject"].endswith("poison0.SLAWarning")
    )
    assert letter["stream"] == "COMPLAINTS" and letter["sequence"] > 0 and letter["payload"] == body


async def test_an_outage_is_waited_out_and_a_persistent_failure_dead_lettered(
    nc, mongo_db, kind, start_runtime
):
    attempts: dict[str, int] = {}
    outage_over = asyncio.Event()

    async def flaky(recorded: RecordedEvent) -> None:
        case = recorded.ref.id
        attempts[case] = attempts.get(case, 0) + 1
        if case == "outage" and not outage_over.is_set():
            raise ConnectionError("database away")  # a dependency down: wait, never dead-letter
        if case == "twice" and attempts[case] < 3:
            raise ConnectionError("database briefly away")
        if case == "bug":
            raise RuntimeError("handler bug")  # not an outage: the delivery budget applies

    # an outage of 3 ack waits: the held message's ack wait must be renewed, not run out
    runtime = await start_runtime(
        lambda r: r.consume(spec(kind, "flaky"), flaky, "test"),
        consumer_ack_wait_seconds=1.5,
        outage_retry_max_seconds=0.3,
        consumer_stall_seconds=2.0,
        consumer_watch_seconds=0.5,
    )
    for case in ("twice", "bug"):
        await execute(
            runtime.store, AggregateRef("complaints", kind, case), lambda _h, c=case: [warning(c, 50)]
        )

    async def settled() -> bool:
        return attempts.get("twice") == 3 and len(await runtime.dead_letters().list()) == 1

    await eventually(settled, timeout=30)
    # a consumer whose dependency is down holds its message and takes no other meanwhile
    await execute(
        runtime.store, AggregateRef("complaints", kind, "outage"), lambda _h: [warning("outage", 50)]
    )
    await asyncio.sleep(4.5)
    assert attempts["outage"] >= 6
    [letter] = await runtime.dead_letters().list()
    assert letter["subject"].endswith(".bug.SLAWarning")
    assert letter["reason"].startswith("failed 3 deliveries; last: RuntimeError")
    info = await nc.jetstream().consumer_info(spec(kind, "flaky").stream, spec(kind, "flaky").durable)
    assert info.num_ack_pending == 1 and info.num_redelivered == 0  # held, its ack wait renewed
    durable = spec(kind, "flaky").durable
    assert runtime.consumer_health()[durable].startswith("stalled: 1 messages waiting")
    outage_over.set()

    async def outage_handled() -> bool:
        done = await nc.jetstream().consumer_info(spec(kind, "flaky").stream, spec(kind, "flaky").durable)
        return done.num_ack_pending == 0 and done.num_pending == 0

    await eventually(outage_handled, timeout=30)

    async def progressing() -> bool:
        return runtime.consumer_health()[durable] == "ok"

    await eventually(progressing, timeout=10)
    assert attempts["bug"] == 3 and len(await runtime.dead_letters().list()) == 1


async def test_a_rebuilt_read_model_equals_the_live_one(nc, mongo_db, kind, projection, start_runtime):
    runtime = await start_runtime(lambda r: r.project(spec(kind), projection))
    for case in ("r1", "r2"):
        ref = AggregateRef("complaints", kind, case)
        await execute(runtime.store, ref, lambda _h, c=case: [warning(c, 50), warning(c, 75)])
        await execute(
            runtime.store,
            ref,
            lambda _h, c=case: [
                SLABreached(case_id=c, clock="ringan", started_at=NOW, due_at=NOW, breached_at=NOW)
            ],
        )

    async def live_done() -> bool:
        return await mongo_db.cases.count_documents({"breached": True}) == 2

    await eventually(live_done)
    live = [doc async for doc in mongo_db.cases.find().sort("_id")]
    await mongo_db.cases.update_one({"_id": "r1"}, {"$set": {"warnings": ["corrupted"]}})
    report = await rebuild(nc, mongo_db, projection)
    assert report.applied == 6
    assert [doc async for doc in mongo_db.cases.find().sort("_id")] == live


async def test_caught_up_waits_until_the_projection_applied_what_its_stream_held(
    nc, mongo_db, kind, projection, start_runtime, monkeypatch
):
    """A read model's reader (a calendar revision listing open cases) waits for the events
    stored before it asked; not for ever: False once the time is up."""
    gate, held = asyncio.Event(), runtime_module.apply_batch

    async def gated(collection, views, batch):
        await gate.wait()
        return await held(collection, views, batch)

    monkeypatch.setattr(runtime_module, "apply_batch", gated)
    runtime = await start_runtime(lambda r: r.project(spec(kind), projection))
    js = nc.jetstream()
    assert await caught_up(js, spec(kind), timeout=10)  # nothing of its own stored yet
    ref = AggregateRef("complaints", kind, "late")
    await execute(runtime.store, ref, lambda _h: [warning("late", 50)])
    assert not await caught_up(js, spec(kind), timeout=0.5)  # delivered, not applied
    assert await mongo_db.cases.find_one({"_id": "late"}) is None
    gate.set()
    assert await caught_up(js, spec(kind), timeout=30)
    assert (await mongo_db.cases.find_one({"_id": "late"}))["warnings"] == [50]
