"""Request bodies of the complaints API, every field bounded and validated (422 names it), and
its responses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError
from serambi_contracts.complaints import ComplaintChannel, ComplaintTier, Disclosure
from serambi_kit.pagination import Page
from serambi_kit.phones import to_e164

TrackingCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Text300 = Annotated[str, Field(min_length=1, max_length=300)]
Text5000 = Annotated[str, Field(min_length=1, max_length=5000)]
OFFICER_CHANNELS = tuple(c for c in ComplaintChannel if c is not ComplaintChannel.ONLINE)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ComplaintIn(_Body):
    """A complaint submitted online by the complainant."""

    disclosure: Disclosure = Disclosure.NAMED
    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=32)
    summary: Text300
    description: Text5000

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        return to_e164(value) if value else None

    @model_validator(mode="after")
    def _identity(self) -> ComplaintIn:
        if self.disclosure is Disclosure.NAMED:
            # rules over several fields: their codes (the error's ``rule``) name them
            if not self.name:
                raise PydanticCustomError(
                    "name_required",
                    "a named complaint needs the complainant's "
                    "name (or choose disclosure anonymous or confidential)",
                )
            if not self.email and not self.phone:
                raise PydanticCustomError(
                    "contact_required", "a named complaint needs an email address or a mobile number"
                )
        return self


class OfficerComplaintIn(ComplaintIn):
    """A complaint an officer records from another channel (desk, box, WhatsApp, phone, fax,
    email, or an SP4N-LAPOR! complaint entered by hand)."""

    channel: ComplaintChannel
    received_at: AwareDatetime | None = Field(
        default=None,
        description="actual time of receipt (ISO 8601 with offset); default now",
    )
    tier: ComplaintTier | None = None
    external_ref: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:/-]{1,64}$")

    @field_validator("channel")
    @classmethod
    def _officer_channel(cls, value: ComplaintChannel) -> ComplaintChannel:
        if value is ComplaintChannel.ONLINE:
            raise ValueError("online complaints are submitted by the complainant (POST /api/v1/complaints)")
        return value

    @model_validator(mode="after")
    def _lapor_ref(self) -> OfficerComplaintIn:
        if self.channel is ComplaintChannel.SP4N_LAPOR and not self.external_ref:
            raise ValueError("an SP4N-LAPOR! complaint needs its LAPOR! id in external_ref")
        if self.channel is not ComplaintChannel.SP4N_LAPOR and self.external_ref:
            raise ValueError("external_ref is only for channel sp4n_lapor")
        return self


class ClassifyIn(_Body):
    tier: ComplaintTier


class AssignIn(_Body):
    team: Text300 = Field(description="the complaint team or unit, e.g. 'Tim Pengelola Pengaduan'")
    assignee: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="a team member (role complaint_team), by account name "
        "(the identity provider's preferred_username)",
    )


class AnswerIn(_Body):
    answer: Text5000


class PauseIn(_Body):
    reason: Text300 = Field(description="why the bureau waits on the complainant (no personal data)")


class DisputeIn(_Body):
    reason: Text5000


# Responses: what each route answers, instants in WIB (+07:00).


class AttachmentOut(BaseModel):
    document_id: str
    media_type: str
    size: int


class ComplaintSubmittedOut(BaseModel):
    tracking_code: str
    access_token: str = Field(description="keep it secret: with the code it opens the tracking view")
    status: str
    received_at: datetime
    clock: str | None = Field(description="the running clock: the tier's, or triage until classification")
    due_at: datetime | None
    status_url: str
    attachments: list[AttachmentOut]


class PublicStepOut(BaseModel):
    step: str
    at: datetime
    tier: str | None = None
    reason: str | None = None
    due_at: datetime | None = None


class TrackedComplaintOut(BaseModel):
    """The complainant's view; a confidential complaint's shows only its first four keys."""

    tracking_code: str
    status: str
    due_at: datetime | None
    working_time_remaining: str | None = Field(description="ISO 8601 duration of working time")
    clock: str | None = None
    channel: str | None = None
    received_at: datetime | None = None
    tier: str | None = None
    paused: bool | None = None
    summary: str | None = None
    attachment_count: int | None = None
    answered_at: datetime | None = None
    answer: str | None = None
    dispute_until: datetime | None = None
    timeline: list[PublicStepOut] | None = None


class DisputedOut(BaseModel):
    tracking_code: str
    status: str
    due_at: datetime | None


class CaseStatusOut(BaseModel):
    tracking_code: str
    status: str


class ComplaintSummaryOut(BaseModel):
    """The complaint after a step: its state and running clock (null once answered or closed)."""

    tracking_code: str
    status: str
    tier: str | None
    team: str | None
    clock: str | None
    paused: bool
    due_at: datetime | None
    working_time_remaining: str | None = Field(description="ISO 8601 duration of working time")
    round: int


class ComplaintRecordedOut(ComplaintSummaryOut):
    access_token: str = Field(description="for the complainant: with the code it opens the tracking view")
    received_at: datetime
    attachments: list[AttachmentOut]


class ComplaintRowOut(BaseModel):
    tracking_code: str
    status: str
    channel: str
    disclosure: str
    tier: str | None
    received_at: datetime
    clock: str | None
    due_at: datetime | None
    working_time_remaining: str | None = Field(description="ISO 8601 duration of working time")
    working_seconds_remaining: int | None
    paused: bool
    overdue: bool
    team: str | None
    assignee: str | None
    round: int
    breached: bool
    summary: str | None = Field(description="null once the complainant was erased")
    note_count: int
    new_notes: int = Field(description="notes from outside since an officer's last step")
    last_note_at: datetime | None


class ComplaintPageOut(Page[ComplaintRowOut]):
    pass


class ComplainantOut(BaseModel):
    """As the case view shows the complainant: a named or confidential complaint's name, email
    and phone masked (null once erased); an anonymous one's only which contacts exist."""

    anonymous: bool | None = None
    masked: bool | None = None
    has_email: bool | None = None
    has_phone: bool | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None


class ComplainantIdentityOut(BaseModel):
    """In clear (each null once erased); an anonymous complaint's: only which contacts exist."""

    tracking_code: str
    anonymous: bool | None = None
    has_email: bool | None = None
    has_phone: bool | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None


class StoredAttachmentOut(AttachmentOut):
    url: str


class _Entry(BaseModel):
    """An entry as the read model keeps it: the keys below, and any other as stored."""

    model_config = ConfigDict(extra="allow")


class WarningOut(_Entry):
    percent: int | None = None
    due_at: datetime | None = None
    at: datetime | None = None


class BreachOut(_Entry):
    clock: str | None = None
    due_at: datetime | None = None
    at: datetime | None = None
    escalate_to: str | None = None


class FailedReplyOut(_Entry):
    reply: str | None = None
    channel: str | None = None
    at: datetime | None = None
    reason: str | None = None
    attempts: int | None = None
    error_code: int | None = None


class StepOut(_Entry):
    """A step of the case, with the step's own details; a note's text in clear (null once its
    writer was erased), ``new`` when it came from outside since an officer's last step."""

    step: str
    at: datetime
    by: str | None = None
    channel: str | None = None
    tier: str | None = None
    team: str | None = None
    reason: str | None = None
    source: str | None = None
    cause: str | None = None
    text: str | None = None
    new: bool | None = None
    attachments: list[str] | None = None
    after_close: bool | None = None
    previous_due_at: datetime | None = None
    due_at: datetime | None = None
    calendar_revision: str | None = None


class ComplaintOut(ComplaintRowOut):
    """The complaint in full, the complainant masked."""

    complainant: ComplainantOut
    description: str | None
    answer: str | None
    answered_at: datetime | None
    answered_on_time: bool | None
    closed_at: datetime | None
    recorded_by: str | None
    recorded_at: datetime | None
    external_ref: str | None
    pause_reason: str | None
    attachments: list[StoredAttachmentOut]
    warnings: list[WarningOut]
    breaches: list[BreachOut]
    failed_replies: list[FailedReplyOut]
    timeline: list[StepOut]


class WebhookDeliveryOut(BaseModel):
    recorded: int = Field(description="the messages recorded as new complaints")


class FiguresOut(BaseModel):
    received: int
    answered: int
    on_time: int
    breached: int
    breaches: int
    triage_breached: int
    triage_breaches: int
    classified: int
    triage_on_time: int
    reopened: int
    due: int
    triage_due: int
    on_time_rate: float | None = Field(description="on_time / due; null when none is due")
    triage_on_time_rate: float | None = Field(description="triage_on_time / triage_due; null when none")


class ReopenedOut(BaseModel):
    tracking_code: str
    channel: str
    team: str | None
    tier: str | None
    received_at: datetime | None
    reopened_at: datetime = Field(description="its first reopening in the month")
    reopen_count: int = Field(description="times reopened in all")
    status: str


class MonthlyReportOut(BaseModel):
    """The month's recap as JSON (instants in WIB); ``reports.py`` tells each figure."""

    month: str
    total: FiguresOut
    channel: dict[str, FiguresOut]
    tier: dict[str, FiguresOut]
    status: dict[str, FiguresOut]
    team: dict[str, FiguresOut]
    reopened: list[ReopenedOut] = Field(description="the complaints reopened in the month")
    labels: dict[str, dict[str, str]] = Field(description="the dimensions' and values' Indonesian names")
