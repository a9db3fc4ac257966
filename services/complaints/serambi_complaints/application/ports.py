"""The ports the complaints' use cases work through, as ``typing.Protocol``s, and what they
exchange: SP4N-LAPOR! (``LaporGateway``; ``adapters.lapor.HttpLaporGateway``) and the WhatsApp
Business Cloud API (``WhatsAppSender`` and ``WhatsAppMedia``; ``adapters.whatsapp_cloud``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Protocol

from serambi_contracts.complaints import Disclosure


class LaporError(Exception):
    """LAPOR! refused a request or answered something we cannot read."""


@dataclass(frozen=True, slots=True)
class LaporComplaint:
    """A complaint as LAPOR! gives it (already mapped from its JSON)."""

    lapor_id: str
    received_at: datetime
    title: str
    description: str
    disclosure: Disclosure = Disclosure.NAMED
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    attachments: tuple[str, ...] = ()  # LAPOR!'s references (URLs) of the files, in order


@dataclass(frozen=True, slots=True)
class LaporUnreadable:
    """An item of LAPOR!'s list that could not be mapped: dead-lettered, the others go on."""

    reason: str
    lapor_id: str | None = None


class LaporGateway(Protocol):
    async def fetch_new(self, since: datetime | None) -> Sequence[LaporComplaint | LaporUnreadable]:
        """Complaints LAPOR! disposed to the bureau since ``since`` (all when None); an item
        that cannot be mapped comes as ``LaporUnreadable`` (the list as a whole must be read)."""
        ...

    async def push_status(self, lapor_id: str, status: str, message: str | None, at: datetime) -> None:
        """Report a follow-up (tindak lanjut) of the complaint to LAPOR!."""
        ...

    async def fetch_attachment(self, reference: str, max_bytes: int) -> BinaryIO:
        """One attachment's content as a seekable file (at most ``max_bytes + 1`` bytes of it)."""
        ...


class WhatsAppError(Exception):
    """The Cloud API did not accept a message."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class TransientWhatsAppError(WhatsAppError):
    """Not accepted now (timeout, connection, HTTP 429 or 5xx): try again later."""


class PermanentWhatsAppError(WhatsAppError):
    """Refused (HTTP 4xx): retrying the same message cannot help. ``code`` is Meta's error code."""


class MediaTooLarge(PermanentWhatsAppError):
    """A citizen's media file over the attachment limit (by the size the Graph API gives): not
    downloaded."""


class WhatsAppSender(Protocol):
    async def send_text(self, to: str, text: str) -> str:
        """Send a free text to ``to`` (E.164); returns the message id (``wamid…``)."""
        ...

    async def send_template(self, to: str, template: str, language: str, parameters: Sequence[str]) -> str:
        """Send an approved template with its body parameters; returns the message id."""
        ...

    async def close(self) -> None: ...


class WhatsAppMedia(Protocol):
    async def fetch_media(self, media_id: str, max_bytes: int) -> BinaryIO:
        """The content of a citizen's media file (at most ``max_bytes + 1`` bytes of it, as a
        seekable file): the Graph API's media id → its short-lived URL → the bytes, with the
        access token. Transient or permanent WhatsAppError; MediaTooLarge without downloading."""
        ...
