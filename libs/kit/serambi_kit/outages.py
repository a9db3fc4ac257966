"""Which failures mean "a dependency is down" rather than "this message is wrong".

A consumer that fails because MongoDB or NATS is unreachable must wait for it and try again,
however long the outage lasts; only a message that is itself wrong (unparseable, invalid,
refused by the domain) or a handler that keeps failing for another reason ends as a dead
letter. :func:`is_outage` draws that line, following the explicit causes (``raise … from``)
so that a wrapped error (``EventStoreError`` from a NATS time-out, say) is classified by its
origin — but not an error merely raised while another was being handled (``__context__``):
a handler that turns a time-out into "invalid" meant "invalid".
"""

from __future__ import annotations

from nats import errors as nats_errors
from nats.js import errors as js_errors
from pymongo import errors as mongo_errors

from .eventstore.model import EventStoreFull, EventStoreUnavailable

OUTAGE_TYPES: tuple[type[BaseException], ...] = (
    EventStoreUnavailable,  # NATS did not answer an append or a read (AppendOutcomeUnknown too)
    EventStoreFull,  # a full stream or disk: held until an operator makes room
    # MongoDB: no server to talk to, a connection that broke or timed out, a primary stepping down
    mongo_errors.ConnectionFailure,  # AutoReconnect, NetworkTimeout, ServerSelectionTimeoutError, …
    mongo_errors.WaitQueueTimeoutError,
    mongo_errors.WTimeoutError,
    # NATS: no connection, reconnecting, no JetStream answer
    nats_errors.ConnectionClosedError,
    nats_errors.ConnectionReconnectingError,
    nats_errors.ConnectionDrainingError,
    nats_errors.NoServersError,
    nats_errors.NoRespondersError,
    nats_errors.StaleConnectionError,
    nats_errors.OutboundBufferLimitError,
    nats_errors.FlushTimeoutError,
    js_errors.ServiceUnavailableError,
    js_errors.NoStreamResponseError,
    # the sockets underneath, and every time-out (nats.errors.TimeoutError is one)
    ConnectionError,
    TimeoutError,
)

# MongoDB server errors that say "not now" (shutting down, stepping down, electing a primary)
TRANSIENT_MONGO_CODES = frozenset({6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436})
TRANSIENT_MONGO_LABELS = ("RetryableWriteError", "TransientTransactionError")


def _is_outage_itself(exc: BaseException) -> bool:
    if isinstance(exc, OUTAGE_TYPES):
        return True
    if isinstance(exc, mongo_errors.PyMongoError):
        if any(exc.has_error_label(label) for label in TRANSIENT_MONGO_LABELS):
            return True
        return isinstance(exc, mongo_errors.OperationFailure) and exc.code in TRANSIENT_MONGO_CODES
    return False


def is_outage(exc: BaseException) -> bool:
    """True when ``exc``, or any error it was raised from, says a dependency is unavailable."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if _is_outage_itself(current):
            return True
        seen.add(id(current))
        current = current.__cause__
    return False
