"""What a WhatsApp complainant gets back on WhatsApp: the tracking link, then the answer.

The consumer (``complaints-whatsapp-replies``) records one reply per event in ``whatsapp_outbox``
(idempotent by the event id; the number, the link's token and the answer stay sealed under the
complainant's key, so erasure removes them; a sent message's id only as a hash — it holds the
number). ``send_pending`` sends what is due: a free text when the complainant wrote within the
last 24 hours (the platform's customer-service window), else the approved template of its kind
with the tracking code — the answer's ``whatsapp_template``, the receipt's
``whatsapp_receipt_template`` (without one, a receipt outside the window is not sent on WhatsApp).
A transient failure (an outage, a rate limit, an expired access token) is retried with
exponential backoff up to ``whatsapp_max_attempts``. A refusal, the last attempt, or no template
to send marks the reply ``failed`` with the reason (without personal data) and records
ComplaintReplyFailed on the complaint: the notifier sends that receipt or answer by SMS instead,
and officers see it on the case. A free text refused because the window closed (error 131047) is
sent again at once as the template. Meta may also accept a message and report later, in a
status webhook, that it was not delivered (``on_failure``): the status is kept
(``whatsapp_reply_statuses``) — it may come before the send is recorded, and is applied then —
and the sent reply, found by its message key, is claimed once; a free text refused for the
closed window (131047) goes again as the template if there is one, anything else is marked
``failed`` and recorded as ComplaintReplyFailed as above. An erased complainant's replies are
shredded (``shred``, ``whatsapp_erasure``).
At least once: a crash between a send and its record repeats
that one message. The window counts from the complainant's latest WhatsApp message on the
complaint: its own, or a later one kept as a note.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from serambi_contracts.base import Sealed
from serambi_contracts.complaints import (
    ComplaintAnswered,
    ComplaintChannel,
    ComplaintNoteAdded,
    ComplaintReceived,
    ReplyFailure,
    ReplyKind,
)
from serambi_kit.eventstore import RecordedEvent
from serambi_kit.logging import get_logger
from serambi_kit.tasks import raise_if_cancel_requested

from ..application import commands
from ..application.ports import PermanentWhatsAppError, WhatsAppError, WhatsAppSender
from ..domain.replies import ReplyFailed, decide_reply_failed, reply_failed_event_id
from .whatsapp import WINDOW_CLOSED, DeliveryFailure, message_key, safe_error

log = get_logger(__name__)
OUTBOX = "whatsapp_outbox"
STATUSES = "whatsapp_reply_statuses"  # by message_key: a ``failed`` status not applied yet
STATUS_KEPT = timedelta(days=1)  # a status of a message that is not ours is forgotten then
STATUS_EARLY = timedelta(hours=1)  # the rounds look for the sent reply of statuses this young
# an erased complainant's reply keeps only its id (the event's), kind, state and times
SHREDDED = (
    "phone",
    "token",
    "answer",
    "tracking_code",
    "message_key",
    "last_message_at",
    "last_error",
    "mode",
    "error_code",
    "reason",
)
WINDOW = timedelta(hours=24)
LEASE_MARGIN = timedelta(seconds=60)  # a claim lasts twice the send timeout plus this
MAX_BACKOFF = timedelta(hours=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def receipt_text(code: str, link: str | None) -> str:
    where = f" Pantau statusnya di {link}" if link else " Simpan kode ini untuk menanyakan statusnya."
    return f"Pengaduan Anda sudah kami terima dengan kode {code}.{where}"


TEXT_MAX = 4096  # the Cloud API's limit of a text message


def answer_text(code: str, answer: str) -> str:
    head, cut = f"Jawaban atas pengaduan {code}:\n\n", "… (selengkapnya di halaman lacak pengaduan)"
    if len(head) + len(answer) > TEXT_MAX:
        answer = answer[: TEXT_MAX - len(head) - len(cut)] + cut
    return head + answer


class WhatsAppReplies:
    def __init__(self, sender: WhatsAppSender, settings, store, db, vault, now=None) -> None:
        self.sender, self.settings, self.store, self.db, self.vault = sender, settings, store, db, vault
        self.now = now or (lambda: datetime.now(UTC))

    @property
    def lease(self) -> timedelta:
        """How long a claimed reply is held: longer than any send (two sends at most, each up to
        ``whatsapp_timeout_seconds``), so no other copy or round takes it while one is under way."""
        return 2 * timedelta(seconds=self.settings.whatsapp_timeout_seconds) + LEASE_MARGIN

    async def create_indexes(self) -> None:
        """The fields the rounds and the status webhook look replies up by."""
        outbox = self.db()[OUTBOX]
        await outbox.create_index("message_key")
        await outbox.create_index([("state", 1), ("due_at", 1)])
        await outbox.create_index([("state", 1), ("reported", 1)])
        await self.db()[STATUSES].create_index("at", expireAfterSeconds=int(STATUS_KEPT.total_seconds()))

    async def report_legacy_failures(self, now: datetime) -> int:
        """Start-up: replies marked ``failed`` before failures were recorded on their complaint
        (no ``reported`` field) get ``reported: False``, a reason and ``failed_at`` — the rounds
        then record them as ComplaintReplyFailed — and ``last_error`` cut to the HTTP status and
        Meta's code (the old text may quote the number). Idempotent; returns how many changed."""
        outbox, changed = self.db()[OUTBOX], 0
        async for entry in outbox.find({"state": "failed", "reported": {"$exists": False}}):
            code = entry.get("error_code")
            reason = ReplyFailure.REFUSED if code is not None else ReplyFailure.UNAVAILABLE
            await outbox.update_one(
                {"_id": entry["_id"], "reported": {"$exists": False}},
                {
                    "$set": {
                        "reported": False,
                        "reason": entry.get("reason") or reason.value,
                        "error_code": code,
                        "failed_at": entry.get("failed_at") or entry.get("due_at") or entry.get("at") or now,
                        "last_error": safe_error(entry.get("last_error")),
                    }
                },
            )
            changed += 1
        return changed

    async def on_failure(self, failure: DeliveryFailure, now: datetime) -> None:
        """Meta reported that a reply it had accepted was not delivered. The status is kept
        (``whatsapp_reply_statuses``, by message key) before the reply is looked for, so one that
        comes before the send is recorded is applied when it is (``_apply_failure`` after the
        send, and on the rounds); then it is applied once (see ``_apply_failure``)."""
        key = message_key(failure.message_id)
        await self.db()[STATUSES].update_one(
            {"_id": key}, {"$setOnInsert": {"code": failure.code, "at": now}}, upsert=True
        )
        await self._apply_failure(key, now)

    async def _apply_failure(self, key: str, now: datetime) -> bool:
        """Apply a kept ``failed`` status to the sent reply it is about, once: the reply is
        claimed (``sent`` → ``bouncing``, atomically) so that two copies of the status — Meta
        delivers them again, possibly at once — cannot both act on it. A free text refused
        because the 24-hour window closed goes again as the template of its kind (if there is
        one); otherwise the reply is undelivered: ``failed`` and recorded on its complaint. The
        status is forgotten once applied. False: no sent reply has that key (not sent yet,
        another copy is applying it, already handled, not ours, or its person was erased)."""
        statuses, outbox = self.db()[STATUSES], self.db()[OUTBOX]
        status = await statuses.find_one({"_id": key})
        if status is None:
            return False
        claimed = self.now()  # not the round's ``now``: a round's sends may have taken minutes
        entry = await outbox.find_one_and_update(
            {
                "message_key": key,
                "$or": [{"state": "sent"}, {"state": "bouncing", "claimed_until": {"$lt": claimed}}],
            },
            {
                "$set": {
                    "state": "bouncing",
                    "claimed_until": claimed + self.lease,
                    "bounce_code": status.get("code"),
                }
            },
        )
        if entry is None:
            return False
        code = status.get("code")
        try:
            await self._bounce(entry, code, now)
        except BaseException:  # a template send failing for now: the reply can be claimed again
            await outbox.update_one(
                {"_id": entry["_id"], "state": "bouncing"},
                {"$set": {"state": "sent", "claimed_until": EPOCH}},
            )
            raise
        await statuses.delete_one({"_id": key})
        return True

    async def _bounce(self, entry: dict, code: int | None, now: datetime) -> None:
        outbox = self.db()[OUTBOX]
        exc = PermanentWhatsAppError("not delivered (status webhook)", code)
        template = self._template_of(entry)
        if code == WINDOW_CLOSED and entry.get("mode") == "text":
            phone = await self.vault().reveal(entry["phone"])
            if phone is None:
                await shred(outbox, {"_id": entry["_id"]})
                return
            if template is None:
                await self._undelivered(entry, now, ReplyFailure.OUTSIDE_WINDOW, exc)
                return
            try:
                message_id = await self._template(phone, template, entry["tracking_code"])
            except PermanentWhatsAppError as error:
                await self._undelivered(entry, now, ReplyFailure.REFUSED, error)
                return  # a transient error goes up: the status is delivered again (503)
            await outbox.update_one(
                {"_id": entry["_id"], "state": "bouncing"},
                {
                    "$set": {
                        "state": "sent",
                        "sent_at": now,
                        "mode": "template",
                        "message_key": message_key(message_id),
                    }
                },
            )
            log.info(
                "whatsapp.reply_sent",
                tracking_code=entry["tracking_code"],
                kind=entry["kind"],
                mode="template",
                after="window_closed",
            )
            return
        await self._undelivered(entry, now, ReplyFailure.REFUSED, exc)

    async def apply_early_failures(self, now: datetime) -> int:
        """The rounds: kept statuses (younger than ``STATUS_EARLY``) whose reply is sent now are
        applied — a status that came before its send was recorded, and one whose application
        was cut short. Returns how many were applied."""
        applied = 0
        young = self.db()[STATUSES].find({"at": {"$gte": now - STATUS_EARLY}}).sort("at", 1).limit(200)
        async for status in young:
            try:
                applied += await self._apply_failure(status["_id"], now)
            except Exception as exc:  # noqa: BLE001 — the next round tries again
                raise_if_cancel_requested(exc)
                log.warning("whatsapp.status_not_applied", error=type(exc).__name__)
        return applied

    async def on_event(self, recorded: RecordedEvent) -> None:
        event = recorded.event
        if isinstance(event, ComplaintReceived):
            if event.channel is not ComplaintChannel.WHATSAPP or event.complainant_phone is None:
                return
            entry = {
                "kind": "receipt",
                "phone": event.complainant_phone.model_dump(),
                "token": event.access_token.model_dump() if event.access_token else None,
                "last_message_at": event.received_at,
            }
        elif isinstance(event, ComplaintAnswered):
            history = (await self.store().load(commands.complaint_ref(event.tracking_code))).payloads
            first = history[0] if history else None
            if (
                not isinstance(first, ComplaintReceived)
                or first.channel is not ComplaintChannel.WHATSAPP
                or first.complainant_phone is None
            ):
                return
            later = [
                e.added_at
                for e in history[: recorded.version - 1]
                if isinstance(e, ComplaintNoteAdded) and e.channel is ComplaintChannel.WHATSAPP
            ]
            entry = {
                "kind": "answer",
                "phone": first.complainant_phone.model_dump(),
                "answer": event.answer.model_dump(),
                "last_message_at": max([first.received_at, *later]),
            }
        else:
            return
        await self.db()[OUTBOX].update_one(
            {"_id": recorded.envelope.id},
            {
                "$setOnInsert": {
                    **entry,
                    "tracking_code": event.tracking_code,
                    "state": "pending",
                    "attempts": 0,
                    "due_at": EPOCH,
                    "claimed_until": EPOCH,
                    "at": recorded.envelope.time,
                }
            },
            upsert=True,
        )

    async def send_pending(self) -> int:
        """Send the replies that are due. Returns how many were sent."""
        outbox, sent = self.db()[OUTBOX], 0
        now = self.now()
        cursor = outbox.find({"state": "pending", "due_at": {"$lte": now}}).sort("at", 1).limit(200)
        async for entry in cursor:
            at = self.now()  # not the round's ``now``: earlier sends in the round took time
            claimed = await outbox.find_one_and_update(
                {"_id": entry["_id"], "state": "pending", "claimed_until": {"$lt": at}},
                {"$set": {"claimed_until": at + self.lease}},
            )
            if claimed is not None:
                sent += await self._send(claimed, now)
        # failures not recorded on their complaint yet (the event store was down): again
        async for entry in outbox.find({"state": "failed", "reported": False}).sort("at", 1).limit(200):
            await self._report(entry)
        await self.resume_bounces()
        await self.apply_early_failures(now)
        return sent

    async def resume_bounces(self) -> int:
        """The rounds: a reply left ``bouncing`` past its lease (its process ended mid-bounce, the
        status perhaps forgotten since) gets its failure back (``whatsapp_reply_statuses``, from
        the code kept when it was claimed) and it is applied again — at least once: a template
        sent just before the crash goes again. Returns how many were applied."""
        outbox, statuses, applied = self.db()[OUTBOX], self.db()[STATUSES], 0
        stuck = outbox.find({"state": "bouncing", "claimed_until": {"$lt": self.now()}}).limit(200)
        for entry in await stuck.to_list():
            key = entry.get("message_key")
            if key is None:
                continue
            await statuses.update_one(
                {"_id": key},
                {"$setOnInsert": {"code": entry.get("bounce_code"), "at": self.now()}},
                upsert=True,
            )
            try:
                applied += await self._apply_failure(key, self.now())
            except Exception as exc:  # noqa: BLE001 — the next round tries again
                log.warning("whatsapp.status_not_applied", error=type(exc).__name__)
        return applied

    async def _send(self, entry: dict, now: datetime) -> int:
        outbox, code = self.db()[OUTBOX], entry["tracking_code"]
        phone = await self.vault().reveal(entry["phone"])
        if phone is None:  # the person was erased: nothing to send, nobody to send it to
            await shred(outbox, {"_id": entry["_id"]})
            return 0
        within = now - _aware(entry["last_message_at"]) < WINDOW
        template = self._template_of(entry)
        try:
            if within:
                try:
                    mode, message_id = "text", await self.sender.send_text(phone, await self._text(entry))
                except PermanentWhatsAppError as exc:
                    if exc.code != WINDOW_CLOSED:
                        raise
                    if template is None:
                        return await self._undelivered(entry, now, ReplyFailure.OUTSIDE_WINDOW, exc)
                    mode, message_id = "template", await self._template(phone, template, code)
            elif template is None:  # no approved template says this: the notifier's SMS will
                return await self._undelivered(entry, now, ReplyFailure.OUTSIDE_WINDOW)
            else:
                mode, message_id = "template", await self._template(phone, template, code)
        except WhatsAppError as exc:
            return await self._failed(entry, exc, now)
        # not if its complainant was erased meanwhile (the entry is no longer pending)
        await outbox.update_one(
            {"_id": entry["_id"], "state": "pending"},
            {
                "$set": {
                    "state": "sent",
                    "sent_at": now,
                    "mode": mode,
                    "message_key": message_key(message_id),
                },
                "$inc": {"attempts": 1},
            },
        )
        log.info("whatsapp.reply_sent", tracking_code=code, kind=entry["kind"], mode=mode)
        try:  # its failed status may have come already
            await self._apply_failure(message_key(message_id), now)
        except Exception as exc:  # noqa: BLE001 — kept: the rounds apply it again
            log.warning("whatsapp.status_not_applied", error=type(exc).__name__)
        return 1

    def _template_of(self, entry: dict) -> str | None:
        """The approved template of the reply's kind (None: the receipt has none)."""
        if entry["kind"] == "answer":
            return self.settings.whatsapp_template
        return self.settings.whatsapp_receipt_template

    async def _text(self, entry: dict) -> str:
        code, vault = entry["tracking_code"], self.vault()
        if entry["kind"] == "answer":
            return answer_text(code, await vault.reveal(entry["answer"]) or "")
        token = await vault.reveal(entry.get("token"))
        base = self.settings.public_base_url
        return receipt_text(code, f"{base}/lacak/pengaduan/{code}#t={token}" if base and token else None)

    async def _template(self, phone: str, template: str, code: str) -> str:
        return await self.sender.send_template(
            phone, template, self.settings.whatsapp_template_language, [code]
        )

    async def _failed(self, entry: dict, exc: WhatsAppError, now: datetime) -> int:
        attempts = entry.get("attempts", 0) + 1
        if isinstance(exc, PermanentWhatsAppError):
            return await self._undelivered(entry, now, ReplyFailure.REFUSED, exc, attempts)
        if attempts >= self.settings.whatsapp_max_attempts:
            return await self._undelivered(entry, now, ReplyFailure.UNAVAILABLE, exc, attempts)
        first = timedelta(seconds=self.settings.whatsapp_retry_seconds)
        delay = min(first * 2 ** (attempts - 1), MAX_BACKOFF)
        await self.db()[OUTBOX].update_one(
            {"_id": entry["_id"], "state": {"$ne": "erased"}},
            {
                "$set": {
                    "state": "pending",
                    "attempts": attempts,
                    "claimed_until": EPOCH,
                    "due_at": now + delay * random.uniform(0.8, 1.2),
                    "last_error": str(exc)[:300],
                }
            },
        )
        log.warning(
            "whatsapp.reply_failed",
            tracking_code=entry["tracking_code"],
            kind=entry["kind"],
            attempts=attempts,
            final=False,
            error=type(exc).__name__,
            code=exc.code,
        )
        return 0

    async def _undelivered(
        self,
        entry: dict,
        now: datetime,
        reason: ReplyFailure,
        exc: WhatsAppError | None = None,
        attempts: int | None = None,
    ) -> int:
        """The reply will not go on WhatsApp: marked ``failed``, then recorded on its complaint
        (ComplaintReplyFailed: the notifier sends it by SMS, officers see it)."""
        attempts = entry.get("attempts", 0) if attempts is None else attempts
        code = exc.code if exc is not None else None
        failed = {
            "state": "failed",
            "attempts": attempts,
            "claimed_until": EPOCH,
            "failed_at": now,
            "reason": reason.value,
            "error_code": code,
            "reported": False,
            "last_error": str(exc)[:300] if exc is not None else reason.value,
        }
        changed = await self.db()[OUTBOX].update_one(
            {"_id": entry["_id"], "state": {"$ne": "erased"}}, {"$set": failed}
        )
        if changed.matched_count == 0:  # its complainant was erased meanwhile: nothing to report
            return 0
        log.error(
            "whatsapp.reply_failed",
            tracking_code=entry["tracking_code"],
            kind=entry["kind"],
            attempts=attempts,
            final=True,
            reason=reason.value,
            error=type(exc).__name__ if exc is not None else None,
            code=code,
        )
        await self._report({**entry, **failed})
        return 0

    async def _report(self, entry: dict) -> None:
        """Record a failed reply on its complaint, once (a failure here is tried again on the next
        round: the entry stays ``reported: False``)."""
        code = entry.get("tracking_code")
        try:  # a malformed entry is logged and skipped, never stalling the others
            command = ReplyFailed(
                tracking_code=code,
                channel=ComplaintChannel.WHATSAPP,
                reply=ReplyKind(entry["kind"]),
                cause_event_id=str(entry["_id"]),
                failed_at=_aware(entry["failed_at"]),
                reason=ReplyFailure(entry["reason"]),
                attempts=entry.get("attempts", 0),
                error_code=entry.get("error_code"),
                answer=Sealed.model_validate(entry["answer"]) if entry.get("answer") else None,
            )
            await commands.run(
                self.store(),
                code,
                lambda history: decide_reply_failed(history, command),
                event_ids=lambda events: [reply_failed_event_id(command)] * len(events),
            )
        except Exception as exc:  # noqa: BLE001 — the next round reports it
            log.warning(
                "whatsapp.failure_not_recorded", tracking_code=str(code)[:40], error=type(exc).__name__
            )
            return
        await self.db()[OUTBOX].update_one({"_id": entry["_id"]}, {"$set": {"reported": True}})


async def shred(outbox, query: dict) -> int:
    """Keep of the replies ``query`` finds only what says nothing of their person (``state:
    erased``): their complainant was erased. Returns how many."""
    changed = await outbox.update_many(
        query, {"$set": {"state": "erased", "claimed_until": EPOCH}, "$unset": dict.fromkeys(SHREDDED, "")}
    )
    return changed.modified_count


def _aware(instant: datetime) -> datetime:
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)
