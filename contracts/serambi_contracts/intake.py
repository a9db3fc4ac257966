"""Events of the intake context (audience requests and the guest book)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import ConfigDict, Field, model_validator

# DocumentRef lives in base (complaints' attachments are documents too); re-exported from here as before
from .base import AggregateId, Event, LongText, PersonalData, ShortText, Value
from .base import DocumentRef as DocumentRef


class InstitutionType(StrEnum):
    GOVERNMENT_AGENCY = "government_agency"
    LOCAL_GOVERNMENT = "local_government"
    OTHER_INSTITUTION = "other_institution"


class IntakeChannel(StrEnum):
    ONLINE = "online"
    DESK = "desk"
    LETTER = "letter"


class Requester(Value):
    """Who asks for the audience. Name, email and phone are personal data, sealed."""

    name: PersonalData
    position: ShortText
    institution: ShortText
    institution_type: InstitutionType
    email: PersonalData | None = None
    phone: PersonalData | None = None

    @model_validator(mode="after")
    def _has_contact(self) -> Requester:
        if self.email is None and self.phone is None:
            raise ValueError("requester: give an email address or a mobile phone number")
        return self


class RequestSubmitted(Event):
    """An institution asked for an audience; the 3-working-day answer clock starts. Version 2:
    the topic and purpose, the requester's own words, travel sealed under their data key."""

    context: ClassVar[str] = "intake"
    version: ClassVar[int] = 2
    tracking_code: AggregateId
    channel: IntakeChannel
    requester: Requester
    topic: PersonalData = Field(
        description="the meeting's subject as the requester typed it (at most 300 characters), "
        "sealed under their data key (requester.name's key)",
    )
    purpose: PersonalData = Field(
        description="the purpose as the requester typed it (at most 5,000 characters), sealed "
        "under their data key",
    )
    participants: int = Field(ge=1, le=500)
    proposed_dates: list[date] = Field(default_factory=list, max_length=10)
    documents: list[DocumentRef] = Field(default_factory=list, max_length=10)
    submitted_at: datetime
    answer_due_at: datetime
    received_at: datetime | None = Field(
        default=None, description="channel letter: when the bureau received the letter"
    )
    identity_number: PersonalData | None = Field(default=None, description="NIK, sealed")
    recorded_by: str | None = Field(default=None, max_length=200, description="desk officer")
    access_token_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 of the requester's 256-bit random access token (never the token)",
    )
    access_token: PersonalData | None = Field(
        default=None,
        description="the access token, sealed: the notifier puts it in the tracking link it sends",
    )


class GuestRegistered(Event):
    """A walk-in guest signed the guest book (buku tamu) at the information desk."""

    context: ClassVar[str] = "intake"
    guest_id: AggregateId
    guest_name: PersonalData
    institution: ShortText
    purpose: ShortText
    arrived_at: datetime
    recorded_by: str = Field(max_length=200)
    request_tracking_code: AggregateId | None = None


class RequestWithdrawn(Event):
    """The requester withdrew the request; their reason, in their own words, travels sealed."""

    context: ClassVar[str] = "intake"
    tracking_code: AggregateId
    withdrawn_at: datetime
    reason: str | None = Field(
        default=None,
        max_length=1000,
        description="no longer filled: the reason in clear, as events recorded before "
        "reason_sealed carried it",
    )
    reason_sealed: PersonalData | None = Field(
        default=None,
        description="the requester's reason, sealed under their data key",
    )


class RequestLinkRequested(Event):
    """Someone asked, with the tracking code alone, that the tracking link be sent again to
    the contact on file ("lost your link?"); the notifier sends it. Nothing personal."""

    context: ClassVar[str] = "intake"
    tracking_code: AggregateId
    requested_at: datetime


# -- version 1, read only (requests recorded before version 2) ---------------------------------
class RequestSubmittedV1(Event):
    """An institution asked for an audience; the 3-working-day answer clock starts."""

    model_config = ConfigDict(frozen=True, extra="ignore", title="RequestSubmitted")
    context: ClassVar[str] = "intake"
    tracking_code: AggregateId
    channel: IntakeChannel
    requester: Requester
    topic: ShortText
    purpose: LongText
    participants: int = Field(ge=1, le=500)
    proposed_dates: list[date] = Field(default_factory=list, max_length=10)
    documents: list[DocumentRef] = Field(default_factory=list, max_length=10)
    submitted_at: datetime
    answer_due_at: datetime
    received_at: datetime | None = Field(
        default=None, description="channel letter: when the bureau received the letter"
    )
    identity_number: PersonalData | None = Field(default=None, description="NIK, sealed")
    recorded_by: str | None = Field(default=None, max_length=200, description="desk officer")
    access_token_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 of the requester's 256-bit random access token (never the token)",
    )
    access_token: PersonalData | None = Field(
        default=None,
        description="the access token, sealed: the notifier puts it in the tracking link it sends",
    )

    @classmethod
    def name(cls) -> str:
        return cls.__name__.removesuffix("V1")

    def upcast(self) -> RequestSubmitted:
        """Version 2 as it reads in memory: its topic and purpose stay the clear text version 1
        recorded (they were published so; nothing can seal them without the vault). Readers
        take either form through ``serambi_kit.pii.reveal_text``; only the events the services
        append — always version 2, sealed — are ever serialized."""
        return RequestSubmitted.model_construct(**dict(self))
