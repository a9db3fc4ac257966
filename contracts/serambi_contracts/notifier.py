"""Events of the notifier context: what happened to each delivery of a notice.

A delivery is one message for one (cause event, channel, recipient). Its events are appended to
``notifier.delivery.<delivery_id>``. They never carry a clear address or number: only the
recipient masked (``s***@example.go.id``, ``+6281*****901``) and a keyed hash (HMAC-SHA256 under
Serambi's lookup key) that lets an officer who knows the address find the deliveries to it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from .base import AggregateId, Event, ShortText


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class RecipientKind(StrEnum):
    CITIZEN = "citizen"
    OFFICER = "officer"


class _Delivery(Event):
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
    recipient_hash: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="keyed hash of the normalised address"
    )
    attempts: int = Field(ge=0)


class NotificationSent(_Delivery):
    """A notice was handed to its channel (the SMTP server or the SMS gateway accepted it)."""

    provider: ShortText = Field(description="smtp, or the SMS gateway's provider kind")
    provider_message_id: str | None = Field(default=None, max_length=300)
    sent_at: datetime


class NotificationFailed(_Delivery):
    """A notice could not be delivered and will not be retried (with the reason)."""

    reason: ShortText
    failed_at: datetime
