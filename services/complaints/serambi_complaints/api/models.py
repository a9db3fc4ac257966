"""Request bodies of the complaints API: every field bounded and validated (422 names it)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError
from serambi_contracts.complaints import ComplaintChannel, ComplaintTier, Disclosure
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
