"""One contract suite, run against the in-memory and the JetStream event store."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from serambi_contracts import AggregateRef
from serambi_contracts.sla import SLABreached, SLAWarning
from serambi_kit.causation import caused_by
from serambi_kit.eventstore import (
    ConcurrencyError,
    InMemoryEventStore,
    JetStreamEventStore,
    execute,
)

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def warning(case_id: str, percent: int = 50) -> SLAWarning:
    return SLAWarning(
        case_id=case_id,
        clock="ringan",
        threshold_percent=percent,
        started_at=NOW,
        due_at=NOW,
        warned_at=NOW,
    )


def breach(case_id: str) -> SLABreached:
    return SLABreached(case_id=case_id, clock="ringan", started_at=NOW, due_at=NOW, breached_at=NOW)


@pytest.fixture(params=["memory", "jetstream"])
def store(request: pytest.FixtureRequest, nc):
    if request.param == "memory":
        return InMemoryEventStore("/serambi/test")
    return JetStreamEventStore(nc, "/serambi/test")


@pytest.fixture
def ref(unique_id: str) -> AggregateRef:
    return AggregateRef("complaints", "complaint", f"ADU-{unique_id}")


async def test_an_unknown_aggregate_loads_as_empty_with_sequence_zero(store, ref):
    history = await store.load(ref)
    assert history.events == () and history.last_sequence == 0 and history.version == 0


async def test_appended_events_load_back_in_order_with_versions(store, ref):
    await store.append(ref, [warning(ref.id, 50)], expected_sequence=0, expected_version=0)
    first = await store.load(ref)
    await store.append(
        ref,
        [warning(ref.id, 75), breach(ref.id)],
        expected_sequence=first.last_sequence,
        expected_version=1,
    )
    history = await store.load(ref)
    assert [type(e).__name__ for e in history.payloads] == ["SLAWarning", "SLAWarning", "SLABreached"]
    assert [e.threshold_percent for e in history.payloads[:2]] == [50, 75]
    assert [r.version for r in history.events] == [1, 2, 3]
    assert history.last_sequence == history.events[-1].sequence
    assert all(r.ref == ref and r.envelope.subject == ref.id for r in history.events)


async def test_a_stale_expected_sequence_is_a_conflict_and_stores_nothing(store, ref):
    await store.append(ref, [warning(ref.id)], expected_sequence=0, expected_version=0)
    with pytest.raises(ConcurrencyError):
        await store.append(ref, [breach(ref.id)], expected_sequence=0, expected_version=0)
    with pytest.raises(ConcurrencyError):
        await store.append(
            ref, [warning(ref.id, 90), breach(ref.id)], expected_sequence=0, expected_version=0
        )
    assert (await store.load(ref)).version == 1


async def test_the_same_event_id_is_stored_once(store, ref):
    first = await store.append(
        ref, [warning(ref.id)], expected_sequence=0, expected_version=0, event_ids=["e-" + ref.id]
    )
    again = await store.append(
        ref, [warning(ref.id)], expected_sequence=0, expected_version=0, event_ids=["e-" + ref.id]
    )
    assert again.duplicate and again.sequences == first.sequences
    assert (await store.load(ref)).version == 1


async def test_a_retried_multi_event_append_is_stored_once(store, ref):
    ids = [f"a-{ref.id}", f"b-{ref.id}"]
    events = [warning(ref.id), breach(ref.id)]
    await store.append(ref, events, expected_sequence=0, expected_version=0, event_ids=ids)
    retried = await store.append(ref, events, expected_sequence=0, expected_version=0, event_ids=ids)
    assert retried.duplicate
    assert (await store.load(ref)).version == 2


async def test_events_of_other_aggregates_are_not_loaded(store, ref):
    neighbour = AggregateRef(ref.context, ref.aggregate, ref.id + "-2")
    await store.append(neighbour, [warning(neighbour.id)], expected_sequence=0, expected_version=0)
    await store.append(ref, [breach(ref.id)], expected_sequence=0, expected_version=0)
    assert [type(e) for e in (await store.load(ref)).payloads] == [SLABreached]


async def test_envelopes_carry_the_correlation_and_causation_of_the_current_cause(store, ref):
    with caused_by("case-42", "event-7"):
        await store.append(ref, [warning(ref.id)], expected_sequence=0, expected_version=0)
    envelope = (await store.load(ref)).events[0].envelope
    assert (envelope.correlationid, envelope.causationid) == ("case-42", "event-7")
    assert envelope.type.endswith(".sla.SLAWarning.v1") and envelope.source == "/serambi/test"


async def test_concurrent_commands_retry_until_every_one_is_appended_once(store, ref):
    def decide(history):
        return [warning(ref.id, len(history) + 1)]

    await asyncio.gather(*(execute(store, ref, decide, attempts=30) for _ in range(8)))
    history = await store.load(ref)
    assert [e.threshold_percent for e in history.payloads] == list(range(1, 9))
    assert [r.version for r in history.events] == list(range(1, 9))


async def test_a_long_history_loads_whole_across_read_batches(store, ref):
    last = 0
    for chunk in range(3):
        appended = await store.append(
            ref,
            [warning(ref.id, 1 + (i % 98)) for i in range(100)],
            expected_sequence=last,
            expected_version=chunk * 100,
        )
        last = appended.sequences[-1]
    history = await store.load(ref)
    assert history.version == 300 and history.last_sequence == last
