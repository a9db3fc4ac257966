"""The dispatch use case's ports: the delivery ledger, the channels (email, SMS) and the
answer-letter source.

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
from typing import Any, Literal, Protocol

from serambi_contracts.intake import DocumentRef
from serambi_kit.eventstore import RecordedEvent
from serambi_kit.topology import stream_name

from ..domain.deliveries import Planned

Ready = Callable[[], Awaitable[bool]]
FINAL_STATES = ("sent", "failed")
#: set (in memory, never stored) on a claim the ledger took over from a holder whose lease ran
#: out: that holder may have handed the message over and appended its event, then stopped
TAKEN_OVER = "taken_over"


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


# The paths in a planned delivery's context that planning fills (adapters/cases.py) and the
# composer reads: the citizen's access token (tracking links), a complainant's e-mail thread
# (replies in it), a survey invitation's token.
TOKEN = "access_token"  # noqa: S105 — a context path, not a secret
THREAD = "email_thread"
SURVEY_TOKEN = "survey_token"  # noqa: S105 — a context path, not a secret


@dataclass
class CaseInfo:
    """What planning needs to know of an event's case (from the ``cases`` read model)."""

    case_id: str | None
    citizen_role: str | None = None
    contact: dict[str, Any] | None = None  # sealed name / email / phone, as stored
    context: dict[str, Any] = field(default_factory=dict)
    missing: str | None = None
    # sealed values the citizen's own messages may show (revealed for citizens only), by the
    # context path they fill: "case.summary", "case.topic", "answer", "reason" (a complaint's
    # dispute, an audience's cancellation), "access_token" (the link's),
    # "email_thread" (a complainant's e-mail, which their e-mails answer in its thread)
    sealed: dict[str, Any] = field(default_factory=dict)
    # who handles the case (complaints): the team and the officer assigned, if any
    handlers: tuple[str, ...] = ()

    @property
    def ready(self) -> bool:
        return self.missing is None


class CaseSource(Protocol):
    """An event's case as the read model has it now (adapters/cases.py: ``case_source``)."""

    async def __call__(self, recorded: RecordedEvent) -> CaseInfo: ...


class EmailText(Protocol):
    """An e-mail's words, as the templates give them."""

    @property
    def subject(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def html(self) -> str: ...


class Templates(Protocol):
    """The notices' words in each language (adapters/rendering.py: ``Renderer``)."""

    def email(self, language: str, notice: str, context: dict[str, Any]) -> EmailText: ...

    def sms(self, language: str, notice: str, context: dict[str, Any], max_parts: int) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class Invitation:
    """An audience's calendar invitation (or its cancellation), as its .ics file says it."""

    audience_id: str
    sequence: int
    starts_at: datetime
    ends_at: datetime
    summary: str
    location: str
    description: str
    organizer: str  # "Name <address>"
    attendee: str | None  # the requester's address (clear, in memory only)
    attendee_name: str | None
    stamp: datetime
    method: Literal["REQUEST", "CANCEL"] = "REQUEST"


class InvitationFile(Protocol):
    """The iCalendar file of an invitation, for a mail domain (adapters/ics.py: ``invitation_ics``)."""

    def __call__(self, invitation: Invitation, domain: str) -> bytes: ...


class LetterUnavailableError(Exception):
    """The letter could not be fetched now (retried)."""


class LetterMismatchError(Exception):
    """The letter fetched is not the one the event references (never attached)."""


class LetterSource(Protocol):
    """Answer letters, fetched by their reference (size and digest checked)."""

    def url(self, document_id: str) -> str: ...

    async def fetch(self, ref: DocumentRef) -> bytes: ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Cause:
    event_id: str
    type: str
    name: str
    stream: str
    subject: str
    sequence: int
    correlation_id: str | None
    traceparent: str | None = None  # the event's: a send retried later continues its trace

    @classmethod
    def of(cls, recorded: RecordedEvent) -> Cause:
        return cls(
            event_id=recorded.envelope.id,
            type=recorded.envelope.type,
            name=type(recorded.event).name(),
            stream=stream_name(recorded.ref.context),
            subject=recorded.ref.subject(type(recorded.event).name()),
            sequence=recorded.sequence,
            correlation_id=recorded.envelope.correlationid,
            traceparent=recorded.envelope.extensions.get("traceparent"),
        )

    def document(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "type": self.type,
            "name": self.name,
            "stream": self.stream,
            "subject": self.subject,
            "sequence": self.sequence,
            "correlation_id": self.correlation_id,
            "traceparent": self.traceparent,
        }


class DeliveryLedger(Protocol):
    """Each delivery's state, claimed by one replica at a time (``adapters.ledger.Ledger``)."""

    async def record(
        self,
        plans: list[Planned],
        cause: Cause,
        now: datetime,
        owner: str,
        lease: float,
        details: dict[str, Any] | None = None,
        recipients: dict[str, dict[str, Any]] | None = None,
    ) -> dict[str, dict[str, Any] | None]: ...

    async def claim(
        self, delivery_id: str, now: datetime, owner: str, lease: float
    ) -> dict[str, Any] | None: ...

    async def renew(self, delivery_ids: list[str], owner: str, now: datetime, lease: float) -> int: ...

    async def fence(self, claimed: dict[str, Any], now: datetime, lease: float) -> bool: ...

    async def sent(
        self,
        claimed: dict[str, Any],
        now: datetime,
        provider: str,
        message_ids: list[str],
        status: str,
        published: bool = False,
    ) -> None: ...

    async def flush(self) -> None: ...

    async def retry(
        self,
        claimed: dict[str, Any],
        now: datetime,
        category: str,
        at: datetime,
        detail: dict[str, Any] | None = None,
    ) -> bool: ...

    async def hold(self, claimed: dict[str, Any], now: datetime, until: datetime) -> bool: ...

    async def failed(
        self,
        claimed: dict[str, Any],
        now: datetime,
        category: str,
        detail: dict[str, Any] | None = None,
        published: bool = False,
    ) -> bool: ...

    async def published(self, delivery_id: str) -> None: ...

    async def final(self, delivery_id: str) -> dict[str, Any] | None: ...

    async def due(self, now: datetime, limit: int = 100) -> list[dict[str, Any]]: ...
