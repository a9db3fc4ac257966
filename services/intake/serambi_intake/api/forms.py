"""What the intake API accepts: the request form, its two documents, and the errors it gives."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import HTTPException, UploadFile
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError
from serambi_contracts.intake import InstitutionType
from serambi_kit.documents import JPEG, PDF, PNG, DocumentError, Upload, check
from serambi_kit.forms import FormLimits
from serambi_kit.phones import to_e164

from ..application.submission import RequestDetails, RequesterDetails

SEPARATE_PARTS = frozenset({"request_letter", "identity_document", "channel", "received_at"})
ACCEPTED = {"request_letter": frozenset({PDF, PNG, JPEG}), "identity_document": frozenset({PNG, JPEG, PDF})}
MAX_PROPOSED_DATES = 10


class RequestForm(BaseModel):
    """The request's fields (multipart form fields beside the two files)."""

    model_config = ConfigDict(extra="forbid")
    requester_name: str = Field(min_length=1, max_length=200)
    requester_position: str = Field(min_length=1, max_length=300)
    institution: str = Field(min_length=1, max_length=300)
    institution_type: InstitutionType
    email: EmailStr | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    identity_number: str | None = Field(default=None, pattern=r"^[0-9]{16}$", description="NIK")
    topic: str = Field(min_length=1, max_length=300)
    purpose: str = Field(min_length=1, max_length=5000)
    participants: int = Field(ge=1, le=500)
    proposed_dates: list[date] = Field(default_factory=list, max_length=MAX_PROPOSED_DATES)

    @model_validator(mode="before")
    @classmethod
    def _without_separate_parts(cls, data: Any) -> Any:
        """The documents and the desk's channel fields are parameters of their own."""
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if key not in SEPARATE_PARTS}
        return data

    @field_validator("email", "phone", "identity_number", mode="before")
    @classmethod
    def _blank_is_absent(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        return to_e164(value) if value else None

    @model_validator(mode="after")
    def _contact(self) -> RequestForm:
        if not self.email and not self.phone:
            # a rule over two fields: its code (the error's ``rule``) names it
            raise PydanticCustomError("contact_required", "give an email address or a mobile phone number")
        return self

    def details(self) -> RequestDetails:
        requester = RequesterDetails(
            self.requester_name,
            self.requester_position,
            self.institution,
            self.institution_type,
            self.email,
            self.phone,
            self.identity_number,
        )
        return RequestDetails(
            requester,
            self.topic,
            self.purpose,
            self.participants,
            tuple(self.proposed_dates),
            typed=self.model_dump_json(),
        )


# What a request form may hold: its two documents, each field once (the dates one part each);
# the desk's form adds its channel and date of receipt. More is refused while it streams in.
FORM_FIELDS = len(RequestForm.model_fields) - 1 + MAX_PROPOSED_DATES
LIMITS = FormLimits(max_files=len(ACCEPTED), max_fields=FORM_FIELDS)
OFFICER_LIMITS = FormLimits(max_files=len(ACCEPTED), max_fields=FORM_FIELDS + 2)


def invalid(status: int, field: str, rule: str, message: str) -> HTTPException:
    """An error in the same shape as FastAPI's validation errors."""
    return HTTPException(status, {"errors": [{"field": field, "rule": rule, "message": message}]})


async def read_documents(files: dict[str, UploadFile | None], max_bytes: int) -> list[tuple[Upload, str]]:
    """Both requirements present, each within the size limit and of an accepted type."""
    missing = [field for field, file in files.items() if file is None]
    if missing:
        raise HTTPException(
            422,
            {
                "errors": [
                    {"field": field, "rule": "missing", "message": f"{field}: required document"}
                    for field in missing
                ]
            },
        )
    checked = []
    for field, file in files.items():
        upload = Upload(field, field, file.file)  # spooled by the parser; stored a segment at a time
        try:
            checked.append((upload, check(upload, ACCEPTED[field], max_bytes)))
        except DocumentError as exc:
            raise invalid(exc.status, exc.field, exc.rule, str(exc)) from None
    return checked
