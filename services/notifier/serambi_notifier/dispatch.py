"""From events to sent messages, exactly once per (cause event, channel, recipient).

1. ``handle`` (the consumers' handler): plan the event's deliveries and record them in the
   ledger in one write, each already claimed by this replica (a duplicate means another replica
   or an earlier delivery of the event has it). The event is acked when the intents are durable;
   the sends then run in the background, a bounded number at a time.
2. ``_deliver``: compose → send → record the outcome if the claim is still ours → append
   NotificationSent / NotificationFailed. Transient failures are retried with exponential
   backoff (capped, with jitter) up to ``delivery_max_attempts``; permanent ones fail at once.
3. ``run`` (a loop in every replica): claims deliveries that are due — retries, SMS held for
   quiet hours, claims whose lease ran out (a sender died mid-send) — re-plans each from its
   cause event (read back from the stream; the ledger keeps no clear addresses or bodies) and
   delivers it; and appends events still missing.
"""

from __future__ import annotations

import asyncio
import random
import socket
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import Counter, Histogram
from serambi_contracts import AggregateRef
from serambi_contracts.notifier import Channel, NotificationFailed, NotificationSent, RecipientKind
from serambi_kit.causation import caused_by
from serambi_kit.eventstore import RecordedEvent, deterministic_id, parse_stored, read_raw
from serambi_kit.logging import get_logger

from .channels import PermanentDeliveryError, Receipt, TransientDeliveryError
from .channels.email import SmtpChannel
from .channels.sms import SmsProvider
from .compose import Composer
from .ledger import FINAL_STATES, Cause, Ledger
from .planning import Planned, Planner
from .settings import NotifierSettings

log = get_logger(__name__)
OUTCOMES = Counter("serambi_notifications_total", "Delivery attempts", ["channel", "outcome"])
SEND_SECONDS = Histogram("serambi_notification_send_seconds", "Time to hand a message over",
                         ["channel"])
Clock = Callable[[], datetime]
BATCH = 100


def utcnow() -> datetime:
    return datetime.now(UTC)


class Dispatcher:
    def __init__(
        self, settings: NotifierSettings, planner: Planner, composer: Composer, ledger: Ledger,
        email: SmtpChannel, sms: SmsProvider, store: Any, nc: Any, clock: Clock = utcnow,
    ) -> None:
        self.settings = settings
        self.planner = planner
        self.composer = composer
        self.ledger = ledger
        self.email = email
        self.sms = sms
        self._store = store
        self._nc = nc
        self.clock = clock
        self.owner = f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self._task: asyncio.Task | None = None
        self._stopping = asyncio.Event()
        self._slots = asyncio.Semaphore(settings.dispatch_concurrency)
        self._inflight: set[asyncio.Task] = set()

    @property
    def store(self) -> Any:
        return self._store() if callable(self._store) else self._store

    @property
    def nc(self) -> Any:
        return self._nc() if callable(self._nc) else self._nc

    # -- 1. events in --------------------------------------------------------------------------
    async def handle(self, recorded: RecordedEvent) -> None:
        """Plan and record the event's deliveries (one write), then send them in the background.

        The consumer acks the event when this returns: the intents are durable by then, and the
        ledger — not the JetStream message — carries the rest. Sends run concurrently, at most
        ``dispatch_concurrency`` at a time (the handler waits for a free slot: backpressure).
        Events without subscriptions are acked silently.
        """
        if not self.planner.subscribed(recorded.event):
            return
        now = self.clock()
        if self._stale(recorded, now):
            log.info("notification.stale", subject=recorded.ref.subject(type(recorded.event).name()),
                     event_time=recorded.envelope.time.isoformat())
            return
        plans = await self.planner.plan(recorded, now)
        recorded_now = await self.ledger.record(
            plans, Cause.of(recorded), now, self.owner, self.settings.delivery_lease_seconds)
        for planned in plans:
            document = recorded_now.get(planned.delivery_id)
            if document is None:
                continue  # recorded before (redelivery, another replica): the ledger has it
            if document["state"] == "sending":
                await self._spawn(self._deliver(document, planned))
            elif document["state"] == "failed":
                await self._spawn(self._publish_document(document))

    def _stale(self, recorded: RecordedEvent, now: datetime) -> bool:
        """Too old to be news: a first deployment (the consumers start at the beginning of the
        streams) or a replay must not notify people about events of long ago."""
        hours = self.settings.notify_max_age_hours
        return bool(hours) and now - recorded.envelope.time > timedelta(hours=hours)

    async def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        await self._slots.acquire()
        task = asyncio.create_task(self._guarded(work))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _guarded(self, work: Coroutine[Any, Any, Any]) -> None:
        try:
            await work
        except Exception as exc:  # noqa: BLE001 — logged; the dispatch loop finishes the job
            log.warning("notification.deferred", error=f"{type(exc).__name__}: {exc}")
        finally:
            self._slots.release()

    async def drain(self) -> None:
        """Wait for the sends in flight (tests, shutdown)."""
        while self._inflight:
            await asyncio.gather(*list(self._inflight), return_exceptions=True)

    # -- 2. one attempt ------------------------------------------------------------------------
    async def attempt(self, delivery_id: str, planned: Planned | None = None) -> str | None:
        """Claim a due delivery and deliver it. Returns the outcome, None if not claimed."""
        now = self.clock()
        claimed = await self.ledger.claim(delivery_id, now, self.owner,
                                          self.settings.delivery_lease_seconds)
        if claimed is None:
            return None
        if planned is None:
            planned = await self.replan(claimed)
            if planned is None:
                reason = "no longer planned: the cause event or the subscriptions changed"
                await self.ledger.failed(claimed, now, reason)
                await self.publish(delivery_id)
                return "failed"
        return await self._deliver(claimed, planned)

    async def _deliver(self, claimed: dict[str, Any], planned: Planned) -> str:
        """Send a delivery we hold the claim of, record the outcome, append its event."""
        now = self.clock()
        delivery_id = claimed["_id"]
        if planned.problem:
            await self.ledger.failed(claimed, now, planned.problem)
            await self.publish(delivery_id)
            return "failed"
        if self._quiet_now(planned, now):
            await self.ledger.hold(claimed, now, self.planner.quiet.release(now))
            return "held"
        started = asyncio.get_running_loop().time()
        final: dict[str, Any] | None = None
        try:
            receipt = await self._send(planned, now, claimed["attempts"])
        except PermanentDeliveryError as exc:
            outcome, reason = "failed", str(exc)[:300]
            if await self.ledger.failed(claimed, self.clock(), reason):
                final = {**claimed, "state": "failed", "reason": reason, "failed_at": self.clock()}
        except TransientDeliveryError as exc:
            outcome = await self._transient(claimed, planned, str(exc)[:300])
            if outcome == "failed":
                final = await self.ledger.final(delivery_id)
        else:
            outcome = "sent"
            ids = [i for i in (receipt.message_id or "").split(",") if i]
            at = self.clock()
            if await self.ledger.sent(claimed, at, receipt.provider, ids, receipt.status):
                final = {**claimed, "state": "sent", "sent_at": at, "provider": receipt.provider,
                         "provider_message_ids": ids}
        SEND_SECONDS.labels(planned.channel.value).observe(
            asyncio.get_running_loop().time() - started)
        OUTCOMES.labels(planned.channel.value, outcome).inc()
        log.info("notification.attempt", delivery_id=delivery_id, notice=planned.notice,
                 channel=planned.channel.value, recipient=planned.recipient_masked,
                 attempt=claimed["attempts"], outcome=outcome)
        if final is not None:
            await self._publish_document(final)
        return outcome

    def _quiet_now(self, planned: Planned, now: datetime) -> bool:
        return (planned.channel is Channel.SMS and planned.recipient_kind is RecipientKind.CITIZEN
                and self.planner.quiet.contains(now))

    async def _send(self, planned: Planned, now: datetime, attempt: int) -> Receipt:
        try:
            if planned.channel is Channel.EMAIL:
                return await self.email.send(await self.composer.email(planned, now, attempt))
            message = self.composer.sms(planned)
            return await self.sms.send(message.to, message.parts, planned.delivery_id)
        except (PermanentDeliveryError, TransientDeliveryError):
            raise
        except Exception as exc:  # noqa: BLE001 — a template or attachment bug: fix, then retry
            raise TransientDeliveryError(f"{type(exc).__name__}: {exc}") from exc

    async def _transient(self, claimed: dict[str, Any], planned: Planned, error: str) -> str:
        now = self.clock()
        attempts = claimed["attempts"]
        if attempts >= self.settings.delivery_max_attempts:
            await self.ledger.failed(claimed, now, f"gave up after {attempts} attempts: {error}")
            return "failed"
        at = now + timedelta(seconds=self.backoff(attempts))
        if planned.channel is Channel.SMS and planned.recipient_kind is RecipientKind.CITIZEN:
            at = self.planner.quiet.release(at)
        await self.ledger.retry(claimed, now, error, at)
        return "retry"

    def backoff(self, attempts: int) -> float:
        """Seconds before attempt ``attempts + 1``: base·2^(n-1), capped, ±20 % jitter."""
        s = self.settings
        delay = min(s.delivery_backoff_base_seconds * 2 ** (attempts - 1),
                    s.delivery_backoff_max_seconds)
        return delay * random.uniform(0.8, 1.2)

    # -- events out ----------------------------------------------------------------------------
    async def publish(self, delivery_id: str) -> bool:
        """Append the final event of a delivery that still lacks it."""
        document = await self.ledger.final(delivery_id)
        return await self._publish_document(document) if document else False

    async def _publish_document(self, document: dict[str, Any]) -> bool:
        """Append NotificationSent / NotificationFailed once (a deterministic event id makes a
        repeat a no-op), then mark the delivery published."""
        delivery_id = document["_id"]
        cause = document["cause"]
        common = dict(
            delivery_id=delivery_id, cause_event_id=cause["event_id"], cause_type=cause["type"],
            case_id=document.get("case_id"), notice=document["notice"],
            channel=document["channel"], recipient_kind=document["recipient_kind"],
            recipient_role=document["recipient_role"],
            recipient_masked=document["recipient_masked"],
            recipient_hash=document["recipient_hash"], attempts=document["attempts"],
        )
        if document["state"] == "sent":
            ids = document.get("provider_message_ids") or []
            event: Any = NotificationSent(**common, provider=document.get("provider") or "unknown",
                                          provider_message_id=",".join(ids)[:300] or None,
                                          sent_at=document["sent_at"])
        else:
            event = NotificationFailed(**common, reason=(document.get("reason") or "unknown")[:300],
                                       failed_at=document["failed_at"])
        ref = AggregateRef("notifier", "delivery", delivery_id)
        with caused_by(cause.get("correlation_id"), cause["event_id"]):
            await self.store.append(
                ref, [event], expected_sequence=0, expected_version=0,
                event_ids=[deterministic_id("notification", delivery_id)],
            )
        await self.ledger.published(delivery_id)
        return True

    # -- 3. the loop ---------------------------------------------------------------------------
    async def replan(self, document: dict[str, Any]) -> Planned | None:
        """The delivery re-planned from its cause event, read back from its stream."""
        cause = document["cause"]
        async for headers, data in read_raw(self.nc, cause["stream"], cause["subject"],
                                            from_sequence=cause["sequence"]):
            recorded = parse_stored(headers, data)
            if recorded.envelope.id != cause["event_id"]:
                return None
            for planned in await self.planner.plan(recorded, self.clock()):
                if planned.delivery_id == document["_id"]:
                    return planned
            return None
        return None

    async def run_once(self, limit: int = 0) -> int:
        """Work through what is due now. Returns how many deliveries it looked at."""
        due = await self.ledger.due(self.clock(), limit or BATCH)
        semaphore = asyncio.Semaphore(8)

        async def one(document: dict[str, Any]) -> None:
            async with semaphore:
                try:
                    if document["state"] not in FINAL_STATES:
                        await self.attempt(document["_id"])
                    await self.publish(document["_id"])
                except Exception as exc:  # noqa: BLE001 — one bad delivery never stops the loop
                    log.warning("notification.dispatch_error", delivery_id=document["_id"],
                                error=f"{type(exc).__name__}: {exc}")

        await asyncio.gather(*(one(document) for document in due))
        return len(due)

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                busy = await self.run_once()
            except Exception as exc:  # noqa: BLE001 — database blip: try again next round
                log.warning("notification.loop_error", error=f"{type(exc).__name__}: {exc}")
                busy = 0
            if busy >= BATCH:
                continue  # a backlog: go on at once
            try:
                await asyncio.wait_for(self._stopping.wait(), self.settings.dispatch_poll_seconds)
            except TimeoutError:
                pass

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self.run(), name="notifier-dispatch")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.drain()
