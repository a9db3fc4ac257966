"""An in-memory event store for unit tests of domain and application code.

It implements the same protocol as the JetStream store and passes the same contract suite:
per-aggregate optimistic concurrency on the last sequence, event-id deduplication, atomic
multi-event appends.
"""

from __future__ import annotations

from collections.abc import Sequence

from serambi_contracts import AggregateRef, Event

from .model import Appended, ConcurrencyError, History, RecordedEvent, make_envelopes


class InMemoryEventStore:
    def __init__(self, source: str = "/serambi/test") -> None:
        self.source = source
        self.log: list[RecordedEvent] = []
        self._ids: dict[str, int] = {}

    async def load(self, ref: AggregateRef, *, cached: bool = False) -> History:
        events = tuple(recorded for recorded in self.log if recorded.ref == ref)
        return History(ref, events, events[-1].sequence if events else 0)

    async def append(
        self,
        ref: AggregateRef,
        events: Sequence[Event],
        *,
        expected_sequence: int,
        expected_version: int,
        event_ids: Sequence[str] | None = None,
    ) -> Appended:
        if not events:
            return Appended(())
        envelopes = make_envelopes(
            self.source, ref, events, expected_version=expected_version, event_ids=event_ids
        )
        known = [envelope.id for envelope in envelopes if envelope.id in self._ids]
        if known:
            return Appended(tuple(self._ids[event_id] for event_id in known), duplicate=True)
        last = (await self.load(ref)).last_sequence
        if last != expected_sequence:
            raise ConcurrencyError(ref, expected_sequence, f"wrong last sequence: {last}")
        sequences = []
        for event, envelope in zip(events, envelopes, strict=True):
            recorded = RecordedEvent(ref, event, envelope, len(self.log) + 1)
            self.log.append(recorded)
            self._ids[envelope.id] = recorded.sequence
            sequences.append(recorded.sequence)
        return Appended(tuple(sequences))
