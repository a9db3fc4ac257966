"""Read models projected from events into MongoDB, idempotent and in per-aggregate order.

A projection is a set of pure functions ``(event, recorded) -> Change``: which document, and
which MongoDB update. The kit applies a change only if it is the next one for that document
from that source aggregate: every document keeps, per source aggregate, the version it has
applied (``_applied.<context>_<aggregate>``) and the stream sequence (``_sequence``). So a
redelivered event is a no-op, an early one is retried until its predecessor lands, and several
replicas may consume the same durable consumer at once.

An event of a followed aggregate that cannot be read (its type is not in the catalogue, or its
payload breaks its contract) still has a known place in its aggregate: the handler reads it as
:class:`Unreadable`, moves the position past it, in order, and the kit dead-letters it with the
reason. The aggregate's later events then apply instead of waiting forever for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from nats.aio.msg import Msg
from pydantic import ValidationError
from pymongo import UpdateOne
from pymongo.errors import DuplicateKeyError
from serambi_contracts import Event, UnknownEventTypeError, decode_headers, parse_subject

from .eventstore import RecordedEvent, decode_event
from .messaging import OutOfOrderError
from .mongo import Collection, Database


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


async def apply_change(collection: Collection, change: Change, recorded: RecordedEvent) -> bool:
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


def _query_and_update(change: Change, recorded: RecordedEvent) -> tuple[dict[str, Any], dict[str, Any]]:
    version = recorded.version
    return _versioned(
        change.doc_id, _position_field(recorded), version, version, recorded.sequence, change.update
    )


def _versioned(
    doc_id: str, position: str, first: int, last: int, sequence: int, change: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The write of the events ``first``..``last`` of one source on a document: it matches only
    while the document's position is ``first - 1`` (absent for the first event), and sets the
    position to ``last`` with the last event's stream ``sequence``."""
    update = {key: dict(value) for key, value in change.items()}
    update.setdefault("$set", {}).update({position: last, "_sequence": sequence})
    if first == 1:
        return {"_id": doc_id, position: {"$exists": False}}, update
    return {"_id": doc_id, position: first - 1}, update


async def apply_batch(collection: Collection, projection: Projection, batch: list[RecordedEvent]) -> bool:
    """Apply a batch in one ordered bulk write. True if every change took effect; otherwise
    (a duplicate or an event out of order in the batch, or an unreadable event to dead-letter)
    the caller applies them one by one.

    Consecutive events of one aggregate that change the same document are written as one
    update (see :func:`coalesce`): a backlog holds several events per aggregate, and each
    update costs the database far more than merging costs here."""
    if any(isinstance(recorded.event, Unreadable) for recorded in batch):
        return False
    changes = [
        (projection.change_for(recorded), recorded)
        for recorded in batch
        if recorded.ref.key in projection.sources
    ]
    if not changes:
        return True
    operations = [UpdateOne(query, update, upsert=upsert) for query, update, upsert in coalesce(changes)]
    result = await collection.bulk_write(operations, ordered=True)
    return result.matched_count + result.upserted_count == len(operations)


@dataclass(slots=True)
class _Merged:
    doc_id: str
    position: str
    first: int  # the version of its first event: the one the query checks
    last: int
    sequence: int
    update: dict[str, dict[str, Any]]


_MERGEABLE = frozenset({"$set", "$inc"})


Write = tuple[dict[str, Any], dict[str, Any], bool]  # query, update, upsert


def coalesce(changes: Sequence[tuple[Change, RecordedEvent]]) -> list[Write]:
    """The ``(query, update, upsert)`` writes that apply ``changes`` in order, each version
    checked as :func:`apply_change` checks it.

    A change joins the write before it on the same document when that write is the
    document's latest, comes from the same aggregate, ends at the previous version, and the
    two updates combine exactly: only ``$set`` and ``$inc``, no path written by both operators
    or nested in another's path, ``$inc`` of integers only (their sum is exact). The joint
    write checks the first version and sets the last, so it applies all its events or none
    (a single-document update is atomic): a redelivered or early event fails the batch's count
    and the caller applies the events one by one, as without merging."""
    merged: list[_Merged] = []
    latest: dict[str, _Merged] = {}  # doc id → its latest write
    for change, recorded in changes:
        position = _position_field(recorded)
        previous = latest.get(change.doc_id)
        if (
            previous is not None
            and previous.position == position
            and previous.last + 1 == recorded.version
            and _combine(previous.update, change.update)
        ):
            previous.last = recorded.version
            previous.sequence = recorded.sequence
            continue
        write = _Merged(
            change.doc_id,
            position,
            recorded.version,
            recorded.version,
            recorded.sequence,
            {key: dict(value) for key, value in change.update.items()},
        )
        merged.append(write)
        latest[change.doc_id] = write
    return [
        (*_versioned(w.doc_id, w.position, w.first, w.last, w.sequence, w.update), w.first == 1)
        for w in merged
    ]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _combine(update: dict[str, dict[str, Any]], later: Mapping[str, Any]) -> bool:
    """Fold ``later`` into ``update`` if applying the result equals applying both in turn;
    False (``update`` untouched) if it might not."""
    if not (update.keys() | later.keys()) <= _MERGEABLE:
        return False
    sets, incs = update.get("$set", {}), update.get("$inc", {})
    later_sets, later_incs = later.get("$set", {}), later.get("$inc", {})
    if any(key in incs for key in later_sets) or any(key in sets for key in later_incs):
        return False
    if not all(_is_int(value) and _is_int(incs.get(key, 0)) for key, value in later_incs.items()):
        return False
    paths = [*sets, *incs]
    for key in (*later_sets, *later_incs):
        if any(key != path and (path.startswith(key + ".") or key.startswith(path + ".")) for path in paths):
            return False
    if later_sets:
        update.setdefault("$set", {}).update(later_sets)
    if later_incs:
        target = update.setdefault("$inc", {})
        for key, value in later_incs.items():
            target[key] = target.get(key, 0) + value
    return True


@dataclass(frozen=True, slots=True)
class Unreadable:
    """In place of an event that cannot be read, on a well-formed envelope with its aggregate
    version: ``error`` is why (``UnknownEventTypeError`` or ``ValidationError``)."""

    error: Exception


def read_leniently(
    headers: Mapping[str, str] | None, subject: str, data: bytes, sequence: int
) -> RecordedEvent:
    """The message as a recorded event, its payload :class:`Unreadable` if only the payload is
    wrong. A malformed envelope or subject (no known position) raises as ``parse_message`` does."""
    envelope = decode_headers(headers)
    ref, _ = parse_subject(subject)
    try:
        event = decode_event(envelope, data)
    except (UnknownEventTypeError, ValidationError) as exc:
        if not envelope.aggregateversion:
            raise
        event = cast(Event, Unreadable(exc))  # in the event's place: readers check for it first
    return RecordedEvent(ref, event, envelope, sequence)


async def skip(collection: Collection, projection: Projection, recorded: RecordedEvent) -> bool:
    """Move the document's position past an unreadable event, in order (``OutOfOrderError`` if
    its predecessor is not applied yet). An aggregate's first event creates no document (one
    with nothing but positions would show in reads); it marks a document that already exists."""
    change = Change(projection.document_id(recorded), {})
    if recorded.version > 1:
        return await apply_change(collection, change, recorded)
    query, update = _query_and_update(change, recorded)
    return (await collection.update_one(query, update)).matched_count == 1


async def project(collection: Collection, projection: Projection, recorded: RecordedEvent) -> bool:
    """Apply one event of a followed aggregate, or skip it if it is unreadable."""
    if isinstance(recorded.event, Unreadable):
        return await skip(collection, projection, recorded)
    return await apply_change(collection, projection.change_for(recorded), recorded)


class ProjectorHandler:
    """The message handler that keeps ``projections`` up to date (one consumer may feed several
    whose sources differ).

    The kit reads its messages with :meth:`parse` (see ``messaging.deliver``), so an unreadable
    event reaches it: each projection that follows its aggregate moves past it, then the original
    error is raised and the kit dead-letters the message with that reason."""

    def __init__(self, projections: Sequence[Projection], db: Callable[[], Database]) -> None:
        self.projections = tuple(projections)
        self.db = db

    @staticmethod
    def parse(msg: Msg) -> RecordedEvent:
        return read_leniently(msg.headers, msg.subject, msg.data, msg.metadata.sequence.stream)

    async def __call__(self, recorded: RecordedEvent) -> None:
        for projection in self.projections:
            if recorded.ref.key in projection.sources:
                await project(self.db()[projection.collection], projection, recorded)
        if isinstance(recorded.event, Unreadable):
            raise recorded.event.error


def projector_handler(
    projections: Projection | Sequence[Projection], db: Callable[[], Database]
) -> ProjectorHandler:
    """The message handler that keeps ``projections`` (one or several) up to date."""
    return ProjectorHandler((projections,) if isinstance(projections, Projection) else projections, db)
