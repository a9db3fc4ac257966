"""Read models projected from events into MongoDB, idempotent and in per-aggregate order.

A projection is a set of pure functions ``(event, recorded) -> Change``: which document, and
which MongoDB update. The kit applies a change only if it is the next one for that document
from that source aggregate: every document keeps, per source aggregate, the version it has
applied (``_applied.<context>_<aggregate>``) and the stream sequence (``_sequence``). So a
redelivered event is a no-op, an early one is retried until its predecessor lands, and several
replicas may consume the same durable consumer at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from serambi_contracts import Event

from .eventstore import RecordedEvent
from .messaging import OutOfOrderError


@dataclass(frozen=True, slots=True)
class Change:
    """Apply ``update`` (MongoDB update operators) to document ``doc_id``."""

    doc_id: str
    update: Mapping[str, Any]


Projector = Callable[[Any, RecordedEvent], Change | None]


@dataclass(frozen=True)
class Projection:
    """One read-model collection, the events it reads and how each changes it.

    ``sources`` are the aggregate kinds it follows (``"intake.request"``); it must see every event
    of those kinds, in order, so events without a projector still advance its position.
    """

    collection: str
    sources: tuple[str, ...]
    projectors: Mapping[type[Event], Projector] = field(default_factory=dict)
    document_id: Callable[[RecordedEvent], str] = lambda recorded: recorded.ref.id

    def change_for(self, recorded: RecordedEvent) -> Change:
        projector = self.projectors.get(type(recorded.event))
        change = projector(recorded.event, recorded) if projector else None
        return change or Change(self.document_id(recorded), {})


def _position_field(recorded: RecordedEvent) -> str:
    return f"_applied.{recorded.ref.context}_{recorded.ref.aggregate}"


async def apply_change(collection: AsyncCollection, change: Change, recorded: RecordedEvent) -> bool:
    """Apply ``change`` once, in order. True if applied, False if it was already applied."""
    position = _position_field(recorded)
    version = recorded.version
    query, update = _query_and_update(change, recorded)
    try:
        result = await collection.update_one(query, update, upsert=version == 1)
    except DuplicateKeyError:
        return False  # version 1 again: the document already has this source applied
    if result.matched_count or result.upserted_id is not None:
        return True
    current = await collection.find_one({"_id": change.doc_id}, {position: 1})
    applied = _nested(current, position) if current else 0
    if applied >= version:
        return False
    raise OutOfOrderError(f"{change.doc_id}: version {version} before {applied + 1}")


def _nested(document: Mapping[str, Any], dotted: str) -> int:
    value: Any = document
    for part in dotted.split("."):
        value = value.get(part, {}) if isinstance(value, Mapping) else {}
    return value if isinstance(value, int) else 0


def _query_and_update(change: Change, recorded: RecordedEvent) -> tuple[dict, dict]:
    position = _position_field(recorded)
    version = recorded.version
    update = {key: dict(value) for key, value in change.update.items()}
    update.setdefault("$set", {}).update({position: version, "_sequence": recorded.sequence})
    if version == 1:
        return {"_id": change.doc_id, position: {"$exists": False}}, update
    return {"_id": change.doc_id, position: version - 1}, update


async def apply_batch(
    collection: AsyncCollection, projection: Projection, batch: list[RecordedEvent]
) -> bool:
    """Apply a batch in one ordered bulk write. True if every change took effect; otherwise
    (a duplicate or an event out of order in the batch) the caller applies them one by one."""
    operations = []
    for recorded in batch:
        if recorded.ref.key in projection.sources:
            query, update = _query_and_update(projection.change_for(recorded), recorded)
            operations.append(UpdateOne(query, update, upsert=recorded.version == 1))
    if not operations:
        return True
    result = await collection.bulk_write(operations, ordered=True)
    return result.matched_count + result.upserted_count == len(operations)


def projector_handler(projection: Projection, db: Callable[[], AsyncDatabase]):
    """The message handler that keeps ``projection`` up to date."""

    async def handle(recorded: RecordedEvent) -> None:
        if recorded.ref.key not in projection.sources:
            return
        await apply_change(db()[projection.collection], projection.change_for(recorded), recorded)

    return handle
