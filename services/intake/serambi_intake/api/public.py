"""The public API: submit a request with its two documents, follow it, withdraw it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Header, HTTPException, UploadFile, status
from pydantic import BaseModel, ConfigDict, Field
from serambi_calendar import in_wib
from serambi_contracts.intake import IntakeChannel
from serambi_kit.bodylimit import ChecksFirstRoute, body_limit
from serambi_kit.idempotency import IdempotencyKey
from serambi_kit.mongo import Database
from serambi_kit.ratelimit import rate_limited
from serambi_kit.uploads import upload_slot

from ..adapters import queries
from ..application import requests, submission
from ..application.context import Intake
from ..settings import IntakeSettings
from .deps import Ctx, Db, Settings
from .forms import LIMITS, RequestForm, read_documents

router = APIRouter(prefix="/api/v1", tags=["requests"], route_class=ChecksFirstRoute)
AccessToken = Annotated[str, Header(alias="X-Access-Token", min_length=16, max_length=128)]
TrackingCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
LINK_RESENDS_PER_MINUTE = 5  # per client, unless SERAMBI_RATE_LIMITS names link_resends


class SubmittedOut(BaseModel):
    tracking_code: str
    access_token: str = Field(description="keep it secret: it opens the tracking view")
    answer_due_at: datetime
    status_url: str


class ScheduleOut(BaseModel):
    starts_at: datetime
    ends_at: datetime
    room: str
    host: str


class StepOut(BaseModel):
    """A step of the request (instants in WIB), with the step's own details."""

    model_config = ConfigDict(extra="allow")
    step: str
    at: datetime
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    room: str | None = None
    host: str | None = None
    letter: str | None = Field(default=None, description="the answer letter's link")
    reason: str | None = None
    due_at: datetime | None = None


class TrackingOut(BaseModel):
    """The public view of a request: nothing personal (instants in WIB)."""

    tracking_code: str
    status: str = Field(
        description="submitted, in_review, scheduled, declined, held, no_show, cancelled or withdrawn"
    )
    institution: str
    topic: str | None
    submitted_at: datetime
    answer_due_at: datetime
    schedule: ScheduleOut | None
    timeline: list[StepOut]


class CaseStatusOut(BaseModel):
    tracking_code: str
    status: str


class WithdrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=1000)


@router.post(
    "/requests",
    status_code=status.HTTP_201_CREATED,
    response_model=SubmittedOut,
    dependencies=[
        Depends(rate_limited("submissions")),
        Depends(body_limit("max_request_bytes")),
        Depends(upload_slot),
    ],
    form_limits=LIMITS.route(),
    responses={
        413: {"description": "a document, a field or the body is too large"},
        415: {"description": "a document is not PDF/PNG/JPEG"},
        409: {"description": "the same Idempotency-Key is still in progress"},
        503: {"description": "too many uploads at once: retry after Retry-After"},
    },
)
async def submit_request(
    intake: Ctx,
    settings: Settings,
    form: Annotated[RequestForm, Form()],
    request_letter: Annotated[UploadFile | None, File(description="PDF, PNG or JPEG")] = None,
    identity_document: Annotated[UploadFile | None, File(description="PNG, JPEG or PDF")] = None,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Ask for an audience (fasilitasi audiensi), with the request letter and an identity
    document. Answered within 3 working days."""
    uploads = await read_documents(
        {"request_letter": request_letter, "identity_document": identity_document},
        settings.max_document_bytes,
    )
    return await submission.submit(
        intake,
        form.details(),
        uploads,
        IntakeChannel.ONLINE,
        datetime.now(UTC),
        idempotency_key=idempotency_key,
    )


async def _visible(
    intake: Intake, db: Database, settings: IntakeSettings, tracking_code: str, token: str
) -> dict[str, Any]:
    view = await queries.tracking_view(db, intake.vault, tracking_code, token, settings.scheduling_public_url)
    if view is None:  # unknown code and wrong token look the same: no enumeration
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no request with this code and token")
    return view


@router.get(
    "/requests/{tracking_code}",
    dependencies=[Depends(rate_limited("lookups"))],
    response_model=TrackingOut,
    response_model_exclude_unset=True,
)
async def track_request(
    tracking_code: TrackingCode, token: AccessToken, intake: Ctx, db: Db, settings: Settings
) -> dict[str, Any]:
    """The request's status and timeline (header ``X-Access-Token`` from the submission)."""
    return in_wib(await _visible(intake, db, settings, tracking_code, token))


@router.post(
    "/requests/{tracking_code}/withdraw",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=CaseStatusOut,
    dependencies=[Depends(rate_limited("lookups"))],
)
async def withdraw_request(
    tracking_code: TrackingCode,
    token: AccessToken,
    intake: Ctx,
    db: Db,
    settings: Settings,
    body: WithdrawIn | None = None,
) -> dict[str, str]:
    """Withdraw the request (header ``X-Access-Token``)."""
    await _visible(intake, db, settings, tracking_code, token)
    await requests.withdraw_request(
        intake.store, intake.vault, tracking_code, datetime.now(UTC), body.reason if body else None
    )
    return {"tracking_code": tracking_code, "status": "withdrawn"}


@router.post(
    "/requests/{tracking_code}/resend-link",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=CaseStatusOut,
    dependencies=[Depends(rate_limited("link_resends", LINK_RESENDS_PER_MINUTE))],
)
async def resend_link(tracking_code: TrackingCode, intake: Ctx) -> dict[str, str]:
    """Lost your link? The tracking link is sent again to the email address and mobile number
    on file for the request (at most once every 15 minutes and 3 times a day, and not once the
    request was withdrawn long ago). The answer is the same whether the code exists or not."""
    await requests.request_link(intake.store, tracking_code, datetime.now(UTC), intake.link_resends)
    return {"tracking_code": tracking_code, "status": "accepted"}
