"""Durable pull consumers on FastStream with a deliberate delivery policy (DESIGN §6).

FastStream's default JetStream policy terminates a message when the handler raises; Serambi
uses ``AckPolicy.MANUAL`` and decides itself, per message:

- handled → ack (after the handler's effect is durable: handlers await their writes);
- permanently bad (malformed envelope, payload that fails its contract, unknown event type) →
  dead-letter record with the reason, then ack — retrying cannot help;
- failed otherwise (database down, conflict, out-of-order) → nak with a growing delay; on the
  last allowed delivery → dead-letter record, then ack. The consumer keeps going either way.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from faststream.middlewares import AckPolicy
from faststream.nats import JStream, NatsBroker, NatsMessage, PullSub
from nats.aio.msg import Msg
from prometheus_client import Counter, Histogram
from pydantic import ValidationError
from serambi_contracts import (
    EnvelopeError,
    SubjectError,
    UnknownEventTypeError,
    decode_headers,
    parse_subject,
)

from .causation import caused_by
from .deadletters import DeadLetter, DeadLetters
from .eventstore import RecordedEvent, decode_event
from .logging import get_logger
from .topology import ConsumerSpec

log = get_logger(__name__)
CONSUMED = Counter(
    "serambi_messages_consumed_total", "Messages consumed", ["consumer", "outcome"]
)
HANDLE_SECONDS = Histogram("serambi_message_handle_seconds", "Handler time", ["consumer"])
Handler = Callable[[RecordedEvent], Awaitable[None]]


class PermanentError(Exception):
    """A handler's verdict that this message can never succeed (dead-letter it now)."""


PERMANENT = (EnvelopeError, SubjectError, UnknownEventTypeError, ValidationError, PermanentError)


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    max_deliver: int
    retry_delays: tuple[float, ...]

    def delay(self, delivered: int) -> float:
        return self.retry_delays[min(delivered, len(self.retry_delays)) - 1]


def parse_message(msg: Msg) -> RecordedEvent:
    """The message as a recorded event; raises one of ``PERMANENT`` if it is not one."""
    envelope = decode_headers(msg.headers)
    ref, _ = parse_subject(msg.subject)
    return RecordedEvent(ref, decode_event(envelope, msg.data), envelope, msg.metadata.sequence.stream)


async def deliver(
    msg: Msg, consumer: str, handle: Handler, dead_letters: DeadLetters, policy: DeliveryPolicy
) -> str:
    """Handle one message and settle it (ack / nak / dead-letter). Returns the outcome."""
    delivered = msg.metadata.num_delivered
    try:
        recorded = parse_message(msg)
        with caused_by(recorded.envelope.correlationid, recorded.envelope.id):
            await handle(recorded)
    except PERMANENT as exc:
        await _dead_letter(msg, consumer, dead_letters, f"{type(exc).__name__}: {exc}")
        return "dead_lettered"
    except Exception as exc:  # noqa: BLE001 — every other failure is retried, then dead-lettered
        if delivered >= policy.max_deliver:
            reason = f"failed {delivered} deliveries; last: {type(exc).__name__}: {exc}"
            await _dead_letter(msg, consumer, dead_letters, reason)
            return "dead_lettered"
        log.warning("message.retry", subject=msg.subject, delivered=delivered, error=repr(exc))
        await msg.nak(delay=policy.delay(delivered))
        return "retried"
    await msg.ack_sync()
    log.debug("message.handled", subject=msg.subject, consumer=consumer, delivered=delivered,
              correlation_id=recorded.envelope.correlationid, causation_id=recorded.envelope.id)
    return "handled"


async def _dead_letter(msg: Msg, consumer: str, dead_letters: DeadLetters, reason: str) -> None:
    metadata = msg.metadata
    letter = DeadLetter(
        consumer=consumer,
        stream=metadata.stream,
        subject=msg.subject,
        sequence=metadata.sequence.stream,
        deliveries=metadata.num_delivered,
        reason=reason,
        headers=dict(msg.headers or {}),
        payload=msg.data,
    )
    await dead_letters.record(letter)  # if this fails, the message is redelivered (not acked)
    log.error("message.dead_lettered", subject=msg.subject, sequence=letter.sequence, reason=reason)
    await msg.ack_sync()


def subscribe(
    broker: NatsBroker,
    spec: ConsumerSpec,
    handle: Handler,
    *,
    dead_letters: Callable[[], DeadLetters],
    policy: DeliveryPolicy,
    batch_size: int,
    description: str,
) -> None:
    """Register ``handle`` on the durable pull consumer ``spec`` (created by apply_consumers)."""

    async def on_message(message: NatsMessage) -> None:
        started = time.perf_counter()
        outcome = await deliver(message.raw_message, spec.durable, handle, dead_letters(), policy)
        CONSUMED.labels(spec.durable, outcome).inc()
        HANDLE_SECONDS.labels(spec.durable).observe(time.perf_counter() - started)

    subscriber = broker.subscriber(
        spec.filter_subjects[0] if len(spec.filter_subjects) == 1 else f"{spec.context}.>",
        stream=JStream(spec.stream, declare=False),
        durable=spec.durable,
        config=spec.config(max_deliver=policy.max_deliver, ack_wait=30.0),
        pull_sub=PullSub(batch_size=batch_size, timeout=5.0),
        ack_policy=AckPolicy.MANUAL,
        title=f"{spec.durable}:consume",
        description=description,
    )
    subscriber(on_message)
