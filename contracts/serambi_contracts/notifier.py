"""Events of the notifier context: what happened to each delivery of a notice.

A delivery is one message for one (cause event, channel, recipient). Its events are appended to
``notifier.delivery.<delivery_id>``. Version 2 carries nothing derived from the recipient's
address or number — no masked address, no keyed hash — and a failure carries only its
:class:`FailureCategory`: these events are public (the integration bus mirrors them) and can never
be erased, so they must not link a case to a person, and a provider's bounce text (which often
quotes the address) stays in the notifier's ledger, sealed with the recipient's data key.

Version 1 (``NotificationSentV1``, ``NotificationFailedV1``) is kept for reading the events
recorded before: it carried ``recipient_masked``, ``recipient_hash`` and a free-text ``reason``.
``upcast()`` turns one into its version 2, dropping those.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import ConfigDict, Field

from .base import AggregateId, Event, ShortText


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class RecipientKind(StrEnum):
    CITIZEN = "citizen"
    OFFICER = "officer"


class FailureCategory(StrEnum):
    """Why a delivery failed for good, without the provider's words."""

    RECIPIENT_ERASED = "recipient_erased"  # the citizen's personal data was erased
    INVALID_ADDRESS = "invalid_address"  # a malformed email address or phone number
    REFUSED = "refused"  # the SMTP server or SMS gateway refused it for good (5xx, 4xx, refusal)
    GAVE_UP = "gave_up"  # temporary failures until the attempts ran out
    NOT_PLANNED = "not_planned"  # its cause event or the subscriptions changed before it was sent
    OTHER = "other"


def failure_category(reason: str | None) -> FailureCategory:
    """The category of a version 1 reason (free text) or of a category's own value."""
    text = (reason or "").strip().lower()
    if text in FailureCategory.__members__.values():
        return FailureCategory(text)
    for prefix, category in (
        ("recipient erased", FailureCategory.RECIPIENT_ERASED),
        ("invalid ", FailureCategory.INVALID_ADDRESS),
        ("gave up", FailureCategory.GAVE_UP),
        ("no longer planned", FailureCategory.NOT_PLANNED),
    ):
        if text.startswith(prefix):
            return category
    return FailureCategory.REFUSED if text else FailureCategory.OTHER


class _Delivery(Event):
    context: ClassVar[str] = "notifier"
    version: ClassVar[int] = 2
    delivery_id: AggregateId
    cause_event_id: ShortText = Field(description="ce-id of the event that caused the notice")
    cause_type: ShortText = Field(description="ce-type of the event that caused the notice")
    case_id: AggregateId | None = Field(default=None, description="tracking code of the case")
    notice: ShortText = Field(description="the notice (template) sent, e.g. request_acknowledged")
    channel: Channel
    recipient_kind: RecipientKind
    recipient_role: ShortText = Field(description="requester, complainant, supervisor, …")
    attempts: int = Field(ge=0)


class NotificationSent(_Delivery):
    """A notice was handed to its channel (the SMTP server or the SMS gateway accepted it).
    Nothing of the recipient's address or number."""

    provider: ShortText = Field(description="smtp, or the SMS gateway's provider kind")
    provider_message_id: str | None = Field(default=None, max_length=300)
    sent_at: datetime


class NotificationFailed(_Delivery):
    """A notice could not be delivered and will not be retried: only the category of the reason
    (the provider's own words are kept sealed in the notifier's ledger)."""

    category: FailureCategory
    failed_at: datetime


# -- version 1, read only (events recorded before version 2) ------------------------------------
class _DeliveryV1(Event):
    context: ClassVar[str] = "notifier"
    delivery_id: AggregateId
    cause_event_id: ShortText = Field(description="ce-id of the event that caused the notice")
    cause_type: ShortText = Field(description="ce-type of the event that caused the notice")
    case_id: AggregateId | None = Field(default=None, description="tracking code of the case")
    notice: ShortText = Field(description="the notice (template) sent, e.g. request_acknowledged")
    channel: Channel
    recipient_kind: RecipientKind
    recipient_role: ShortText = Field(description="requester, complainant, supervisor, …")
    recipient_masked: str = Field(max_length=300, description="masked address; never the clear one")
    recipient_hash: str = Field(pattern=r"^[0-9a-f]{64}$", description="keyed hash of the normalised address")
    attempts: int = Field(ge=0)

    @classmethod
    def name(cls) -> str:
        return cls.__name__.removesuffix("V1")

    def _common(self) -> dict[str, Any]:
        return self.model_dump(exclude={"recipient_masked", "recipient_hash"})


class NotificationSentV1(_DeliveryV1):
    """A notice was handed to its channel (the SMTP server or the SMS gateway accepted it)."""

    model_config = ConfigDict(frozen=True, extra="ignore", title="NotificationSent")
    provider: ShortText = Field(description="smtp, or the SMS gateway's provider kind")
    provider_message_id: str | None = Field(default=None, max_length=300)
    sent_at: datetime

    def upcast(self) -> NotificationSent:
        return NotificationSent(**self._common())


class NotificationFailedV1(_DeliveryV1):
    """A notice could not be delivered and will not be retried (with the reason)."""

    model_config = ConfigDict(frozen=True, extra="ignore", title="NotificationFailed")
    reason: ShortText
    failed_at: datetime

    def upcast(self) -> NotificationFailed:
        common = self._common()
        return NotificationFailed(
            **{k: v for k, v in common.items() if k != "reason"}, category=failure_category(self.reason)
        )
