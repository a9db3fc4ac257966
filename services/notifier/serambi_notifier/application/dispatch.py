"""From events to sent messages, exactly once per (cause event, channel, recipient).

1. ``handle`` (the consumers' handler): plan the event's deliveries and record them in the
   ledger in one write, each already claimed by this replica (a duplicate means another replica
   or an earlier delivery of the event has it). The event is acked when the intents are durable;
   the sends then run in the background, a bounded number at a time.
2. ``_deliver``: compose → check the claim is still ours (for email once an SMTP connection is
   free; a write only when the claim is older than a quarter lease) → send → append
   NotificationSent → record the outcome, already published, if the claim is still ours (a
   failure: record it, then append NotificationFailed). A claim taken over after its lease ran
   out reads the delivery's stream first: a NotificationSent there is recorded, not resent.
   Transient failures are retried with
   exponential backoff (capped, with jitter) up to ``delivery_max_attempts``; permanent ones
   fail at once. While a replica holds claims — queued behind others or being sent — it renews
   their leases every quarter lease, so a slow relay never lets another replica take one over.
3. ``run`` (a loop in every replica): claims deliveries that are due — retries, SMS held for
   quiet hours, claims whose lease ran out (a sender died mid-send) — re-plans each from its
   cause event (read back from the stream; the ledger keeps no clear addresses or bodies) and
   delivers it; and appends events still missing.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import Counter, Histogram
from serambi_contracts.notifier import Channel, FailureCategory, NotificationSent, RecipientKind
from serambi_kit.eventstore import RecordedEvent, parse_stored, read_raw
from serambi_kit.logging import get_logger
from serambi_kit.tasks import cancel_requested
from serambi_kit.tracing import client_span, continuing

from ..domain.deliveries import Planned
from ..domain.retries import backoff, stale, waits_for_quiet_hours
from ..settings import NotifierSettings
from .claims import RENEWALS_PER_LEASE, HeldClaims
from .compose import Composer
from .outcomes import append_event, append_outcome, recorded_outcome
from .planning import Planner
from .ports import (
    FINAL_STATES,
    TAKEN_OVER,
    Cause,
    ClaimLostError,
    DeliveryLedger,
    EmailChannel,
    PermanentDeliveryError,
    Receipt,
    SmsProvider,
    TransientDeliveryError,
)
from .sealing import sealed_recipient, stored_detail
from .sends import Sends

log = get_logger(__name__)
OUTCOMES = Counter("serambi_notifications_total", "Delivery attempts", ["channel", "outcome"])
SEND_SECONDS = Histogram("serambi_notification_send_seconds", "Time to hand a message over", ["channel"])
Clock = Callable[[], datetime]
BATCH = 100
#: how long a sent delivery's event may take to append before its outcome is written without
#: it (the outbox appends it then): keeps the window in which a crash would resend short
#: while NATS is slow (a leader election), where the store's own retries take up to ~15 s
APPEND_FIRST_SECONDS = 2.0


def utcnow() -> datetime:
    return datetime.now(UTC)


class Dispatcher:
    def __init__(
        self,
        settings: NotifierSettings,
        planner: Planner,
        composer: Composer,
        ledger: DeliveryLedger,
        email: EmailChannel,
        sms: SmsProvider,
        store: Any,
        nc: Any,
        clock: Clock = utcnow,
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
        self.sends = Sends(settings.dispatch_concurrency)
        self.claims = HeldClaims(ledger, self.owner, settings.delivery_lease_seconds, clock)

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
        if stale(recorded.envelope.time, now, self.settings.notify_max_age_hours):
            log.info(
                "notification.stale",
                subject=recorded.ref.subject(type(recorded.event).name()),
                event_time=recorded.envelope.time.isoformat(),
            )
            return
        plans = await self.planner.plan(recorded, now)
        details = {
            p.delivery_id: await self.stored_detail(p.subject_key, p.problem) for p in plans if p.problem
        }
        recipients = {p.delivery_id: sealed for p in plans if (sealed := await self.sealed_recipient(p))}
        recorded_now = await self.ledger.record(
            plans,
            Cause.of(recorded),
            now,
            self.owner,
            self.settings.delivery_lease_seconds,
            details,
            recipients,
        )
        # recorded before (redelivery, another replica): the ledger has it
        ours = [(recorded_now[p.delivery_id], p) for p in plans if recorded_now.get(p.delivery_id)]
        for document, _ in ours:
            self.claims.hold(document)  # renewed while it waits for a slot and for a connection
        try:
            while ours:
                document, planned = ours[0]
                if document["state"] == "sending":
                    await self.sends.spawn(self._deliver(document, planned))
                elif document["state"] == "failed":
                    await self.sends.spawn(self._publish_document(document))
                ours.pop(0)
        finally:
            for document, _ in ours:  # not started (cancelled): the lease runs out, others take it
                self.claims.release(document)

    async def drain(self) -> None:
        """Wait for the sends in flight (tests, shutdown)."""
        await self.sends.drain()

    # -- 2. one attempt ------------------------------------------------------------------------
    async def attempt(self, delivery_id: str, planned: Planned | None = None) -> str | None:
        """Claim a due delivery and deliver it. Returns the outcome, None if not claimed."""
        now = self.clock()
        claimed = await self.ledger.claim(delivery_id, now, self.owner, self.settings.delivery_lease_seconds)
        if claimed is None:
            return None
        self.claims.hold(claimed)
        try:
            if claimed.get(TAKEN_OVER) and await self._recorded_before(claimed):
                return "sent"
            if planned is None:
                planned = await self.replan(claimed)
                if planned is None:  # the cause event or the subscriptions changed
                    await self.ledger.failed(claimed, now, FailureCategory.NOT_PLANNED)
                    await self.publish(delivery_id)
                    return "failed"
            return await self._deliver(claimed, planned)
        finally:
            self.claims.release(claimed)

    async def _deliver(self, claimed: dict[str, Any], planned: Planned) -> str:
        """Send a delivery we hold the claim of, record the outcome, append its event — in a
        span of the cause event's trace (under the consumer's span when sent at once)."""
        self.claims.hold(claimed)
        try:
            with client_span(
                f"{planned.channel.value} send",
                {
                    "serambi.notice": planned.notice,
                    "serambi.channel": planned.channel.value,
                    "serambi.attempt": claimed["attempts"],
                },
                continuing(claimed["cause"].get("traceparent")),
            ) as span:
                outcome = await self._attempt_held(claimed, planned)
                span.set_attribute("serambi.outcome", outcome)
                return outcome
        finally:
            self.claims.release(claimed)

    async def _attempt_held(self, claimed: dict[str, Any], planned: Planned) -> str:
        now = self.clock()
        delivery_id = claimed["_id"]
        if planned.problem_category:
            await self.ledger.failed(
                claimed,
                now,
                planned.problem_category,
                await self.stored_detail(planned.subject_key, planned.problem),
            )
            await self.publish(delivery_id)
            return "failed"
        if self._quiet_now(planned, now):
            await self.ledger.hold(claimed, now, self.planner.quiet.release(now))
            return "held"
        started = asyncio.get_running_loop().time()
        final: dict[str, Any] | None = None
        try:
            receipt = await self._send(planned, now, claimed)
        except ClaimLostError:
            log.info(
                "notification.claim_lost",
                delivery_id=delivery_id,
                channel=planned.channel.value,
                attempt=claimed["attempts"],
            )
            OUTCOMES.labels(planned.channel.value, "superseded").inc()
            return "superseded"  # another replica took it over: it sends and records it
        except PermanentDeliveryError as exc:
            outcome, reason = "failed", FailureCategory.REFUSED
            detail = await self.stored_detail(planned.subject_key, str(exc))
            if await self.ledger.failed(claimed, self.clock(), reason, detail):
                final = {**claimed, "state": "failed", "reason": reason.value, "failed_at": self.clock()}
        except TransientDeliveryError as exc:
            outcome = await self._transient(claimed, planned, exc)
            if outcome == "failed":
                final = await self.ledger.final(delivery_id)
        else:
            outcome = "sent"
            ids = [i for i in (receipt.message_id or "").split(",") if i]
            at = self.clock()
            sent = {**claimed, "state": "sent", "sent_at": at, "provider": receipt.provider}
            # the event first, then the outcome marked published in the same write: the stream
            # is the record of what was handed over (a taker-over reads it, see ``attempt``)
            published = await self._append_first(sent | {"provider_message_ids": ids})
            await self.ledger.sent(claimed, at, receipt.provider, ids, receipt.status, published)
        SEND_SECONDS.labels(planned.channel.value).observe(asyncio.get_running_loop().time() - started)
        OUTCOMES.labels(planned.channel.value, outcome).inc()
        log.info(
            "notification.attempt",
            delivery_id=delivery_id,
            notice=planned.notice,
            channel=planned.channel.value,
            recipient_kind=planned.recipient_kind.value,
            recipient=planned.recipient_masked
            if planned.recipient_kind is RecipientKind.OFFICER
            else None,  # a citizen's not even masked: a log outlives their erasure
            attempt=claimed["attempts"],
            outcome=outcome,
        )
        if final is not None:
            await self._publish_document(final)
        return outcome

    async def _append_first(self, document: dict[str, Any]) -> bool:
        """Append a sent delivery's NotificationSent before its outcome is written. False if
        NATS did not take it within ``APPEND_FIRST_SECONDS``, or the append failed in any way:
        the outcome is then written unpublished and the dispatch loop appends it (the outbox;
        the event's deterministic id makes an append that landed late a no-op). Whatever goes
        wrong here, the outcome must still be written — a message handed over and recorded
        nowhere would be sent again after the lease."""
        try:
            await asyncio.wait_for(append_event(self.store, document), APPEND_FIRST_SECONDS)
        except Exception as exc:  # noqa: BLE001 — any failure defers the event to the outbox
            log.warning("notification.append_deferred", delivery_id=document["_id"], error=type(exc).__name__)
            return False
        return True

    async def _recorded_before(self, claimed: dict[str, Any]) -> bool:
        """A claim taken over from a holder whose lease ran out: if the delivery's stream holds
        its NotificationSent, the holder handed the message over and appended it, then stopped
        before writing the outcome. The outcome is written from the event — nothing is resent."""
        event = await recorded_outcome(self.store, claimed["_id"])
        if not isinstance(event, NotificationSent):
            return False
        ids = [i for i in (event.provider_message_id or "").split(",") if i]
        await self.ledger.sent(claimed, event.sent_at, event.provider, ids, "recovered", True)
        log.info("notification.recovered_from_stream", delivery_id=claimed["_id"])
        OUTCOMES.labels(claimed["channel"], "recovered").inc()
        return True

    def _fresh(self, claimed: dict[str, Any]) -> bool:
        """True while our claim is younger than a quarter lease (the renewal interval), by the
        clock that wrote its ``lease_until``: no other replica can have taken it over yet unless
        its clock runs three quarters of a lease ahead — which would already let it take over a
        delivery while we send it, renewals notwithstanding (docs/notifier.md)."""
        lease = self.settings.delivery_lease_seconds
        until = claimed.get("lease_until")
        if until is None:
            return False
        if until.tzinfo is None:  # as read back from the database
            until = until.replace(tzinfo=UTC)
        elapsed = self.clock() - (until - timedelta(seconds=lease))
        return timedelta(0) <= elapsed < timedelta(seconds=lease / RENEWALS_PER_LEASE)

    def _quiet_now(self, planned: Planned, now: datetime) -> bool:
        return waits_for_quiet_hours(planned) and self.planner.quiet.contains(now)

    async def _send(self, planned: Planned, now: datetime, claimed: dict[str, Any]) -> Receipt:
        """Compose and hand over — only if, right before, the claim is still ours."""

        async def ready() -> bool:
            if self._fresh(claimed):  # the claim is the fence (no write)
                return True
            return await self.ledger.fence(claimed, self.clock(), self.settings.delivery_lease_seconds)

        try:
            if planned.channel is Channel.EMAIL:
                email = await self.composer.email(planned, now, claimed["attempts"])
                return await self.email.send(email, ready)
            message = self.composer.sms(planned)
            if not await ready():
                raise ClaimLostError(planned.delivery_id)
            return await self.sms.send(message.to, message.parts, planned.delivery_id)
        except (PermanentDeliveryError, TransientDeliveryError, ClaimLostError):
            raise
        except Exception as exc:  # noqa: BLE001 — a template or attachment bug: fix, then retry
            raise TransientDeliveryError(f"{type(exc).__name__}: {exc}", "compose") from exc

    async def _transient(
        self, claimed: dict[str, Any], planned: Planned, error: TransientDeliveryError
    ) -> str:
        now = self.clock()
        attempts = claimed["attempts"]
        if attempts >= self.settings.delivery_max_attempts:
            detail = await self.stored_detail(
                planned.subject_key, f"gave up after {attempts} attempts: {error}"
            )
            await self.ledger.failed(claimed, now, FailureCategory.GAVE_UP, detail)
            return "failed"
        at = now + timedelta(seconds=self.backoff(attempts))
        if waits_for_quiet_hours(planned):
            at = self.planner.quiet.release(at)
        await self.ledger.retry(
            claimed, now, error.category, at, await self.stored_detail(planned.subject_key, str(error))
        )
        return "retry"

    async def stored_detail(self, subject_key: str | None, text: str | None) -> dict[str, Any] | None:
        return await stored_detail(self.planner.vault, subject_key, text)

    async def sealed_recipient(self, planned: Planned) -> dict[str, Any] | None:
        return await sealed_recipient(self.planner.vault, planned)

    def backoff(self, attempts: int) -> float:
        s = self.settings
        return backoff(attempts, s.delivery_backoff_base_seconds, s.delivery_backoff_max_seconds)

    # -- events out ----------------------------------------------------------------------------
    async def publish(self, delivery_id: str) -> bool:
        """Append the final event of a delivery that still lacks it."""
        document = await self.ledger.final(delivery_id)
        return await self._publish_document(document) if document else False

    async def _publish_document(self, document: dict[str, Any]) -> bool:
        """Append NotificationSent / NotificationFailed (once), then mark it published."""
        return await append_outcome(self.store, self.ledger, document)

    # -- 3. the loop ---------------------------------------------------------------------------
    async def replan(self, document: dict[str, Any]) -> Planned | None:
        """The delivery re-planned from its cause event, read back from its stream."""
        cause = document["cause"]
        async for headers, data in read_raw(
            self.nc, cause["stream"], cause["subject"], from_sequence=cause["sequence"]
        ):
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
            if document["_id"] in self.claims:
                return  # ours, on its way (its lease ran out while renewals failed)
            async with semaphore:
                try:
                    if document["state"] not in FINAL_STATES:
                        await self.attempt(document["_id"])
                    await self.publish(document["_id"])
                except Exception as exc:  # noqa: BLE001 — one bad delivery never stops the loop
                    log.warning(
                        "notification.dispatch_error",
                        delivery_id=document["_id"],
                        error=f"{type(exc).__name__}: {exc}",
                    )

        await asyncio.gather(*(one(document) for document in due))
        return len(due)

    async def run(self) -> None:
        while not self._stopping.is_set() and not cancel_requested():
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
        await self.claims.close()
