"""Event store: JetStream for real, in-memory for unit tests; one protocol, one contract suite."""

from ..eventids import deterministic_id
from .jetstream import JetStreamEventStore
from .memory import InMemoryEventStore
from .model import (
    Appended,
    AppendOutcomeUnknown,
    ConcurrencyError,
    EventStore,
    EventStoreError,
    EventStoreFull,
    EventStoreUnavailable,
    Executed,
    History,
    RecordedEvent,
    decide_and_append,
    decode_event,
    execute,
    retry_on_conflict,
)
from .reading import parse_stored, read_raw, read_stream

__all__ = [
    "AppendOutcomeUnknown",
    "Appended",
    "ConcurrencyError",
    "EventStore",
    "EventStoreError",
    "EventStoreFull",
    "EventStoreUnavailable",
    "Executed",
    "History",
    "InMemoryEventStore",
    "JetStreamEventStore",
    "RecordedEvent",
    "decide_and_append",
    "decode_event",
    "deterministic_id",
    "execute",
    "parse_stored",
    "read_raw",
    "read_stream",
    "retry_on_conflict",
]
