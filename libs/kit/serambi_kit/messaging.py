"""Durable pull consumers on FastStream with a deliberate delivery policy (design §6).

FastStream's default JetStream policy terminates a message when the handler raises; Serambi
uses ``AckPolicy.MANUAL`` and decides itself, per message:

- handled → ack (after the handler's effect is durable: handlers await their writes);
- a dependency is down (MongoDB or NATS unreachable: ``outages.is_outage``) → the message is
  kept: the handler is tried again in place with a growing pause (capped), and the message's
  ack wait is renewed meanwhile, until the dependency is back — however long that takes. The
  consumer makes no progress during an outage (visible as a stalled consumer), but nothing is
  dead-lettered or dropped for it, and the outage does not count against the message's
  delivery budget;
- permanently bad (malformed envelope, payload that fails its contract, unknown event type) →
  dead-letter record with the reason, then ack — retrying cannot help;
- out of order (``OutOfOrderError``: its aggregate's previous event is not applied yet) → nak,
  first briefly (another replica is applying it), then after an ack wait each time: a previous
  event held by a consumer that died comes back only when its ack wait runs out, and the
  delivery budget must outlast that;
- failed otherwise (conflict, a bug) → nak with a growing delay; on the last allowed delivery
  → dead-letter record, then ack. The consumer keeps going either way.

A dead-letter record is written to MongoDB and only then is the message acked; if that write
fails (MongoDB down), the message waits like any other outage. The server-side consumers have
no delivery limit (``max_deliver=-1``), so JetStream can never give up on a message that was
not acked: the limit is the kit's own (``DeliveryPolicy.max_deliver``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from faststream.middlewares import AckPolicy
from faststream.nats import JStream, NatsBroker, NatsMessage, PullSub
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.client import JetStreamContext
from prometheus_client import Counter, Gauge, Histogram
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
from .keyedworkers import KeyedWorkers
from .logging import get_logger
from .outages import is_outage
from .tasks import cancel_and_wait, raise_if_cancel_requested
from .topology import ConsumerSpec
from .tracing import batch_span, consumer_span, failed_here

log = get_logger(__name__)
CONSUMED = Counter("serambi_messages_consumed_total", "Messages consumed", ["consumer", "outcome"])
HANDLE_SECONDS = Histogram("serambi_message_handle_seconds", "Handler time", ["consumer"])
OUTAGE_RETRIES = Counter(
    "serambi_consumer_outage_retries_total",
    "Handler attempts that failed because a dependency was down (the message was kept)",
    ["consumer"],
)
WAITING = Gauge(
    "serambi_consumer_waiting_for_dependency",
    "Messages this process holds until a dependency is back",
    ["consumer"],
)
Handler = Callable[[RecordedEvent], Awaitable[None]]


class PermanentError(Exception):
    """A handler's verdict that this message can never succeed (dead-letter it now)."""


class OutOfOrderError(Exception):
    """An event arrived before its aggregate's previous one was applied (retried later)."""


PERMANENT = (EnvelopeError, SubjectError, UnknownEventTypeError, ValidationError, PermanentError)


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    max_deliver: int
    retry_delays: tuple[float, ...]
    ack_wait: float = 30.0
    outage_max_delay: float = 10.0

    def outage_delay(self, attempt: int) -> float:
        """The pause before attempt ``attempt + 1`` while a dependency is down: doubling from
        0.5 s, capped, and always well inside the ack wait (``Hold`` keeps renewing it)."""
        return min(0.5 * 2.0 ** min(attempt - 1, 16), self.outage_max_delay, self.ack_wait / 3)

    def delay(self, delivered: int, error: Exception | None = None) -> float:
        if isinstance(error, OutOfOrderError) and delivered > 1:
            return self.ack_wait  # the previous event may be held by a consumer that died
        return self.retry_delays[min(delivered, len(self.retry_delays)) - 1]


def describe(error: Exception) -> str:
    """An error as a dead letter's reason or a log field, without the offending values (a
    payload that fails its contract may hold personal data)."""
    if isinstance(error, ValidationError):
        problems = error.errors(include_input=False, include_url=False)
        return "ValidationError: " + "; ".join(
            f"{'.'.join(map(str, problem['loc'])) or 'payload'}: {problem['msg']}" for problem in problems
        )
    return f"{type(error).__name__}: {error}"


def parse_message(msg: Msg) -> RecordedEvent:
    """The message as a recorded event; raises one of ``PERMANENT`` if it is not one."""
    envelope = decode_headers(msg.headers)
    ref, _ = parse_subject(msg.subject)
    return RecordedEvent(ref, decode_event(envelope, msg.data), envelope, msg.metadata.sequence.stream)


def _reader(handle: Handler) -> Callable[[Msg], RecordedEvent]:
    """How ``handle`` reads its messages: ``handle.parse`` if it has one (a projection reads an
    event it cannot decode as a gap to move past, in order), else :func:`parse_message`."""
    return getattr(handle, "parse", parse_message)


async def deliver(
    msg: Msg,
    consumer: str,
    handle: Handler,
    dead_letters: DeadLetters,
    policy: DeliveryPolicy,
    *,
    ignore_unknown_types: bool = False,
    held: Sequence[Msg] = (),
) -> str:
    """Handle one message and settle it (ack / nak / dead-letter). Returns the outcome.

    ``ignore_unknown_types``: a valid envelope whose ce-type is not in the catalogue (e.g. from a
    newer producer) is acked and ignored instead of dead-lettered — for consumers that react to a
    few known types and must not alarm on the others (the notifier).
    ``held``: other messages this process holds meanwhile (the rest of a batch), whose ack wait
    is renewed with this one's while a dependency is down.

    All of it runs in a consumer span, the child of the event's ``traceparent``.
    """
    with consumer_span(consumer, msg.subject, msg.headers) as span:
        outcome = await _settle(
            msg, consumer, handle, dead_letters, policy, ignore_unknown_types=ignore_unknown_types, held=held
        )
        span.set_attribute("serambi.outcome", outcome)
        return outcome


async def _settle(
    msg: Msg,
    consumer: str,
    handle: Handler,
    dead_letters: DeadLetters,
    policy: DeliveryPolicy,
    *,
    ignore_unknown_types: bool,
    held: Sequence[Msg],
) -> str:
    delivered = msg.metadata.num_delivered
    hold = Hold(consumer, policy, (msg, *held))
    try:
        recorded = _reader(handle)(msg)
        with caused_by(recorded.envelope.correlationid, recorded.envelope.id):
            await hold.until_done(lambda: handle(recorded))
    except ShuttingDown as exc:
        log.info("message.left_for_redelivery", subject=msg.subject, consumer=consumer, reason=str(exc))
        return "left"
    except UnknownEventTypeError as exc:
        if not ignore_unknown_types:
            failed_here(exc)
            await _dead_letter(msg, consumer, dead_letters, describe(exc), hold)
            return "dead_lettered"
        log.info("message.ignored", subject=msg.subject, consumer=consumer, reason=str(exc))
        await msg.ack_sync()
        return "ignored"
    except PERMANENT as exc:
        failed_here(exc)
        await _dead_letter(msg, consumer, dead_letters, describe(exc), hold)
        return "dead_lettered"
    except Exception as exc:  # noqa: BLE001 — every other failure is retried, then dead-lettered
        failed_here(exc)
        if delivered >= policy.max_deliver:
            reason = f"failed {delivered} deliveries; last: {describe(exc)}"
            await _dead_letter(msg, consumer, dead_letters, reason, hold)
            return "dead_lettered"
        log.warning("message.retry", subject=msg.subject, delivered=delivered, error=describe(exc)[:300])
        await msg.nak(delay=policy.delay(delivered, exc))
        return "retried"
    await msg.ack_sync()
    log.debug(
        "message.handled",
        subject=msg.subject,
        consumer=consumer,
        delivered=delivered,
        correlation_id=recorded.envelope.correlationid,
        causation_id=recorded.envelope.id,
    )
    return "handled"


class ShuttingDown(Exception):
    """This process's NATS connection is draining or closed: a held message is left un-acked
    (the server redelivers it, to this replica once back or to another), never dead-lettered."""


def _connection_closing(msg: Msg) -> bool:
    client = getattr(msg, "_client", None)
    return bool(client is not None and (client.is_draining or client.is_closed))


class Hold:
    """Runs a step of a message's handling again and again while a dependency is down.

    For as long as the step runs — a slow or hung call included, not only between failed
    attempts — the ack wait of every held message is renewed (``in_progress``) every third of
    it, so the server neither redelivers them to another replica nor counts the outage against
    their delivery budget. A failed attempt pauses (``DeliveryPolicy.outage_delay``) and tries
    again; any other error is raised at once. A wait longer than ``LONG_WAIT_SECONDS`` is
    logged as an error: an outage that long, or a misconfiguration (a permission refused by
    NATS gets no answer, which looks like an outage), wants a person.
    """

    LONG_WAIT_SECONDS = 300.0

    def __init__(
        self, consumer: str, policy: DeliveryPolicy, msgs: Sequence[Msg], also: Sequence[Msg] = ()
    ) -> None:
        self.consumer = consumer
        self.policy = policy
        self.msgs = msgs
        self.also = also  # held too, read anew at each renewal (the next batch, still arriving)

    async def until_done(self, step: Callable[[], Awaitable[None]]) -> None:
        attempt = 0
        started = time.monotonic()
        renewer = asyncio.create_task(self._keep_renewed())
        try:
            while True:
                try:
                    await step()
                    return
                except Exception as exc:
                    raise_if_cancel_requested(exc)  # the service is stopping this handler: no retry
                    if isinstance(exc, PERMANENT) or not is_outage(exc):
                        raise
                    if self.msgs and _connection_closing(self.msgs[0]):
                        # the service is stopping: waiting would hold its drain up for ever
                        raise ShuttingDown(describe(exc)[:300]) from exc
                    attempt += 1
                    if attempt == 1:
                        WAITING.labels(self.consumer).inc()
                    OUTAGE_RETRIES.labels(self.consumer).inc()
                    waited = time.monotonic() - started
                    (log.error if waited > self.LONG_WAIT_SECONDS else log.warning)(
                        "message.dependency_down",
                        consumer=self.consumer,
                        attempt=attempt,
                        waited_seconds=round(waited),
                        subject=self.msgs[0].subject,
                        error=describe(exc)[:300],
                    )
                await asyncio.sleep(self.policy.outage_delay(attempt))
        finally:
            await cancel_and_wait(renewer)
            if attempt:
                WAITING.labels(self.consumer).dec()
                log.info(
                    "message.dependency_back",
                    consumer=self.consumer,
                    attempts=attempt,
                    subject=self.msgs[0].subject,
                )

    async def _keep_renewed(self) -> None:
        while True:
            await asyncio.sleep(self.policy.ack_wait / 3)
            for msg in (*self.msgs, *self.also):
                try:
                    await msg.in_progress()
                except Exception:  # noqa: BLE001 — NATS itself may be the one down: renewed next time
                    break


async def _dead_letter(msg: Msg, consumer: str, dead_letters: DeadLetters, reason: str, hold: Hold) -> None:
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
    await hold.until_done(lambda: dead_letters.record(letter))  # acked only once recorded
    log.error("message.dead_lettered", subject=msg.subject, sequence=letter.sequence, reason=reason)
    await msg.ack_sync()


async def redrive(
    js: JetStreamContext, dead_letters: DeadLetters, handlers: dict[str, Handler], limit: int = 100
) -> dict[str, int]:
    """Run the handler again on dead letters an operator marked for redrive (``serambi
    dead-letters redrive``). JetStream cannot redeliver an acknowledged message, so the original
    is read back from its stream by sequence and handed to the same handler; handlers are
    idempotent (derived event ids, applied positions), so a redrive never doubles an effect."""
    outcomes: dict[str, int] = {}
    for _ in range(limit):
        letter = await dead_letters.claim_redrive(list(handlers))
        if letter is None:
            break
        try:
            stored = await js.get_msg(letter["stream"], letter["sequence"])
            # nats-py types every field optional; a stored message has them all
            assert stored.subject is not None and stored.data is not None and stored.seq is not None
            envelope = decode_headers(stored.headers)
            ref, _ = parse_subject(stored.subject)
            recorded = RecordedEvent(ref, decode_event(envelope, stored.data), envelope, stored.seq)
            with (
                consumer_span(letter["consumer"], stored.subject, stored.headers),
                caused_by(envelope.correlationid, envelope.id),
            ):
                await handlers[letter["consumer"]](recorded)
        except Exception as exc:  # noqa: BLE001 — kept open with the new reason
            raise_if_cancel_requested(exc)  # stopping: the letter's claim lapses, it is taken again
            if is_outage(exc):  # not the letter's fault: its claim lapses and it is taken again
                log.warning("message.redrive_deferred", letter=letter["_id"], error=describe(exc)[:300])
                outcomes["redrive_deferred"] = outcomes.get("redrive_deferred", 0) + 1
                break
            reason = f"redrive failed: {describe(exc)}"
            await dead_letters.settle_redrive(letter["_id"], reason)
            log.warning("message.redrive_failed", letter=letter["_id"], reason=reason)
            outcome = "redrive_failed"
        else:
            await dead_letters.settle_redrive(letter["_id"], None)
            log.info("message.redriven", letter=letter["_id"], subject=letter["subject"])
            outcome = "redriven"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


BatchFastPath = Callable[[list[RecordedEvent]], Awaitable[bool]]


async def deliver_batch(
    msgs: list[Msg],
    consumer: str,
    fast_path: BatchFastPath,
    handle: Handler,
    dead_letters: DeadLetters,
    policy: DeliveryPolicy,
    next_batch: Sequence[Msg] = (),
) -> dict[str, int]:
    """Settle a fetched batch: ``fast_path`` applies all valid events at once and returns True
    if every one took effect; otherwise (or if it raises) each message goes through
    :func:`deliver` on its own — retries, dead letters and idempotency as usual.

    ``next_batch``: messages taken meanwhile for the next batch (the list may still grow),
    whose ack wait is renewed with this batch's while a dependency is down."""
    outcomes: dict[str, int] = {}
    valid: list[tuple[Msg, RecordedEvent]] = []
    hold = Hold(consumer, policy, msgs, next_batch)
    for msg in msgs:
        try:
            valid.append((msg, _reader(handle)(msg)))
        except PERMANENT as exc:
            await _dead_letter(msg, consumer, dead_letters, describe(exc), hold)
            outcomes["dead_lettered"] = outcomes.get("dead_lettered", 0) + 1
    done = False

    async def apply_all() -> None:
        nonlocal done
        done = bool(valid) and await fast_path([recorded for _, recorded in valid])

    try:
        if valid:
            one = valid[0][0] if len(valid) == 1 else None  # a lone message continues its trace
            with (
                consumer_span(consumer, one.subject, one.headers)
                if one
                else batch_span(consumer, [msg.headers for msg, _ in valid])
            ):
                await hold.until_done(apply_all)  # an outage waits here for the whole batch
    except ShuttingDown:
        outcomes["left"] = outcomes.get("left", 0) + len(valid)  # redelivered, none acked
        return outcomes
    except Exception as exc:  # noqa: BLE001 — the slow path below retries message by message
        log.info("batch.fallback", consumer=consumer, size=len(valid), error=repr(exc))
    for index, (msg, _) in enumerate(valid):
        if done:
            await msg.ack()  # the batch's effect is durable; a lost ack only redelivers a no-op
            outcome = "handled"
        else:
            later = [*(other for other, _ in valid[index + 1 :]), *next_batch]
            outcome = await deliver(msg, consumer, handle, dead_letters, policy, held=later)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


class Backlog:
    """Takes what is already waiting on a durable consumer, without waiting for more.

    FastStream delivers one message at a time (``batch_size=1``: nats-py's fetch of a larger
    batch waits for the whole batch when messages trickle in, and FastStream's batch mode loses
    a fetched message to a bare ``asyncio.TimeoutError`` from nats-py 2.16). With each message,
    the kit asks the consumer for up to ``size - 1`` more with a ``no_wait`` pull request, so a
    backlog is applied in batches while an idle consumer still answers within milliseconds.

    Each take listens on an inbox of its own: JetStream delivers a pulled message under its
    stream subject, so a reply that comes after its take gave up (a reconnect, a leader
    election) could not be told apart on a shared inbox and would be handed out by the next
    take, behind newer messages. Such a late reply now goes nowhere, and the server redelivers
    it after its ack wait.
    """

    def __init__(self, nc: Callable[[], Client], spec: ConsumerSpec, timeout: float = 5.0) -> None:
        self.nc = nc
        self.spec = spec
        self.timeout = timeout

    async def take(self, count: int, into: list[Msg] | None = None) -> list[Msg]:
        """Up to ``count`` messages; appended to ``into`` as they arrive if given (so that a
        batch being applied meanwhile can keep their ack wait renewed)."""
        taken: list[Msg] = [] if into is None else into
        if count <= 0:
            return taken
        nc = self.nc()
        inbox = nc.new_inbox()
        subscription = await nc.subscribe(inbox)
        try:
            api = f"$JS.API.CONSUMER.MSG.NEXT.{self.spec.stream}.{self.spec.durable}"
            await nc.publish(api, json.dumps({"batch": count, "no_wait": True}).encode(), reply=inbox)
            for _ in range(count):
                try:
                    msg = await subscription.next_msg(timeout=self.timeout)
                except NatsTimeoutError:
                    break
                if msg.headers and msg.headers.get("Status"):  # 404 no messages, 408 end of request
                    break
                taken.append(msg)
        finally:
            with contextlib.suppress(Exception):  # a closed connection has no subscription left
                await subscription.unsubscribe()
        return taken


async def caught_up(js: JetStreamContext, spec: ConsumerSpec, timeout: float, poll: float = 0.05) -> bool:
    """Wait until the durable consumer ``spec`` has acknowledged every message of its stream that
    was stored when this was called (for a projection: applied them to its read model), at most
    ``timeout`` seconds; False if it had not by then. Its ack floor passing the stream's last
    sequence says so, and so does nothing left to deliver or to acknowledge (the stream's last
    messages may be outside the consumer's subjects)."""
    last = (await js.stream_info(spec.stream)).state.last_seq
    deadline = time.monotonic() + timeout
    while True:
        info = await js.consumer_info(spec.stream, spec.durable)
        floor = info.ack_floor.stream_seq if info.ack_floor and info.ack_floor.stream_seq else 0
        if floor >= last or not (info.num_pending or info.num_ack_pending):
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(poll)


def subscribe_batches(
    broker: NatsBroker,
    spec: ConsumerSpec,
    fast_path: BatchFastPath,
    handle: Handler,
    *,
    backlog: Backlog,
    dead_letters: Callable[[], DeadLetters],
    policy: DeliveryPolicy,
    batch_size: int,
    description: str,
    stopping: Callable[[], bool] = lambda: False,
) -> None:
    """Like :func:`subscribe`, for handlers that can apply a batch at once (projections).

    While a full batch is applied, the next one is already taken (the no-wait pull and nats-py's
    reading of the messages overlap the database write); it is applied once this one is settled,
    so batches stay in order. The loop ends with a batch that is not full (the backlog is
    drained: FastStream delivers the next message) or when the service is stopping
    (``stopping()``: the runtime says so before it stops the broker, which waits for this
    handler)."""

    async def on_message(message: NatsMessage) -> None:
        msgs = [message.raw_message, *await backlog.take(batch_size - 1)]
        while msgs:
            started = time.perf_counter()
            following: list[Msg] = []
            prefetch = (
                asyncio.create_task(backlog.take(batch_size, following)) if len(msgs) == batch_size else None
            )
            try:
                outcomes = await deliver_batch(
                    msgs, spec.durable, fast_path, handle, dead_letters(), policy, following
                )
            except BaseException as exc:
                # what the prefetch took is redelivered after its ack wait; a prefetch cut short
                # could leave messages queued on the backlog's inbox, so only a stop cuts it
                if isinstance(exc, asyncio.CancelledError):
                    await cancel_and_wait(prefetch)
                elif prefetch is not None:
                    await asyncio.wait([prefetch])
                    if not prefetch.cancelled():
                        prefetch.exception()  # retrieved: the batch's own error is the one raised
                raise
            for outcome, count in outcomes.items():
                CONSUMED.labels(spec.durable, outcome).inc(count)
            HANDLE_SECONDS.labels(spec.durable).observe(time.perf_counter() - started)
            if (
                prefetch is None
                or "left" in outcomes
                or stopping()
                or _connection_closing(message.raw_message)
            ):
                await cancel_and_wait(prefetch)  # taken, not settled: redelivered, as after a crash
                return
            msgs = await prefetch

    _register(broker, spec, policy, PullSub(batch_size=1, timeout=5.0), description, on_message)


def _register(
    broker: NatsBroker,
    spec: ConsumerSpec,
    policy: DeliveryPolicy,
    pull: PullSub,
    description: str,
    on_message: Callable[[NatsMessage], Awaitable[None]],
) -> None:
    broker.subscriber(
        spec.filter_subjects[0] if len(spec.filter_subjects) == 1 else f"{spec.context}.>",
        stream=JStream(spec.stream, declare=False),
        durable=spec.durable,
        config=spec.config(ack_wait=policy.ack_wait),
        pull_sub=pull,
        ack_policy=AckPolicy.MANUAL,
        title=f"{spec.durable}:consume",
        description=description,
    )(on_message)


class Concurrent:
    """A consumer's messages handled by ``KeyedWorkers``, and those handed over but not started
    yet (behind busy workers or an earlier message of their aggregate): their ack wait is
    renewed every third of it while they wait, and a stop naks them for a prompt redelivery."""

    def __init__(self, workers: KeyedWorkers, ack_wait: float) -> None:
        self.workers = workers
        self.ack_wait = ack_wait
        self._waiting: dict[int, Msg] = {}  # by id: nats-py's Msg is not hashable
        self._renewer: asyncio.Task[None] | None = None

    async def submit(self, msg: Msg, handle: Callable[[Msg], Awaitable[None]]) -> None:
        self._waiting[id(msg)] = msg
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.create_task(self._keep_renewed())

        async def job() -> None:
            self._waiting.pop(id(msg), None)
            await handle(msg)

        await self.workers.submit(aggregate_of(msg.subject), job)

    async def _keep_renewed(self) -> None:
        while self._waiting:
            await asyncio.sleep(self.ack_wait / 3)
            for msg in list(self._waiting.values()):
                if not _connection_closing(msg):
                    with contextlib.suppress(Exception):  # NATS may be the one down: next time
                        await msg.in_progress()

    async def drain(self, timeout: float) -> None:
        """Let the started handlers end (up to ``timeout``); nak what never started."""
        await self.workers.drain(timeout)
        await cancel_and_wait(self._renewer)
        for msg in list(self._waiting.values()):
            with contextlib.suppress(Exception):  # not naked: redelivered after its ack wait
                await msg.nak()
        self._waiting.clear()


def subscribe(
    broker: NatsBroker,
    spec: ConsumerSpec,
    handle: Handler,
    *,
    dead_letters: Callable[[], DeadLetters],
    policy: DeliveryPolicy,
    batch_size: int,
    description: str,
    ignore_unknown_types: bool = False,
    workers: int = 1,
    backlog: Backlog | None = None,
) -> Concurrent | None:
    """Register ``handle`` on the durable pull consumer ``spec`` (created by apply_consumers).

    ``workers`` > 1 handles up to that many messages at once in this process, one at a time
    per aggregate (the subject without its event type) and in their order of arrival
    (``Concurrent``, returned: the caller drains it before the connection closes). With each
    message FastStream delivers, what already waits on the consumer is taken from ``backlog``
    too, as many as there are idle workers: one pull per message would leave the workers idle
    behind the event loop's round trips once the process is busy."""

    async def handle_one(msg: Msg) -> None:
        started = time.perf_counter()
        outcome = await deliver(
            msg, spec.durable, handle, dead_letters(), policy, ignore_unknown_types=ignore_unknown_types
        )
        CONSUMED.labels(spec.durable, outcome).inc()
        HANDLE_SECONDS.labels(spec.durable).observe(time.perf_counter() - started)

    concurrent = Concurrent(KeyedWorkers(workers, spec.durable), policy.ack_wait) if workers > 1 else None

    async def on_message(message: NatsMessage) -> None:
        if concurrent is None:
            await handle_one(message.raw_message)
            return
        idle = concurrent.workers.idle
        waiting = await backlog.take(idle - 1) if backlog is not None else []
        for msg in (message.raw_message, *waiting):
            await concurrent.submit(msg, handle_one)

    _register(broker, spec, policy, PullSub(batch_size=batch_size, timeout=5.0), description, on_message)
    return concurrent


def aggregate_of(subject: str) -> str:
    """``<context>.<aggregate>.<id>.<EventType>`` → ``<context>.<aggregate>.<id>``."""
    return subject.rpartition(".")[0]
