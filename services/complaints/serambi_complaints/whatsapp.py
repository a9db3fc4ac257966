"""The WhatsApp channel (WhatsApp Business Cloud API): the port, its fake, and the use cases.

- ``WhatsAppSender`` is the port for what goes out (a free text inside the 24-hour
  customer-service window, an approved template outside it); ``adapters.whatsapp_cloud`` is the
  HTTP adapter, ``FakeWhatsApp`` the in-memory one for tests. Both pass the same contract tests.
- ``signature_valid`` checks Meta's ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body with the
  app secret); ``parse_delivery`` reads a webhook delivery's messages (status updates are ignored).
- ``record`` turns one incoming message into a complaint with channel ``whatsapp``, once per
  message id: ``whatsapp_messages`` maps the id to the tracking code before the complaint is
  recorded, so a duplicate delivery (or a retry after a crash) records nothing more.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from serambi_calendar import WIB
from serambi_contracts.complaints import ComplaintChannel, Disclosure
from serambi_kit.eventstore import EventStore
from serambi_kit.logging import get_logger
from serambi_kit.phones import PhoneNumberError, to_e164
from serambi_kit.pii import Vault

from . import application, domain
from .domain import Rules

log = get_logger(__name__)
MESSAGES = "whatsapp_messages"
RECORDED_BY = "whatsapp"
SUMMARY_MAX, DESCRIPTION_MAX, NAME_MAX = 300, 5000, 200
WINDOW_CLOSED = 131047  # Cloud API: "Re-engagement message" — more than 24 hours since the user wrote


class WhatsAppError(Exception):
    """The Cloud API did not accept a message."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class TransientWhatsAppError(WhatsAppError):
    """Not accepted now (timeout, connection, HTTP 429 or 5xx): try again later."""


class PermanentWhatsAppError(WhatsAppError):
    """Refused (HTTP 4xx): retrying the same message cannot help. ``code`` is Meta's error code."""


class WhatsAppSender(Protocol):
    async def send_text(self, to: str, text: str) -> str:
        """Send a free text to ``to`` (E.164); returns the message id (``wamid…``)."""
        ...

    async def send_template(self, to: str, template: str, language: str, parameters: Sequence[str]) -> str:
        """Send an approved template with its body parameters; returns the message id."""
        ...

    async def close(self) -> None: ...


@dataclass
class FakeWhatsApp:
    """In memory: ``sent`` is what went out. ``fail_next`` transient failures come first;
    ``window_closed`` refuses free text as the Cloud API does after 24 hours."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0
    window_closed: bool = False

    async def send_text(self, to: str, text: str) -> str:
        self._check(to)
        if self.window_closed:
            raise PermanentWhatsAppError("re-engagement message (fake)", WINDOW_CLOSED)
        return self._record({"to": to, "type": "text", "text": text})

    async def send_template(self, to: str, template: str, language: str, parameters: Sequence[str]) -> str:
        self._check(to)
        return self._record({"to": to, "type": "template", "template": template, "language": language,
                             "parameters": list(parameters)})

    def _check(self, to: str) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise TransientWhatsAppError("the Cloud API is unavailable (fake)")
        if not (to.startswith("+") and to[1:].isdigit()):
            raise PermanentWhatsAppError(f"not an E.164 number ({len(to)} characters)", 100)

    def _record(self, message: dict[str, Any]) -> str:
        message_id = f"wamid.fake-{len(self.sent) + 1}"
        self.sent.append({**message, "id": message_id})
        return message_id

    async def close(self) -> None:
        return None


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


def parse_delivery(payload: Any) -> list[IncomingMessage]:
    """The messages of a webhook delivery (``object: whatsapp_business_account``). Status
    updates (sent, delivered, read) and kinds without content (reactions) are left out; an item
    that cannot be read is logged by its kind only and skipped."""
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        return []
    found = []
    for entry in _list(payload.get("entry")):
        for change in _list(entry.get("changes") if isinstance(entry, dict) else None):
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                continue
            names = {c.get("wa_id"): (c.get("profile") or {}).get("name")
                     for c in _list(value.get("contacts")) if isinstance(c, dict)}
            for message in _list(value.get("messages")):
                try:
                    if (parsed := _message(message, names)) is not None:
                        found.append(parsed)
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    kind = message.get("type") if isinstance(message, dict) else None
                    log.warning("whatsapp.unreadable_message", kind=str(kind)[:32], error=type(exc).__name__)
    return found


MEDIA_KINDS = {"image": "gambar", "document": "dokumen", "audio": "pesan suara", "video": "video",
               "sticker": "stiker"}


def _message(message: dict[str, Any], names: dict[str, Any]) -> IncomingMessage | None:
    kind = message["type"]
    sender = str(message["from"])
    received_at = datetime.fromtimestamp(int(message["timestamp"]), UTC)
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
    return IncomingMessage(str(message["id"]), e164(sender), received_at, text, kind,
                           str(name)[:NAME_MAX] if name else None, media_id)


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


def complaint_of(message: IncomingMessage, now: datetime) -> application.NewComplaint:
    text = message.text.strip() or f"(pesan WhatsApp {message.kind})"
    summary = text.splitlines()[0][:SUMMARY_MAX]
    description = text[:DESCRIPTION_MAX]
    if message.media_id:  # kept for an officer to fetch; the file itself is not downloaded yet
        note = f"\n\n[lampiran WhatsApp: {message.kind}, media id {message.media_id}]"
        description = description[: DESCRIPTION_MAX - len(note)] + note
    return application.NewComplaint(
        channel=ComplaintChannel.WHATSAPP, received_at=min(message.received_at, now),
        disclosure=Disclosure.NAMED, summary=summary, description=description,
        name=message.name or "Pengguna WhatsApp", phone=message.phone, recorded_by=RECORDED_BY,
    )


async def record(
    store: EventStore, db: AsyncDatabase, vault: Vault, rules: Rules, message: IncomingMessage,
    now: datetime,
) -> str | None:
    """Record one incoming message as a complaint once. Returns its tracking code if recorded now."""
    messages = db[MESSAGES]
    mapping = await messages.find_one({"_id": message.message_id})
    if mapping is None:
        code = await application.next_tracking_code(db, "ADU", now.astimezone(WIB).year)
        try:
            await messages.insert_one({"_id": message.message_id, "tracking_code": code, "at": now})
        except DuplicateKeyError:  # a concurrent delivery of the same message got there first
            mapping = await messages.find_one({"_id": message.message_id})
    if mapping is not None:
        code = mapping["tracking_code"]
    try:
        new = complaint_of(message, now)
        await application.receive(store, db, vault, rules, new, now, tracking_code=code)
    except domain.ComplaintExistsError:
        return None
    log.info("whatsapp.recorded", tracking_code=code, kind=message.kind)
    return code
