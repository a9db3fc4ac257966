"""The event-store protocol, shared by the JetStream and the in-memory implementations."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from serambi_contracts import AggregateRef, Envelope, Event, event_class

from ..causation import current_cause
from ..tracing import event_extensions

T = TypeVar("T")


class ConcurrencyError(Exception):
    """Someone else appended to the aggregate since we loaded it (JetStream error 10071)."""

    def __init__(self, ref: AggregateRef, expected: int, detail: str = "") -> None:
        super().__init__(f"{ref.filter}: expected last sequence {expected}; {detail}".strip())
        self.ref = ref
        self.expected = expected


class EventStoreError(Exception):
    """The store refused or failed an operation (not a concurrency conflict)."""


class EventStoreUnavailable(EventStoreError):
    """NATS did not answer (no connection, no JetStream, a time-out): nothing was appended.
    Try again later; the HTTP layer answers 503 with ``Retry-After``."""


class EventStoreFull(EventStoreError):
    """The stream refused the append for lack of room (JetStream 10077 maximum messages or
    bytes, 10023 insufficient resources — a full disk): nothing was appended. It says which
    limit; it lasts until an operator makes room, so callers treat it as an outage (503,
    messages held), not as a bad request."""


class AppendOutcomeUnknown(EventStoreUnavailable):
    """An append whose messages may have been stored — an acknowledgement was lost (time-out,
    connection lost after sending) and NATS could not be asked again in time. Neither assume
    it stored nor undo what goes with it (documents, reservations): a retry of the same
    command, with the same event ids or the same reserved aggregate, finds out."""


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as stored: its aggregate, payload, envelope and stream position."""

    ref: AggregateRef
    event: Event
    envelope: Envelope
    sequence: int

    @property
    def version(self) -> int:
        return self.envelope.aggregateversion or 0


@dataclass(frozen=True, slots=True)
class History:
    """One aggregate's events in order. ``last_sequence`` 0 means it does not exist yet."""

    ref: AggregateRef
    events: tuple[RecordedEvent, ...]
    last_sequence: int

    @property
    def version(self) -> int:
        return len(self.events)

    @property
    def payloads(self) -> list[Event]:
        return [recorded.event for recorded in self.events]


@dataclass(frozen=True, slots=True)
class Appended:
    sequences: tuple[int, ...]
    duplicate: bool = False


class EventStore(Protocol):
    async def load(self, ref: AggregateRef, *, cached: bool = False) -> History:
        """The aggregate's events in order. ``cached=True`` allows a possibly stale history
        (only for deciding a command whose append checks the expected sequence)."""
        ...

    async def append(
        self,
        ref: AggregateRef,
        events: Sequence[Event],
        *,
        expected_sequence: int,
        expected_version: int,
        event_ids: Sequence[str] | None = None,
    ) -> Appended:
        """Append atomically if the aggregate's last sequence is still ``expected_sequence``.

        ``event_ids`` make retries idempotent: an event id already stored is not stored again.
        """
        ...


def make_envelopes(
    source: str,
    ref: AggregateRef,
    events: Sequence[Event],
    *,
    expected_version: int,
    event_ids: Sequence[str] | None,
    now: datetime | None = None,
) -> list[Envelope]:
    """Envelopes for new events; correlation and causation come from the current cause."""
    if event_ids is not None and len(event_ids) != len(events):
        raise ValueError("event_ids must match events one to one")
    cause = current_cause()
    instant = now or datetime.now(UTC)
    tracing = event_extensions()  # the current span's traceparent: consumers continue its trace
    envelopes = []
    for index, event in enumerate(events):
        event_id = event_ids[index] if event_ids else str(uuid.uuid4())
        envelopes.append(
            Envelope(
                id=event_id,
                source=source,
                type=event.event_type(),
                time=instant,
                subject=ref.id,
                dataschema=event.schema_uri(),
                correlationid=cause.correlation_id if cause else event_id,
                causationid=cause.causation_id if cause else None,
                aggregateversion=expected_version + index + 1,
                extensions=tracing,
            )
        )
    return envelopes


def encode_event(event: Event) -> bytes:
    return event.model_dump_json(by_alias=True, exclude_none=False).encode()


def decode_event(envelope: Envelope, data: bytes) -> Event:
    """The payload as its contract model (raises UnknownEventTypeError / ValidationError, also
    for a body that is not JSON). An older version of an event type is upcast to the current
    one (its class's ``upcast()``), so every reader — aggregates, projections, subscribers —
    sees only the current version."""
    event = event_class(envelope.type).model_validate_json(data)
    while (upcast := getattr(event, "upcast", None)) is not None:
        event = upcast()
    return event


async def retry_on_conflict(
    attempt: Callable[[], Awaitable[T]], *, attempts: int = 5, base_delay: float = 0.01
) -> T:
    """Run a load-decide-append ``attempt`` again when it loses an optimistic-concurrency race."""
    for number in range(1, attempts + 1):
        try:
            return await attempt()
        except ConcurrencyError:
            if number == attempts:
                raise
            await asyncio.sleep(base_delay * 2 ** (number - 1) * (1 + random.random()))
    raise AssertionError("unreachable")


@dataclass(frozen=True, slots=True)
class Executed:
    """What one command did: the history its decision saw, the events it appended (maybe
    none), and whether the store already held events with their ids (a racing replica's)."""

    before: list[Event]
    new: list[Event]
    duplicate: bool = False


async def decide_and_append(
    store: EventStore,
    ref: AggregateRef,
    decide: Callable[[list[Event]], Sequence[Event]],
    *,
    event_ids: Callable[[Sequence[Event]], Sequence[str]] | None = None,
    attempts: int = 5,
    base_delay: float = 0.01,
    cached: bool = True,
) -> Executed:
    """The one load → decide → append driver, retried on conflicts. The first attempt may
    decide on the store's cached history (``cached``; the append's expected sequence catches a
    stale one); a retry always reads it fresh, after ``retry_on_conflict``'s back-off."""

    first = cached

    async def attempt() -> Executed:
        nonlocal first
        history = await store.load(ref, cached=first)
        first = False
        before = history.payloads
        new_events = list(decide(before))
        duplicate = False
        if new_events:
            appended = await store.append(
                ref,
                new_events,
                expected_sequence=history.last_sequence,
                expected_version=history.version,
                event_ids=event_ids(new_events) if event_ids else None,
            )
            duplicate = appended.duplicate
        return Executed(before, new_events, duplicate)

    return await retry_on_conflict(attempt, attempts=attempts, base_delay=base_delay)


async def execute(
    store: EventStore,
    ref: AggregateRef,
    decide: Callable[[list[Event]], Sequence[Event]],
    *,
    event_ids: Callable[[Sequence[Event]], Sequence[str]] | None = None,
    attempts: int = 5,
) -> list[Event]:
    """:func:`decide_and_append` for the usual caller, who needs only the events appended."""
    executed = await decide_and_append(store, ref, decide, event_ids=event_ids, attempts=attempts)
    return executed.new
