"""What a WhatsApp complainant gets back on WhatsApp: the tracking link, then the answer.

The consumer (``complaints-whatsapp-replies``) records one reply per event in ``whatsapp_outbox``
(idempotent by the event id; the number, the link's token and the answer stay sealed under the
complainant's key, so erasure removes them). ``send_pending`` sends what is due: a free text when
the complainant wrote within the last 24 hours (the platform's customer-service window, counted
from the complaint's message), else the approved template with the tracking code. A transient
failure is retried with exponential backoff up to ``whatsapp_max_attempts``; a refusal, or the
last attempt, marks the reply ``failed`` with the reason (without personal data). A free text
refused because the window closed (error 131047) is sent again at once as the template. At least
once: a crash between a send and its record repeats that one message. The window counts from the
complainant's latest WhatsApp message on the complaint: its own, or a later one kept as a note.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from serambi_contracts.complaints import (
    ComplaintAnswered,
    ComplaintChannel,
    ComplaintNoteAdded,
    ComplaintReceived,
)
from serambi_kit.eventstore import RecordedEvent
from serambi_kit.logging import get_logger

from . import application
from .whatsapp import WINDOW_CLOSED, PermanentWhatsAppError, WhatsAppError, WhatsAppSender

log = get_logger(__name__)
OUTBOX = "whatsapp_outbox"
WINDOW = timedelta(hours=24)
CLAIM = timedelta(seconds=60)
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

    async def on_event(self, recorded: RecordedEvent) -> None:
        event = recorded.event
        if isinstance(event, ComplaintReceived):
            if event.channel is not ComplaintChannel.WHATSAPP or event.complainant_phone is None:
                return
            entry = {"kind": "receipt", "phone": event.complainant_phone.model_dump(),
                     "token": event.access_token.model_dump() if event.access_token else None,
                     "last_message_at": event.received_at}
        elif isinstance(event, ComplaintAnswered):
            history = (await self.store().load(application.complaint_ref(event.tracking_code))).payloads
            first = history[0] if history else None
            if not isinstance(first, ComplaintReceived) or first.channel is not ComplaintChannel.WHATSAPP \
                    or first.complainant_phone is None:
                return
            later = [e.added_at for e in history[: recorded.version - 1] if isinstance(e, ComplaintNoteAdded)
                     and e.channel is ComplaintChannel.WHATSAPP]
            entry = {"kind": "answer", "phone": first.complainant_phone.model_dump(),
                     "answer": event.answer.model_dump(), "last_message_at": max([first.received_at, *later])}
        else:
            return
        await self.db()[OUTBOX].update_one({"_id": recorded.envelope.id}, {"$setOnInsert": {
            **entry, "tracking_code": event.tracking_code, "state": "pending", "attempts": 0,
            "due_at": EPOCH, "claimed_until": EPOCH, "at": recorded.envelope.time,
        }}, upsert=True)

    async def send_pending(self) -> int:
        """Send the replies that are due. Returns how many were sent."""
        outbox, sent = self.db()[OUTBOX], 0
        now = self.now()
        cursor = outbox.find({"state": "pending", "due_at": {"$lte": now}}).sort("at", 1).limit(200)
        async for entry in cursor:
            claimed = await outbox.find_one_and_update(
                {"_id": entry["_id"], "state": "pending", "claimed_until": {"$lt": now}},
                {"$set": {"claimed_until": now + CLAIM}})
            if claimed is not None:
                sent += await self._send(claimed, now)
        return sent

    async def _send(self, entry: dict, now: datetime) -> int:
        outbox, code = self.db()[OUTBOX], entry["tracking_code"]
        phone = await self.vault().reveal(entry["phone"])
        if phone is None:  # the person was erased: nothing to send, nobody to send it to
            await outbox.update_one({"_id": entry["_id"]}, {"$set": {"state": "dropped"}})
            return 0
        within = now - _aware(entry["last_message_at"]) < WINDOW
        try:
            if within:
                try:
                    mode, message_id = "text", await self.sender.send_text(phone, await self._text(entry))
                except PermanentWhatsAppError as exc:
                    if exc.code != WINDOW_CLOSED:
                        raise
                    mode, message_id = "template", await self._template(phone, code)
            else:
                mode, message_id = "template", await self._template(phone, code)
        except WhatsAppError as exc:
            return await self._failed(entry, exc, now)
        await outbox.update_one({"_id": entry["_id"]}, {"$set": {
            "state": "sent", "sent_at": now, "mode": mode, "message_id": message_id},
            "$inc": {"attempts": 1}})
        log.info("whatsapp.reply_sent", tracking_code=code, kind=entry["kind"], mode=mode)
        return 1

    async def _text(self, entry: dict) -> str:
        code, vault = entry["tracking_code"], self.vault()
        if entry["kind"] == "answer":
            return answer_text(code, await vault.reveal(entry["answer"]) or "")
        token = await vault.reveal(entry.get("token"))
        base = self.settings.public_base_url
        return receipt_text(code, f"{base}/lacak/pengaduan/{code}#t={token}" if base and token else None)

    async def _template(self, phone: str, code: str) -> str:
        settings = self.settings
        return await self.sender.send_template(phone, settings.whatsapp_template,
                                               settings.whatsapp_template_language, [code])

    async def _failed(self, entry: dict, exc: WhatsAppError, now: datetime) -> int:
        attempts = entry.get("attempts", 0) + 1
        final = isinstance(exc, PermanentWhatsAppError) or attempts >= self.settings.whatsapp_max_attempts
        first = timedelta(seconds=self.settings.whatsapp_retry_seconds)
        delay = min(first * 2 ** (attempts - 1), MAX_BACKOFF)
        await self.db()[OUTBOX].update_one({"_id": entry["_id"]}, {"$set": {
            "state": "failed" if final else "pending", "attempts": attempts, "claimed_until": EPOCH,
            "due_at": now + delay * random.uniform(0.8, 1.2), "last_error": str(exc)[:300]}})
        (log.error if final else log.warning)(
            "whatsapp.reply_failed", tracking_code=entry["tracking_code"], kind=entry["kind"],
            attempts=attempts, final=final, error=type(exc).__name__, code=exc.code)
        return 0


def _aware(instant: datetime) -> datetime:
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)
