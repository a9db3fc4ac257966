"""Event store: JetStream for real, in-memory for unit tests; one protocol, one contract suite."""

from .jetstream import JetStreamEventStore, parse_stored, read_raw, read_stream
from .memory import InMemoryEventStore
from .model import (
    Appended,
    ConcurrencyError,
    EventStore,
    EventStoreError,
    History,
    RecordedEvent,
    decode_event,
    deterministic_id,
    execute,
    retry_on_conflict,
)

__all__ = [
    "Appended",
    "ConcurrencyError",
    "EventStore",
    "EventStoreError",
    "History",
    "InMemoryEventStore",
    "JetStreamEventStore",
    "RecordedEvent",
    "decode_event",
    "deterministic_id",
    "execute",
    "parse_stored",
    "read_raw",
    "read_stream",
    "retry_on_conflict",
]
