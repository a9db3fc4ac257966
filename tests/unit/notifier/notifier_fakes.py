"""Fakes for the notifier's unit tests: a vault without a database, a read model in memory."""

from __future__ import annotations

import hashlib
import itertools
from typing import Any

from serambi_contracts import AggregateRef, Event
from serambi_contracts.base import Sealed
from serambi_kit.eventstore import RecordedEvent
from serambi_kit.eventstore.model import make_envelopes


class FakeVault:
    """Seals by reference (the clear value stays in a dict); erasing a subject forgets it."""

    def __init__(self) -> None:
        self.values: dict[str, tuple[str, str]] = {}
        self.erased: set[str] = set()
        self._ids = itertools.count(1)

    async def new_subject(self, identifiers=()) -> str:
        return f"k{next(self._ids)}"

    async def seal(self, key: str, value: str) -> Sealed:
        data = f"d{len(self.values)}x"
        self.values[data] = (key, value)
        return Sealed(key=key, nonce="A" * 16, data=data)

    async def reveal(self, sealed: Sealed | dict | None) -> str | None:
        if sealed is None:
            return None
        data = sealed["data"] if isinstance(sealed, dict) else sealed.data
        key, value = self.values[data]
        return None if key in self.erased else value

    def lookup_hash(self, identifier: str) -> str:
        return hashlib.sha256(identifier.strip().lower().encode()).hexdigest()


class FakeCollection:
    def __init__(self) -> None:
        self.documents: dict[str, dict[str, Any]] = {}
        self.reads: list[str] = []

    async def find_one(self, query: dict[str, Any], *_: Any) -> dict[str, Any] | None:
        self.reads.append(query["_id"])
        return self.documents.get(query["_id"])


class FakeDb(dict):
    def __missing__(self, name: str) -> FakeCollection:
        self[name] = FakeCollection()
        return self[name]


def recorded(ref: AggregateRef, event: Event, version: int = 1, sequence: int = 1) -> RecordedEvent:
    [envelope] = make_envelopes("/test", ref, [event], expected_version=version - 1, event_ids=None)
    return RecordedEvent(ref, event, envelope, sequence)


def project(db: FakeDb, recorded_event: RecordedEvent) -> None:
    """Apply the notifier's cases projection to the in-memory read model ($set, $push)."""
    from serambi_notifier.adapters.projections import CASES, CASES_PROJECTION

    change = CASES_PROJECTION.change_for(recorded_event)
    document = db[CASES].documents.setdefault(change.doc_id, {"_id": change.doc_id})
    for key, value in change.update.get("$set", {}).items():
        document[key] = value
    for key, value in change.update.get("$push", {}).items():
        document.setdefault(key, []).append(value)
    position = f"{recorded_event.ref.context}_{recorded_event.ref.aggregate}"
    document.setdefault("_applied", {})[position] = recorded_event.version
