"""The WhatsApp channel (WhatsApp Business Cloud API): the use cases.

- ``WhatsAppSender`` (``application.ports``) is the port for what goes out (a free text inside
  the 24-hour customer-service window, an approved template outside it); ``adapters.whatsapp_cloud`` is the
  HTTP adapter, ``serambi_testing.whatsapp.FakeWhatsApp`` the in-memory one for tests. Both pass
  the same contract tests.
- ``signature_valid`` checks Meta's ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body with the
  app secret); ``parse_delivery`` reads a webhook delivery's messages, ``parse_failures`` the
  status updates reporting that a message sent earlier was not delivered (``failed``; sent,
  delivered and read are ignored).
- ``WhatsAppIntake.record`` turns one incoming message into a complaint with channel
  ``whatsapp``, or a note on the number's current complaint (a follow-up), once per message id:
  ``whatsapp_messages`` maps the id — by ``message_key``, a hash: a ``wamid`` is a base64 record
  that holds the sender's number — to its role and tracking code before anything is recorded, so
  a duplicate delivery (or a retry after a crash) records nothing more. ``whatsapp_conversations``
  holds, per number (by the vault's keyed hash, never the number), its current complaint and
  last message; the messages of one number are handled one at a time under a short lease there.
  A current complaint whose complainant was erased is no conversation any more: the message
  opens a new complaint.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from serambi_calendar import WIB
from serambi_contracts.complaints import ComplaintChannel, Disclosure
from serambi_kit.deadletters import DeadLetter, DeadLetters
from serambi_kit.documents import DocumentError, DocumentStore, Upload, check
from serambi_kit.eventstore import EventStore
from serambi_kit.logging import get_logger
from serambi_kit.outages import is_outage
from serambi_kit.phones import PhoneNumberError, to_e164
from serambi_kit.pii import Vault, VaultError

from .. import domain
from ..application import commands
from ..application.commands import OFFICER_ACCEPTED
from ..application.ports import (
    MediaTooLarge,
    PermanentWhatsAppError,
    TransientWhatsAppError,
    WhatsAppMedia,
)
from ..domain import Rules

log = get_logger(__name__)
MESSAGES = "whatsapp_messages"  # by message_key(message id), never the id (it holds the number)
CONVERSATIONS = "whatsapp_conversations"
# by the number's keyed hash: when its complainant was erased, shifted by a keyed offset under an
# hour (the exact time would join the vault's data_key_erasures back to the key and its
# complaint), forgotten after Meta's redelivery horizon (a TTL index on ``forget_at``)
ERASED_NUMBERS = "whatsapp_erased_numbers"
ERASURE_SHIFT = timedelta(hours=1)
REDELIVERY = timedelta(days=7)  # Meta stops delivering a message again by then
MEDIA_ATTEMPTS = "whatsapp_media_attempts"  # by message_key: failed fetches of a message's file
MEDIA_MAX_ATTEMPTS = 10  # then, or MEDIA_GIVE_UP after the message was sent, it goes without its file
MEDIA_GIVE_UP = timedelta(hours=24)
FAILURES = "whatsapp_failures"  # by message_key: a message's failed recordings
FAILURE_MAX_ATTEMPTS = 10  # then, or FAILURE_GIVE_UP after its first failure, a dead letter
FAILURE_GIVE_UP = timedelta(hours=24)
DEAD_LETTER_CONSUMER = "complaints-whatsapp-intake"
LEASE = timedelta(seconds=60)  # one number's message in hand (media download included)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
RECORDED_BY = "whatsapp"
SUMMARY_MAX, DESCRIPTION_MAX, NAME_MAX = 300, 5000, 200
WINDOW_CLOSED = 131047  # Cloud API: "Re-engagement message" — more than 24 hours since the user wrote


def signature_valid(app_secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is ``sha256=<hex HMAC-SHA256 of body with app_secret>`` (constant time)."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.removeprefix("sha256=").strip().lower().encode())


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """One message a citizen sent to the bureau's number (``phone`` in E.164)."""

    message_id: str
    phone: str
    received_at: datetime
    text: str
    kind: str = "text"
    name: str | None = None
    media_id: str | None = None


CLOCK_SKEW = timedelta(minutes=5)  # a message's timestamp later than now by more is cut to now + this


def parse_delivery(payload: Any, now: datetime | None = None) -> list[IncomingMessage]:
    """The messages of a webhook delivery (``object: whatsapp_business_account``). Status
    updates (sent, delivered, read) and kinds without content (reactions) are left out; an item
    that cannot be read — a timestamp that is no time (too large, negative) included — is logged
    by its kind only and skipped. A timestamp in the future counts as at most ``now`` plus
    ``CLOCK_SKEW``."""
    latest = (now or datetime.now(UTC)) + CLOCK_SKEW
    found = []
    for value in _values(payload):
        names = {
            c.get("wa_id"): (c.get("profile") or {}).get("name")
            for c in _list(value.get("contacts"))
            if isinstance(c, dict)
        }
        for message in _list(value.get("messages")):
            try:
                if (parsed := _message(message, names, latest)) is not None:
                    found.append(parsed)
            except (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError) as exc:
                kind = message.get("type") if isinstance(message, dict) else None
                log.warning("whatsapp.unreadable_message", kind=str(kind)[:32], error=type(exc).__name__)
    return found


def _values(payload: Any) -> Iterator[dict]:
    """Each ``entry[].changes[].value`` of a webhook delivery (``object:
    whatsapp_business_account``) that is an object; anything else yields nothing."""
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        return
    for entry in _list(payload.get("entry")):
        for change in _list(entry.get("changes") if isinstance(entry, dict) else None):
            value = change.get("value") if isinstance(change, dict) else None
            if isinstance(value, dict):
                yield value


@dataclass(frozen=True, slots=True)
class DeliveryFailure:
    """Meta's later report that a message it accepted (``message_id``) was not delivered, with
    its error code (131026 undeliverable, 131047 the 24-hour window closed, ...)."""

    message_id: str
    code: int | None


def parse_failures(payload: Any) -> list[DeliveryFailure]:
    """The ``failed`` status updates of a webhook delivery (``value.statuses[]``); other statuses
    (sent, delivered, read) and unreadable items are left out."""
    found = []
    for value in _values(payload):
        for status in _list(value.get("statuses")):
            if (
                not isinstance(status, dict)
                or status.get("status") != "failed"
                or not isinstance(status.get("id"), str)
            ):
                continue
            errors = [e for e in _list(status.get("errors")) if isinstance(e, dict)]
            code = errors[0].get("code") if errors else None
            found.append(DeliveryFailure(status["id"], code if isinstance(code, int) else None))
    return found


MEDIA_KINDS = {
    "image": "gambar",
    "document": "dokumen",
    "audio": "pesan suara",
    "video": "video",
    "sticker": "stiker",
}


def _message(message: dict[str, Any], names: dict[str, Any], latest: datetime) -> IncomingMessage | None:
    kind = message["type"]
    sender = str(message["from"])
    received_at = min(datetime.fromtimestamp(int(message["timestamp"]), UTC), latest)
    media_id = None
    if kind == "text":
        text = str(message["text"]["body"])
    elif kind in MEDIA_KINDS:
        media = message[kind]
        media_id = str(media["id"])
        caption = str(media.get("caption") or "").strip()
        text = caption or f"({MEDIA_KINDS[kind]} lewat WhatsApp)"
    else:  # reactions, locations, contacts, buttons, unsupported: nothing to record
        return None
    name = names.get(sender)
    return IncomingMessage(
        str(message["id"]),
        e164(sender),
        received_at,
        text,
        kind,
        str(name)[:NAME_MAX] if name else None,
        media_id,
    )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def e164(wa_id: str) -> str:
    """The sender's WhatsApp id (digits with the country code) as E.164: Indonesian numbers
    through the kit (``+628…``), others as ``+`` and their digits."""
    try:
        return to_e164(wa_id)
    except PhoneNumberError:
        digits = "".join(ch for ch in wa_id if ch.isdigit())
        if not 8 <= len(digits) <= 15:
            raise ValueError("the sender is not a phone number") from None
        return "+" + digits


def complaint_of(
    message: IncomingMessage,
    now: datetime,
    media_note: str | None = None,
) -> commands.NewComplaint:
    """The complaint a message opens; ``media_note`` says what became of its file ("": stored;
    None: not fetched, the media id kept for an officer)."""
    text = message.text.strip() or f"(pesan WhatsApp {message.kind})"
    summary = text.splitlines()[0][:SUMMARY_MAX]
    description = _with_media_note(text[:DESCRIPTION_MAX], message, media_note)
    return commands.NewComplaint(
        channel=ComplaintChannel.WHATSAPP,
        received_at=min(message.received_at, now),
        disclosure=Disclosure.NAMED,
        summary=summary,
        description=description,
        name=message.name or "Pengguna WhatsApp",
        phone=message.phone,
        recorded_by=RECORDED_BY,
    )


class ConversationBusy(Exception):
    """Another message of the same number is being recorded (or its complaint is not stored
    yet), or its media could not be fetched for now: the delivery is answered 503 and Meta
    delivers it again."""


def message_key(message_id: str) -> str:
    """The message as Serambi keeps it — its note (ComplaintNoteAdded.message_key),
    ``whatsapp_messages``, a sent reply: 32 hex digits of SHA-256, never the id itself (a
    ``wamid`` holds the number; the random part it also holds makes the hash unguessable)."""
    return hashlib.sha256(f"whatsapp:{message_id}".encode()).hexdigest()[:32]


async def hash_message_ids(db: AsyncDatabase) -> int:
    """Re-key what was recorded before message ids were hashed (``whatsapp_messages`` by the raw
    ``wamid…``, ``whatsapp_outbox``'s ``message_id``). Idempotent; returns how many it changed."""
    changed, messages = 0, db[MESSAGES]
    async for document in messages.find({"_id": {"$gte": "wamid.", "$lt": "wamid/"}}):
        try:
            await messages.insert_one({**document, "_id": message_key(document["_id"])})
        except DuplicateKeyError:
            pass
        await messages.delete_one({"_id": document["_id"]})
        changed += 1
    outbox = db["whatsapp_outbox"]
    async for document in outbox.find({"message_id": {"$exists": True}}, {"message_id": 1, "last_error": 1}):
        kept = {"message_key": message_key(str(document["message_id"]))}
        if "last_error" in document:  # the old text may quote the number: its status and code only
            kept["last_error"] = safe_error(document["last_error"])
        await outbox.update_one({"_id": document["_id"]}, {"$set": kept, "$unset": {"message_id": ""}})
        changed += 1
    return changed


def safe_error(text: object) -> str:
    """An old ``last_error`` cut to what may be kept: the HTTP status and Meta's code."""
    return " ".join(re.findall(r"HTTP \d{3}|code \d+", str(text or ""))) or "error"


class WhatsAppIntake:
    """Incoming messages recorded once each: the first of a number is a complaint; a later one
    is a note on that complaint while the complaint is open, or — whatever its status — when it
    comes within ``group_window`` of the number's previous message (a conversation in several
    messages is one complaint); otherwise it opens a new complaint.

    With ``media`` (the Cloud API adapter) an image, document or audio message's file is
    downloaded, typed by its magic bytes, bounded by ``max_attachment_bytes`` and stored sealed
    as an attachment of the complaint or note; a file that cannot be kept is named in the text
    with the reason and its media id."""

    def __init__(
        self,
        store: Callable[[], EventStore],
        db: Callable[[], AsyncDatabase],
        vault: Callable[[], Vault],
        rules: Rules,
        *,
        group_window: timedelta,
        media: WhatsAppMedia | None = None,
        documents: Callable[[], DocumentStore] | None = None,
        max_attachment_bytes: int = 10_000_000,
        wait_seconds: float = 20.0,
        media_max_attempts: int = MEDIA_MAX_ATTEMPTS,
        media_give_up: timedelta = MEDIA_GIVE_UP,
    ) -> None:
        self.store, self.db, self.vault, self.rules = store, db, vault, rules
        self.group_window, self.wait_seconds = group_window, wait_seconds
        self.media, self.documents, self.max_bytes = media, documents, max_attachment_bytes
        self.media_max_attempts, self.media_give_up = media_max_attempts, media_give_up

    async def create_indexes(self) -> None:
        """A message's failed media fetches are forgotten a week after the first (Meta stops
        delivering it again by then)."""
        await self.db()[MEDIA_ATTEMPTS].create_index("first_at", expireAfterSeconds=7 * 24 * 3600)
        await self.db()[FAILURES].create_index("first_at", expireAfterSeconds=7 * 24 * 3600)
        await self.db()[ERASED_NUMBERS].create_index("forget_at", expireAfterSeconds=0)

    async def record(self, message: IncomingMessage, now: datetime) -> str | None:
        """Record ``message``; returns its tracking code if something was recorded now."""
        messages, key = self.db()[MESSAGES], message_key(message.message_id)
        mapping = await messages.find_one({"_id": key})
        if mapping is not None and mapping.get("recorded"):
            return None  # a duplicate delivery
        number = self.vault().lookup_hash(message.phone)
        uploads, media_note = await self._fetch_media(message, key, now)
        try:
            async with self._turn(number):
                mapping = await messages.find_one({"_id": key})
                if mapping is None:
                    role, code = await self._place(number, message, now)
                    mapping = {"_id": key, "role": role, "at": now}
                    if code is not None:
                        mapping["tracking_code"] = code
                    try:
                        await messages.insert_one(mapping)
                    except DuplicateKeyError:  # a lease ran out under a slow holder: take its choice
                        mapping = await messages.find_one({"_id": key}) or mapping
                role, code = mapping.get("role", "complaint"), mapping.get("tracking_code")
                recorded: bool | None = None
                if role == "note":
                    recorded = await self._note(code, message, uploads, media_note)
                    if recorded is None:  # its complainant was erased: sent before, it is dropped;
                        erased_at = await self._forget(number, code)  # after, it opens a new one
                        if _before(message, erased_at):
                            role, code = "erased", None
                            await messages.update_one(
                                {"_id": key}, {"$set": {"role": role}, "$unset": {"tracking_code": ""}}
                            )
                        else:
                            role, code = "complaint", await self._new_code(now)
                            await messages.update_one(
                                {"_id": key}, {"$set": {"role": role, "tracking_code": code}}
                            )
                if role == "complaint":
                    state = await self._state(code)
                    if await self._erased_before(number, code, state, message):
                        role, code = "erased", None
                        await messages.update_one(
                            {"_id": key}, {"$set": {"role": role}, "$unset": {"tracking_code": ""}}
                        )
                    elif state is None:
                        recorded = await self._complaint(code, message, now, uploads, media_note)
                    else:  # recorded before a crash kept it from being marked: nothing is sealed again
                        recorded = False
                # the conversation learns its complaint before the message counts as recorded: a
                # retry after a failure here does both again (each is idempotent)
                if role == "erased":
                    log.info("whatsapp.sent_before_erasure", kind=message.kind)
                else:
                    await self._remember(number, role, code, message.received_at)
                await messages.update_one({"_id": key}, {"$set": {"recorded": True}})
        finally:
            for upload, _ in uploads:
                upload.data.close()
        if message.media_id:
            await self.db()[MEDIA_ATTEMPTS].delete_one({"_id": key})
        if recorded:
            log.info("whatsapp.recorded", tracking_code=code, kind=message.kind, role=role)
        return code if recorded else None

    async def failed(self, message: IncomingMessage, exc: Exception, now: datetime) -> bool:
        """Count a failed recording of ``message``; True when it was given up: at the
        ``FAILURE_MAX_ATTEMPTS``-th failure, or ``FAILURE_GIVE_UP`` after its first failure, it
        becomes a dead letter (its key, kind and the error's class — never its content nor
        number, which are not kept) and is marked recorded, so a redelivery is acknowledged.
        A failure because a dependency is down (NATS, MongoDB, the Graph API for now) is not
        counted: Meta delivers the message again, for as long as the outage lasts."""
        if is_outage(exc) or isinstance(exc, TransientWhatsAppError):
            return False
        key = message_key(message.message_id)
        counted = await self.db()[FAILURES].find_one_and_update(
            {"_id": key},
            {"$inc": {"attempts": 1}, "$setOnInsert": {"first_at": now}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        attempts = int((counted or {}).get("attempts", 1))
        first_at = (counted or {}).get("first_at", now)
        first_at = first_at if first_at.tzinfo else first_at.replace(tzinfo=UTC)
        if attempts < FAILURE_MAX_ATTEMPTS and now - first_at < FAILURE_GIVE_UP:
            return False
        reason = f"WhatsApp message could not be recorded: {type(exc).__name__}"
        payload = {
            "message_key": key,
            "kind": message.kind,
            "error": type(exc).__name__,
            "attempts": attempts,
            "received_at": message.received_at.isoformat(),
        }
        await DeadLetters(self.db()).record(
            DeadLetter(
                consumer=DEAD_LETTER_CONSUMER,
                stream="WHATSAPP",
                subject=f"whatsapp.{key}",
                sequence=0,
                deliveries=attempts,
                reason=reason,
                headers={},
                payload=json.dumps(payload).encode(),
                key=f"{DEAD_LETTER_CONSUMER}:{key}",
                manual="a WhatsApp webhook message, not a stream message: its content and number are not "
                "kept; fix the cause, then ask the complainant (by the time received) to write again",
            )
        )
        await self.db()[MESSAGES].update_one(
            {"_id": key},
            {
                "$set": {"recorded": True, "dead_letter": True},
                "$setOnInsert": {"role": "dead_letter", "at": now},
            },
            upsert=True,
        )
        await self.db()[FAILURES].delete_one({"_id": key})
        log.error(
            "whatsapp.dead_lettered",
            message_key=key,
            kind=message.kind,
            error=type(exc).__name__,
            attempts=attempts,
        )
        return True

    async def _remember(self, number: str, role: str, code: str, at: datetime) -> None:
        """The number's last message, and its current complaint: the one its latest new
        complaint opened (a late retry of an older one does not take the place back)."""
        conversations = self.db()[CONVERSATIONS]
        if role == "complaint":
            await conversations.update_one(
                {"_id": number, "$or": [{"opened_at": {"$exists": False}}, {"opened_at": {"$lte": at}}]},
                {"$set": {"tracking_code": code, "opened_at": at}},
            )
        await conversations.update_one({"_id": number}, {"$max": {"last_message_at": at}})

    async def _forget(self, number: str, code: str | None) -> datetime | None:
        """The number's conversation no longer has a complaint (its complainant was erased); it
        keeps only when that was (the vault's ``erased_at``, if known), which it returns: a
        message sent before then, delivered again later, must not bring the data back."""
        state = await self._state(code) if code is not None else None
        erased_at = await self.vault().erased_at(state.subject_key) if state is not None else None
        conversations = self.db()[CONVERSATIONS]
        if erased_at is not None:
            erased_at = await mark_erased(self.db(), self.vault(), number, erased_at)
        await conversations.update_one(  # not a later complaint the number has opened since
            {"_id": number, "tracking_code": code},
            {"$unset": {"tracking_code": "", "opened_at": "", "last_message_at": ""}},
        )
        return erased_at

    async def _erased_before(
        self, number: str, code: str, state: domain.Complaint | None, message: IncomingMessage
    ) -> bool:
        """Whether a message mapped as opening complaint ``code`` (``state``: as stored, None when
        not recorded yet) must store nothing — checked before anything is written, since
        receiving it creates a data key findable by the number again: the complaint was
        recorded and its complainant erased since, or, not recorded, the message was sent before
        the number's complainant was erased (the conversation's ``erased_at``, learnt from its
        current complaint if the erasure round has not come yet)."""
        if state is not None:
            if await self._erased(state):
                await self._forget(number, code)
                return True
            return False
        conversation = await self.db()[CONVERSATIONS].find_one({"_id": number}) or {}
        erased_at = await erased_at_of(self.db(), self.vault(), number)
        current = conversation.get("tracking_code")
        if current is not None and current != code:
            current_state = await self._state(current)
            if current_state is not None and await self._erased(current_state):
                erased_at = await self._forget(number, current) or erased_at
        return _before(message, erased_at)

    async def _place(self, number: str, message: IncomingMessage, now: datetime) -> tuple[str, str | None]:
        """("note", its complaint) for a follow-up, ("erased", None) for a message sent before
        the number's complainant was erased, else ("complaint", a new tracking code)."""
        conversation = await self.db()[CONVERSATIONS].find_one({"_id": number}) or {}
        current, last = conversation.get("tracking_code"), conversation.get("last_message_at")
        if _before(message, await erased_at_of(self.db(), self.vault(), number)):
            return "erased", None
        if current is not None:
            state = await self._state(current)  # None: its first message is still being recorded
            if state is not None and await self._erased(state):
                if _before(message, await self._forget(number, current)):
                    return "erased", None
            else:
                within = last is not None and message.received_at - _aware(last) <= self.group_window
                if within or (state is not None and state.is_open):
                    return "note", current
        return "complaint", await self._new_code(now)

    async def _new_code(self, now: datetime) -> str:
        return await commands.next_tracking_code(self.db(), "ADU", now.astimezone(WIB).year)

    async def _state(self, code: str) -> domain.Complaint | None:
        try:
            return await commands.load(self.store(), code)
        except domain.UnknownComplaintError:
            return None

    async def _erased(self, state: domain.Complaint) -> bool:
        """Whether the complaint's complainant was erased (their data key is gone)."""
        return await self.vault().data_cipher(state.subject_key) is None

    async def _complaint(
        self,
        code: str,
        message: IncomingMessage,
        now: datetime,
        uploads: list[tuple[Upload, str]],
        media_note: str | None,
    ) -> bool:
        try:
            new = complaint_of(message, now, media_note)
            await commands.receive(
                self.store(),
                self.db(),
                self.vault(),
                self.rules,
                new,
                now,
                tracking_code=code,
                documents=self._documents(uploads),
                uploads=uploads,
            )
        except domain.ComplaintExistsError:
            return False
        return True

    async def _note(
        self, code: str, message: IncomingMessage, uploads: list[tuple[Upload, str]], media_note: str | None
    ) -> bool | None:
        """True when noted now, False when noted before, None when the complaint's complainant
        was erased (nothing can be sealed for it any more)."""
        state = await self._state(code)
        if state is None:  # its first message is still being recorded
            raise ConversationBusy(f"complaint {code} is not recorded yet")
        if await self._erased(state):
            return None
        text = message.text.strip() or f"(pesan WhatsApp {message.kind})"
        text = _with_media_note(text, message, media_note)
        note = commands.NewNote(
            text=text[:DESCRIPTION_MAX],
            added_at=message.received_at,
            channel=ComplaintChannel.WHATSAPP,
            recorded_by=RECORDED_BY,
            message_key=message_key(message.message_id),
        )
        try:
            outcome = await commands.add_note(
                self.store(),
                self.vault(),
                code,
                note,
                rules=self.rules,
                documents=self._documents(uploads),
                uploads=uploads,
            )
        except domain.UnknownComplaintError:  # its first message is still being recorded
            raise ConversationBusy(f"complaint {code} is not recorded yet") from None
        except VaultError:
            if await self._erased(state):  # erased meanwhile
                return None
            raise
        return bool(outcome.events)

    def _documents(self, uploads: list) -> DocumentStore | None:
        return self.documents() if uploads and self.documents is not None else None

    async def _fetch_media(
        self,
        message: IncomingMessage,
        key: str,
        now: datetime,
    ) -> tuple[list[tuple[Upload, str]], str | None]:
        """(the checked upload, if the message's file is kept; what the text says of it: "" when
        kept, the reason when not, None when nothing was fetched). A Graph API that cannot hand
        the file out for now makes the delivery wait (503, Meta delivers it again) — until the
        ``media_max_attempts``-th failure or ``media_give_up`` after the message was sent: then
        the message is recorded without it, its media id named for an officer."""
        if not message.media_id or self.media is None or self.documents is None:
            return [], None
        if message.kind not in MEDIA_DOWNLOADED:
            return [], media_not_kept(message, "unsupported_type")
        try:
            file = await self.media.fetch_media(message.media_id, self.max_bytes)
        except MediaTooLarge:
            return [], media_not_kept(message, "too_large")
        except PermanentWhatsAppError as exc:
            log.warning("whatsapp.media_unavailable", kind=message.kind, code=exc.code)
            return [], media_not_kept(message, "unavailable")
        except TransientWhatsAppError as exc:  # Meta delivers the message again later
            attempts = await self._media_failed(key, now)
            if attempts < self.media_max_attempts and now - message.received_at < self.media_give_up:
                raise ConversationBusy(f"media not fetched for now: {exc}") from exc
            log.warning("whatsapp.media_given_up", kind=message.kind, attempts=attempts, code=exc.code)
            return [], media_not_kept(message, "unavailable")
        upload = Upload("attachments.0", "attachment", file)
        try:
            return [(upload, check(upload, OFFICER_ACCEPTED, self.max_bytes))], ""
        except DocumentError as exc:
            file.close()
            log.warning("whatsapp.media_not_kept", kind=message.kind, rule=exc.rule)
            return [], media_not_kept(message, exc.rule)

    async def _media_failed(self, key: str, now: datetime) -> int:
        """Count a failed fetch of the message's file; returns how many there were."""
        counted = await self.db()[MEDIA_ATTEMPTS].find_one_and_update(
            {"_id": key},
            {"$inc": {"attempts": 1}, "$setOnInsert": {"first_at": now}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return int((counted or {}).get("attempts", 1))

    @asynccontextmanager
    async def _turn(self, number: str) -> AsyncIterator[None]:
        """Hold the number's lease while one of its messages is recorded (waits for another)."""
        conversations, holder = self.db()[CONVERSATIONS], uuid.uuid4().hex
        try:
            await conversations.insert_one({"_id": number, "lease_until": EPOCH})
        except DuplicateKeyError:
            pass
        deadline = asyncio.get_running_loop().time() + self.wait_seconds
        while True:
            now = datetime.now(UTC)
            taken = await conversations.find_one_and_update(
                {"_id": number, "lease_until": {"$lt": now}},
                {"$set": {"lease_until": now + LEASE, "holder": holder}},
            )
            if taken is not None:
                break
            if asyncio.get_running_loop().time() > deadline:
                raise ConversationBusy("another message of this number is being recorded")
            await asyncio.sleep(0.05)
        try:
            yield
        finally:
            await conversations.update_one(
                {"_id": number, "holder": holder}, {"$set": {"lease_until": EPOCH}}
            )


def _with_media_note(text: str, message: IncomingMessage, media_note: str | None) -> str:
    if not message.media_id or media_note == "":
        return text
    note = media_note or f"[lampiran WhatsApp: {message.kind}, media id {message.media_id}]"
    return text[: DESCRIPTION_MAX - len(note) - 2] + "\n\n" + note


MEDIA_DOWNLOADED = ("image", "document", "audio")  # video and stickers are no accepted type
WHY_NOT_KEPT = {
    "unsupported_type": "jenis file tidak diterima",
    "too_large": "file terlalu besar",
    "missing": "file kosong",
    "unavailable": "tidak dapat diunduh dari WhatsApp",
}


def media_not_kept(message: IncomingMessage, why: str) -> str:
    """What an officer reads instead of a file that was not stored (with its media id, to fetch
    it from Meta by hand while Meta keeps it)."""
    return (
        f"[lampiran WhatsApp ({MEDIA_KINDS.get(message.kind, message.kind)}) tidak disimpan: "
        f"{WHY_NOT_KEPT[why]}; media id {message.media_id}]"
    )


def _erasure_offset(vault: Vault, number: str) -> timedelta:
    """The number's own shift of its erasure time, under 0-1 hour, derived from the vault's key:
    the service undoes it, a reader of the database cannot."""
    digest = vault.keyed_digest("whatsapp-erasure-offset", number)
    # whole milliseconds, as MongoDB keeps times: undone exactly
    return timedelta(milliseconds=int(digest[:12], 16) % int(ERASURE_SHIFT / timedelta(milliseconds=1)))


async def mark_erased(db: AsyncDatabase, vault: Vault, number: str, erased_at: datetime) -> datetime:
    """Keep that the number's complainant was erased at ``erased_at`` — shifted later by the
    number's keyed offset, so it does not equal the vault's ``erased_at`` — until ``REDELIVERY``
    after it; returns ``erased_at`` (the latest kept, exact)."""
    shifted = _aware(erased_at) + _erasure_offset(vault, number)
    kept = await db[ERASED_NUMBERS].find_one_and_update(
        {"_id": number},
        {"$max": {"shifted_at": shifted, "forget_at": shifted + REDELIVERY}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    return _aware(kept["shifted_at"]) - _erasure_offset(vault, number)


async def erased_at_of(db: AsyncDatabase, vault: Vault, number: str) -> datetime | None:
    """When the number's complainant was erased, exact (None: none kept, or past
    ``REDELIVERY``)."""
    marker = await db[ERASED_NUMBERS].find_one({"_id": number})
    return _aware(marker["shifted_at"]) - _erasure_offset(vault, number) if marker is not None else None


def _before(message: IncomingMessage, erased_at: datetime | None) -> bool:
    """Whether the message was sent before its sender's erasure (Meta's seconds: same second
    counts as before)."""
    return erased_at is not None and message.received_at < erased_at


def _aware(instant: datetime) -> datetime:
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)
