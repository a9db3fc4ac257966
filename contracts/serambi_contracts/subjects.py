"""The subject scheme: ``<context>.<aggregate>.<aggregate_id>.<event>``."""

from __future__ import annotations

import re
from dataclasses import dataclass

_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_TOKEN = re.compile(r"^[a-z][a-z0-9_]*$")


class SubjectError(ValueError):
    """An aggregate reference or subject that does not follow the subject scheme."""


@dataclass(frozen=True, slots=True)
class AggregateRef:
    """One aggregate instance, e.g. ``AggregateRef("intake", "request", "AUD-2026-000123")``."""

    context: str
    aggregate: str
    id: str

    def __post_init__(self) -> None:
        for part in ("context", "aggregate"):
            if not _TOKEN.match(getattr(self, part)):
                raise SubjectError(f"{part} {getattr(self, part)!r}: lowercase letters/digits/_")
        if not _ID.match(self.id):
            raise SubjectError(f"aggregate id {self.id!r}: only [A-Za-z0-9_-], 1-128 characters")

    def subject(self, event_name: str) -> str:
        return f"{self.context}.{self.aggregate}.{self.id}.{event_name}"

    @property
    def filter(self) -> str:
        """Every event of this aggregate."""
        return f"{self.context}.{self.aggregate}.{self.id}.*"

    @property
    def key(self) -> str:
        """``context.aggregate`` — the aggregate's kind."""
        return f"{self.context}.{self.aggregate}"


def events_of(context: str, aggregate: str, event_name: str = "*") -> str:
    """Filter for one event type across all aggregates of a kind (or all events with ``*``)."""
    return f"{context}.{aggregate}.*.{event_name}"


def parse_subject(subject: str) -> tuple[AggregateRef, str]:
    parts = subject.split(".")
    if len(parts) != 4:
        raise SubjectError(f"subject {subject!r}: expected <context>.<aggregate>.<id>.<event>")
    context, aggregate, aggregate_id, event_name = parts
    return AggregateRef(context, aggregate, aggregate_id), event_name
