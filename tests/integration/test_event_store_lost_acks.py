"""The JetStream event store on a real nats-server when an acknowledgement is lost: the append
is resolved (stored exactly once and reported so) or reported as unresolved — never as failed
when it may have been stored."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import nats
import pytest
from nats.errors import ConnectionClosedError
from nats.errors import TimeoutError as NatsTimeoutError
from serambi_contracts import AggregateRef
from serambi_contracts.sla import SLABreached, SLAWarning
from serambi_kit.eventstore import (
    AppendOutcomeUnknown,
    EventStoreUnavailable,
    JetStreamEventStore,
    read_raw,
)
from serambi_kit.topology import stream_config
from serambi_testing import localstack

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def events(case_id: str, count: int) -> list:
    warning = SLAWarning(
        case_id=case_id, clock="ringan", threshold_percent=50, started_at=NOW, due_at=NOW, warned_at=NOW
    )
    breach = SLABreached(case_id=case_id, clock="ringan", started_at=NOW, due_at=NOW, breached_at=NOW)
    return [warning, breach][:count]


class LosingAcks(JetStreamEventStore):
    """The server stores what is published, but the first ``lost`` acknowledgements never come
    back (a nats TimeoutError after the real publish); once ``down``, publishing times out
    without reaching the server, and ``refused`` makes it fail before sending."""

    def __init__(self, nc, *, lost: int = 0, down: bool = False, refused: bool = False) -> None:
        super().__init__(nc, "/serambi/test", timeout=1.0, resolve_seconds=0.5)
        self.lost, self.down, self.refused, self.attempts = lost, down, refused, 0

    async def _publish_one(self, *args):
        return await self._lose(super()._publish_one(*args))

    async def _publish_batch(self, *args):
        return await self._lose(super()._publish_batch(*args))

    async def _lose(self, publish):
        self.attempts += 1
        if self.refused:
            publish.close()
            raise ConnectionClosedError
        if self.lost == 0 and self.down:
            publish.close()
            raise NatsTimeoutError
        appended = await publish
        if self.lost > 0:
            self.lost -= 1
            raise NatsTimeoutError
        return appended


@pytest.fixture
def ref(unique_id: str) -> AggregateRef:
    return AggregateRef("complaints", "complaint", f"ADU-{unique_id}")


async def stored(nc, ref: AggregateRef) -> list[tuple[str, int]]:
    return [(h["ce-id"], int(h["Nats-Sequence"])) async for h, _ in read_raw(nc, "COMPLAINTS", ref.filter)]


@pytest.mark.parametrize("count", [1, 2], ids=["one event", "an atomic batch"])
async def test_an_append_whose_acknowledgement_was_lost_is_stored_once_and_returns_its_sequences(
    nc, ref, count
):
    store = LosingAcks(nc, lost=1)
    appended = await store.append(ref, events(ref.id, count), expected_sequence=0, expected_version=0)
    kept = await stored(nc, ref)
    assert len(kept) == count and store.attempts == 2
    assert appended.sequences == tuple(sequence for _, sequence in kept)
    assert [type(e).__name__ for e in (await store.load(ref)).payloads] == ["SLAWarning", "SLABreached"][
        :count
    ]


async def test_an_append_whose_acknowledgement_stays_lost_is_reported_as_maybe_stored(nc, ref):
    store = LosingAcks(nc, lost=1, down=True)
    with pytest.raises(AppendOutcomeUnknown):
        await store.append(
            ref, events(ref.id, 1), expected_sequence=0, expected_version=0, event_ids=[f"e-{ref.id}"]
        )
    assert store.attempts >= 2  # it kept asking until its resolve time ran out
    [(event_id, sequence)] = await stored(nc, ref)  # it was stored, in fact
    again = await JetStreamEventStore(nc, "/serambi/test").append(
        ref, events(ref.id, 1), expected_sequence=0, expected_version=0, event_ids=[f"e-{ref.id}"]
    )
    assert again.sequences == (sequence,) and again.duplicate
    assert await stored(nc, ref) == [(event_id, sequence)]


async def test_an_append_nats_never_took_is_reported_as_not_stored(nc, ref):
    store = LosingAcks(nc, refused=True)
    with pytest.raises(EventStoreUnavailable) as unavailable:
        await store.append(ref, events(ref.id, 1), expected_sequence=0, expected_version=0)
    assert not isinstance(unavailable.value, AppendOutcomeUnknown)
    assert await stored(nc, ref) == []


async def test_an_append_during_a_nats_outage_is_unresolved_and_its_retry_stores_it_once(tmp_path, unique_id):
    """A real outage: the client buffers the publish while it reconnects, so the append may
    still land after it gave up; the retry with the same event id is stored once either way."""
    port = localstack.free_port()
    server = localstack.nats_server(tmp_path / "nats", port).start()
    nc = await nats.connect(localstack.nats_url(port), max_reconnect_attempts=-1, reconnect_time_wait=0.1)
    try:
        await nc.jetstream().add_stream(stream_config("complaints"))
        ref = AggregateRef("complaints", "complaint", f"ADU-{unique_id}")
        store = JetStreamEventStore(nc, "/serambi/test", timeout=0.5, resolve_seconds=0.5)
        server.stop()
        with pytest.raises(AppendOutcomeUnknown):
            await store.append(
                ref, events(ref.id, 1), expected_sequence=0, expected_version=0, event_ids=[f"e-{ref.id}"]
            )
        server.start()
        for _ in range(100):
            if nc.is_connected:
                break
            await asyncio.sleep(0.1)
        retried = await store.append(
            ref, events(ref.id, 1), expected_sequence=0, expected_version=0, event_ids=[f"e-{ref.id}"]
        )
        assert await stored(nc, ref) == [(f"e-{ref.id}", retried.sequences[0])]
    finally:
        await nc.close()
        server.stop()
