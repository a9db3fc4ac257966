"""A service's indexes exist before its first consumer handles an event: ``Runtime.start`` runs
the ``before_consuming`` steps before it starts the broker. Built while consumers upserted into
the same new collections, SecantusDB 0.7 deadlocked (docs/architecture.md, "Start-up order")."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import ClassVar

from serambi_contracts import AggregateRef
from serambi_contracts.sla import SLAWarning
from serambi_kit.eventstore import JetStreamEventStore, RecordedEvent
from serambi_kit.runtime import Runtime
from serambi_kit.settings import ServiceSettings
from serambi_kit.topology import ConsumerSpec

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


class KitTestSettings(ServiceSettings):
    service: ClassVar[str] = "kittest"


async def test_the_indexes_are_made_before_the_first_event_is_handled(nc, nats_url, mongo_url, mongo_db):
    kind = "t" + uuid.uuid4().hex[:10]
    store = JetStreamEventStore(nc, "/serambi/test")
    warning = SLAWarning(
        case_id="c1", clock="ringan", threshold_percent=50, started_at=NOW, due_at=NOW, warned_at=NOW
    )
    await store.append(
        AggregateRef("complaints", kind, "c1"), [warning], expected_sequence=0, expected_version=0
    )
    steps: list[str] = []
    handled = asyncio.Event()

    async def create_indexes() -> None:
        await asyncio.sleep(0.5)  # a consumer already running would handle the waiting event meanwhile
        await mongo_db.cases.create_index("due_at")
        steps.append("indexes")

    async def handle(recorded: RecordedEvent) -> None:
        indexes = await mongo_db.cases.index_information()
        steps.append("handled with the index" if "due_at_1" in indexes else "handled without it")
        await mongo_db.cases.update_one({"_id": "c1"}, {"$set": {"due_at": NOW}}, upsert=True)
        handled.set()

    settings = KitTestSettings(nats_url=nats_url, mongo_url=mongo_url, mongo_database=mongo_db.name)
    runtime = Runtime(settings)
    runtime.consume(
        ConsumerSpec("kittest", f"indexes-{kind}", "complaints", (f"complaints.{kind}.>",)), handle, "test"
    )
    runtime.before_consuming.append(create_indexes)
    await runtime.start()
    try:
        await asyncio.wait_for(handled.wait(), 10)
    finally:
        await runtime.stop()
    assert steps == ["indexes", "handled with the index"]


async def test_a_step_that_fails_stops_the_start_and_closes_the_connections(nats_url, mongo_url, mongo_db):
    kind = "t" + uuid.uuid4().hex[:10]

    async def handle(recorded: RecordedEvent) -> None:  # never reached
        raise AssertionError("a consumer started after a failed step")

    async def broken_index() -> None:
        raise RuntimeError("index build refused")

    settings = KitTestSettings(nats_url=nats_url, mongo_url=mongo_url, mongo_database=mongo_db.name)
    runtime = Runtime(settings)
    runtime.consume(
        ConsumerSpec("kittest", f"failed-{kind}", "complaints", (f"complaints.{kind}.>",)), handle, "test"
    )
    runtime.before_consuming.append(broken_index)
    try:
        await runtime.start()
    except RuntimeError as exc:
        assert "index build refused" in str(exc)
    else:
        raise AssertionError("the start went on after a failed step")
    assert runtime.nc.is_closed
