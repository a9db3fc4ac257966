"""The cause of whatever is happening now: which event or request we are handling.

The messaging layer and the HTTP layer set it; the event store reads it so every event a handler
emits carries the correlation id of its case and the id of its cause.
"""

from __future__ import annotations

import re
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


#: A caller's request id we keep: a UUID, a trace id, ``req-42``; nothing else reaches events.
REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")


def request_id_from(header: str | None) -> str:
    """The id of an HTTP request: the caller's ``X-Request-Id`` if it is a plain id (letters,
    digits, ``. _ : -``, at most 64 characters), else a new one. It becomes the correlation and
    causation id of every event the request records and is bound into every log line, so a
    value that is free text, long, or carries markup or control characters is replaced, never
    passed on."""
    if header and REQUEST_ID.match(header):
        return header
    return new_id()
