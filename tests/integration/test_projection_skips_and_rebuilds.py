"""Unreadable events on projected aggregates, and rebuilds, against real nats-server and SecantusDB.

An event a projection cannot read (unknown type, payload breaking its contract) is dead-lettered
with the reason and the projection moves past it, so the aggregate's later events still apply;
a rebuild does the same and never stops on one; a rebuild keeps the live collection's indexes.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
from serambi_contracts import AggregateRef, encode_headers
from serambi_contracts.sla import SLAWarning
from serambi_kit.eventstore.model import make_envelopes
from serambi_kit.projections import Projection, projector_handler
from serambi_kit.rebuild import rebuild
from serambi_kit.runtime import Runtime
from serambi_kit.settings import ServiceSettings
from serambi_kit.topology import ConsumerSpec
from test_projection_kit import eventually, on_warning  # the kit tests' helpers, not copied

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
UNKNOWN_TYPE = "id.go.kalbarprov.ekonomi.complaints.ComplaintEscalated.v9"
PHONE = "081234567890"


class SkipTestSettings(ServiceSettings):
    service: ClassVar[str] = "kittest"


def warning(case_id: str, percent: int) -> SLAWarning:
    return SLAWarning(
        case_id=case_id, clock="ringan", threshold_percent=percent, started_at=NOW, due_at=NOW, warned_at=NOW
    )


@pytest.fixture
def kind() -> str:
    return "s" + uuid.uuid4().hex[:10]


@pytest.fixture
def projection(kind: str) -> Projection:
    return Projection(
        collection="cases", sources=(f"complaints.{kind}",), projectors={SLAWarning: on_warning}
    )


def spec(kind: str) -> ConsumerSpec:
    return ConsumerSpec("kittest", f"cases-{kind}", "complaints", (f"complaints.{kind}.>",))


def quick_settings(nats_url: str, mongo_url: str, database: str, **overrides: Any) -> SkipTestSettings:
    """A test runtime's settings: three deliveries, retried after 50 ms."""
    return SkipTestSettings(
        nats_url=nats_url,
        mongo_url=mongo_url,
        mongo_database=database,
        consumer_max_deliver=3,
        retry_delays_seconds=(0.05, 0.05, 0.05),
        **overrides,
    )


@pytest.fixture
async def start_runtime(nats_url, mongo_url, mongo_db):
    runtimes: list[Runtime] = []

    async def start(register: Callable[[Runtime], None]) -> Runtime:
        runtime = Runtime(quick_settings(nats_url, mongo_url, mongo_db.name))
        register(runtime)
        await runtime.start()
        runtimes.append(runtime)
        return runtime

    yield start
    for runtime in runtimes:
        await runtime.stop()


class Case:
    """Publishes one aggregate's events as they are stored, good or not, version by version."""

    def __init__(self, nc, kind: str, case_id: str) -> None:
        self.js = nc.jetstream()
        self.ref = AggregateRef("complaints", kind, case_id)
        self.version = 0

    async def publish(self, percent: int = 50, *, type_: str | None = None, body: bytes | None = None) -> int:
        event = warning(self.ref.id, percent)
        [envelope] = make_envelopes("/t", self.ref, [event], expected_version=self.version, event_ids=None)
        headers = encode_headers(envelope) | ({"ce-type": type_} if type_ else {})
        self.version += 1
        ack = await self.js.publish(
            f"complaints.{self.ref.aggregate}.{self.ref.id}.SLAWarning",
            body if body is not None else event.model_dump_json().encode(),
            headers=headers,
        )
        return ack.seq

    async def good(self, percent: int) -> int:
        return await self.publish(percent)

    async def unknown(self) -> int:
        return await self.publish(type_=UNKNOWN_TYPE)

    async def invalid(self) -> int:
        return await self.publish(body=json.dumps({"case_id": self.ref.id, "phone": PHONE}).encode())


def reasons(letters: list[dict]) -> list[str]:
    return sorted(letter["reason"].split(":")[0] for letter in letters)


async def test_unreadable_events_in_the_middle_of_a_case_are_dead_lettered_and_its_later_events_apply(
    nc, mongo_db, kind, projection, start_runtime
):
    case = Case(nc, kind, "mid")
    await case.good(50)
    await case.unknown()
    await case.invalid()
    await case.good(75)  # all waiting before the consumer starts: the batch path, then one by one
    runtime = await start_runtime(lambda r: r.project(spec(kind), projection))
    await case.good(90)  # and one more live

    async def settled() -> bool:
        document = await mongo_db.cases.find_one({"_id": "mid"})
        return bool(document) and document["_applied"][f"complaints_{kind}"] == 5

    await eventually(settled)
    document = await mongo_db.cases.find_one({"_id": "mid"})
    assert document["warnings"] == [50, 75, 90]
    letters = await runtime.dead_letters().list()
    assert reasons(letters) == ["UnknownEventTypeError", "ValidationError"]
    assert all(letter["deliveries"] == 1 for letter in letters)  # skipped at once, not retried
    info = await nc.jetstream().consumer_info("COMPLAINTS", spec(kind).durable)
    assert (info.num_pending, info.num_ack_pending) == (0, 0)


async def test_a_handler_for_several_projections_moves_each_past_an_unreadable_event(
    nc, mongo_db, kind, start_runtime
):
    first = Projection("cases", (f"complaints.{kind}",), {SLAWarning: on_warning})
    other = Projection("others", (f"complaints.{kind}x",), {SLAWarning: on_warning})
    handler = projector_handler([first, other], lambda: runtime.db)
    runtime = await start_runtime(lambda r: r.consume(spec(kind), handler, "test"))
    case = Case(nc, kind, "multi")
    await case.good(50)
    await case.unknown()
    await case.good(75)

    async def settled() -> bool:
        document = await mongo_db.cases.find_one({"_id": "multi"})
        return bool(document) and document.get("warnings") == [50, 75]

    await eventually(settled)
    assert reasons(await runtime.dead_letters().list()) == ["UnknownEventTypeError"]
    assert await mongo_db.others.count_documents({}) == 0


async def test_an_unreadable_first_event_is_dead_lettered_and_creates_no_document(
    nc, mongo_db, kind, projection, start_runtime
):
    runtime = await start_runtime(lambda r: r.project(spec(kind), projection))
    await Case(nc, kind, "first").unknown()
    await Case(nc, kind, "ok").good(50)

    async def settled() -> bool:
        return len(await runtime.dead_letters().list()) == 1 and await mongo_db.cases.count_documents({}) == 1

    await eventually(settled)
    assert await mongo_db.cases.find_one({"_id": "first"}) is None


async def test_a_rebuild_moves_past_unreadable_events_records_them_and_equals_the_live_model(
    nc, mongo_db, kind, projection, start_runtime
):
    runtime = await start_runtime(lambda r: r.project(spec(kind), projection))
    mid = Case(nc, kind, "mid")
    await mid.good(50)
    unknown_sequence = await mid.unknown()
    invalid_sequence = await mid.invalid()
    await mid.good(75)
    headless = Case(nc, kind, "headless")
    headless_sequence = await headless.unknown()
    orphan_sequence = await headless.good(60)  # its predecessor was never applied
    malformed = await nc.jetstream().publish(
        f"complaints.{kind}.bad.SLAWarning", b"{}", headers={"ce-id": "x"}
    )

    async def live_done() -> bool:
        document = await mongo_db.cases.find_one({"_id": "mid"})
        letters = await runtime.dead_letters().list()
        return bool(document) and document.get("warnings") == [50, 75] and len(letters) == 4

    await eventually(live_done)
    live = await mongo_db.cases.find_one({"_id": "mid"})
    report = await rebuild(nc, mongo_db, projection)
    assert report.applied == 2
    assert await mongo_db.cases.find_one({"_id": "mid"}) == live
    assert await mongo_db.cases.find_one({"_id": "headless"}) is None
    skipped = {item.sequence: item.reason for item in report.skipped}
    assert sorted(skipped) == sorted(
        [unknown_sequence, invalid_sequence, headless_sequence, orphan_sequence, malformed.seq]
    )
    assert skipped[unknown_sequence].startswith("UnknownEventTypeError: ")
    assert skipped[invalid_sequence].startswith("ValidationError: clock: Field required")
    assert skipped[orphan_sequence].startswith("its predecessor was never applied")
    assert skipped[malformed.seq].startswith("EnvelopeError")
    assert not any(PHONE in reason for reason in skipped.values())  # no payload values


async def test_a_rebuild_keeps_the_live_collection_s_secondary_indexes(nc, mongo_db, kind, projection):
    await Case(nc, kind, "c1").good(50)
    cases = mongo_db.cases
    await cases.insert_one({"_id": "seed"})
    await cases.create_index("warnings")
    await cases.create_index([("breached", 1), ("_sequence", -1)], name="by_breach")
    await cases.create_index("token", unique=True, sparse=True)
    await cases.create_index("expires_at", expireAfterSeconds=3600)
    before = await cases.index_information()
    assert len(before) == 5

    report = await rebuild(nc, mongo_db, projection)

    assert report.indexes == 4
    assert await cases.index_information() == before
    assert [doc["_id"] async for doc in cases.find()] == ["c1"]
    assert await mongo_db.list_collection_names(filter={"name": "cases__rebuild"}) == []


async def test_a_rebuild_of_a_read_model_that_does_not_exist_yet_creates_it(nc, mongo_db, kind):
    await Case(nc, kind, "new").good(50)
    projection = Projection("fresh", (f"complaints.{kind}",), {SLAWarning: on_warning})
    report = await rebuild(nc, mongo_db, projection)
    assert (report.applied, report.indexes) == (1, 0)
    assert (await mongo_db.fresh.find_one({"_id": "new"}))["warnings"] == [50]
