"""The dispatch use case's ports: the channels (email, SMS) and the answer-letter source.

A channel either returns a :class:`Receipt` (the server or gateway accepted the message) or raises
:class:`TransientDeliveryError` (try again later: connection refused, timeouts, SMTP 4xx, HTTP
5xx/429) or :class:`PermanentDeliveryError` (retrying cannot help: SMTP 5xx for the recipient or
message, HTTP 4xx, an address the gateway refuses).

A sender passes ``ready``: awaited right before the message is handed over (for email: once a
connection is free), it answers whether the sender still holds the delivery; if not the channel
raises :class:`ClaimLostError` and sends nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from serambi_contracts.intake import DocumentRef

Ready = Callable[[], Awaitable[bool]]


class DeliveryError(Exception):
    """A message was not accepted. Its text may quote the provider's answer (a bounce often
    names the address), so it is stored sealed; ``category`` is what may be shown and published."""

    category = "other"

    def __init__(self, message: str, category: str | None = None) -> None:
        super().__init__(message)
        if category:
            self.category = category


class TransientDeliveryError(DeliveryError):
    """Not accepted now; may be accepted later. Categories: ``deferred`` (the server or gateway
    answered: not now), ``unreachable`` (no answer: connection, timeout), ``compose`` (ours: a
    template or attachment failed)."""

    category = "deferred"


class PermanentDeliveryError(DeliveryError):
    """Will never be accepted as it is (category ``refused``)."""

    category = "refused"


class ClaimLostError(Exception):
    """The sender no longer holds the delivery (another replica took it over): not sent."""


@dataclass(frozen=True, slots=True)
class Receipt:
    provider: str
    message_id: str | None
    status: str = "queued"


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str
    subtype: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Email:
    to: str
    subject: str
    text: str
    html: str
    message_id: str
    date: datetime
    attachments: tuple[Attachment, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()


class EmailChannel(Protocol):
    async def send(self, email: Email, ready: Ready | None = None) -> Receipt: ...

    async def close(self) -> None: ...


class SmsProvider(Protocol):
    name: str

    async def send(self, number: str, parts: Sequence[str], client_id: str) -> Receipt: ...

    async def close(self) -> None: ...


class LetterUnavailableError(Exception):
    """The letter could not be fetched now (retried)."""


class LetterMismatchError(Exception):
    """The letter fetched is not the one the event references (never attached)."""


class LetterSource(Protocol):
    """Answer letters, fetched by their reference (size and digest checked)."""

    def url(self, document_id: str) -> str: ...

    async def fetch(self, ref: DocumentRef) -> bytes: ...

    async def close(self) -> None: ...
