"""Intake's HTTP API: submit a request, follow it, withdraw it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Header, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator
from serambi_contracts.intake import InstitutionType, IntakeChannel
from serambi_kit.http import runtime_of
from serambi_kit.phones import to_e164

from . import application, domain, queries

WIB = ZoneInfo("Asia/Pontianak")
router = APIRouter(prefix="/api/v1", tags=["requests"])
AccessToken = Annotated[str, Header(alias="X-Access-Token", min_length=16, max_length=128)]


class RequesterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    position: str = Field(min_length=1, max_length=300)
    institution: str = Field(min_length=1, max_length=300)
    institution_type: InstitutionType
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=32)

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        return to_e164(value) if value else None

    @model_validator(mode="after")
    def _contact(self) -> RequesterIn:
        if not self.email and not self.phone:
            raise ValueError("give an email address or a mobile phone number")
        return self


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    requester: RequesterIn
    topic: str = Field(min_length=1, max_length=300)
    purpose: str = Field(min_length=1, max_length=5000)
    participants: int = Field(ge=1, le=500)
    proposed_dates: list[date] = Field(default_factory=list, max_length=10)


class SubmittedOut(BaseModel):
    tracking_code: str
    access_token: str
    answer_due_at: datetime
    status_url: str


class WithdrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=1000)


def _wib(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(WIB)
    if isinstance(value, dict):
        return {key: _wib(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_wib(item) for item in value]
    return value


@router.post("/requests", status_code=status.HTTP_201_CREATED, response_model=SubmittedOut)
async def submit_request(body: RequestIn, request: Request) -> SubmittedOut:
    """Ask for an audience. Answered within 3 working days of submission."""
    runtime = runtime_of(request)
    now = datetime.now(UTC)
    due = request.app.state.answer_due(now)
    requester = await application.seal_requester(runtime.vault, **body.requester.model_dump())

    def details(tracking_code: str, token_sha256: str) -> domain.SubmitRequest:
        return domain.SubmitRequest(
            tracking_code=tracking_code,
            channel=IntakeChannel.ONLINE,
            requester=requester,
            topic=body.topic,
            purpose=body.purpose,
            participants=body.participants,
            proposed_dates=tuple(body.proposed_dates),
            submitted_at=now,
            answer_due_at=due,
            access_token_sha256=token_sha256,
        )

    command, token = await application.submit_request(runtime.store, runtime.db, details, now)
    return SubmittedOut(
        tracking_code=command.tracking_code,
        access_token=token,
        answer_due_at=due.astimezone(WIB),
        status_url=f"/api/v1/requests/{command.tracking_code}",
    )


async def _visible(request: Request, tracking_code: str, token: str) -> dict[str, Any]:
    view = await queries.tracking_view(runtime_of(request).db, tracking_code, token)
    if view is None:  # unknown code and wrong token look the same: no enumeration
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no request with this code and token")
    return view


@router.get("/requests/{tracking_code}")
async def track_request(
    tracking_code: Annotated[str, Field(max_length=64)], token: AccessToken, request: Request
) -> dict[str, Any]:
    """The request's status and timeline (header ``X-Access-Token`` from the submission)."""
    return _wib(await _visible(request, tracking_code, token))


@router.post("/requests/{tracking_code}/withdraw", status_code=status.HTTP_202_ACCEPTED)
async def withdraw_request(
    tracking_code: Annotated[str, Field(max_length=64)], token: AccessToken, request: Request,
    body: WithdrawIn | None = None,
) -> dict[str, str]:
    """Withdraw the request (header ``X-Access-Token``)."""
    await _visible(request, tracking_code, token)
    command = domain.WithdrawRequest(
        tracking_code, datetime.now(UTC), body.reason if body else None
    )
    await application.withdraw_request(runtime_of(request).store, command)
    return {"tracking_code": tracking_code, "status": "withdrawn"}
