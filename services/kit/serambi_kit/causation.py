"""The cause of whatever is happening now: which event or request we are handling.

The messaging layer and the HTTP layer set it; the event store reads it so every event a handler
emits carries the correlation id of its case and the id of its cause.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import structlog


@dataclass(frozen=True, slots=True)
class Cause:
    correlation_id: str
    causation_id: str


_current: ContextVar[Cause | None] = ContextVar("serambi_cause", default=None)


def current_cause() -> Cause | None:
    return _current.get()


@contextmanager
def caused_by(correlation_id: str | None, causation_id: str) -> Iterator[Cause]:
    """Everything inside happens because of ``causation_id`` (in case ``correlation_id``)."""
    cause = Cause(correlation_id or causation_id, causation_id)
    token = _current.set(cause)
    with structlog.contextvars.bound_contextvars(
        correlation_id=cause.correlation_id, causation_id=cause.causation_id
    ):
        try:
            yield cause
        finally:
            _current.reset(token)


def new_id() -> str:
    return str(uuid.uuid4())
