"""The complainant's API: submit online, track with the access token, dispute the answer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Request, status
from fastapi.responses import JSONResponse
from serambi_calendar import in_wib, utc_now
from serambi_contracts.complaints import ComplaintChannel, DisputeSource
from serambi_kit.bodylimit import ChecksFirstRoute
from serambi_kit.idempotency import Claim, IdempotencyKey, answer_once, fingerprint
from serambi_kit.problems import problem
from serambi_kit.ratelimit import rate_limited
from serambi_kit.tracking_links import link_resends, token_matches
from serambi_kit.uploads import upload_slot

from ..application import commands
from . import attachments
from .common import bounded_body, reusing
from .deps import Complaints
from .models import CaseStatusOut, ComplaintSubmittedOut, DisputedOut, DisputeIn, TrackedComplaintOut

router = APIRouter(prefix="/api/v1", tags=["complaints (public)"], route_class=ChecksFirstRoute)
AccessToken = Annotated[str, Header(alias="X-Access-Token", min_length=16, max_length=128)]
Code = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
NOT_FOUND = "no complaint with this code and token"
ERASED = (
    "the complainant's personal data was erased on request: nothing of this complaint "
    "can be shown or changed any more"
)
LINK_RESENDS_PER_MINUTE = 5  # per client, unless SERAMBI_RATE_LIMITS names link_resends


@router.post(
    "/complaints",
    status_code=status.HTTP_201_CREATED,
    response_model=ComplaintSubmittedOut,
    dependencies=[
        Depends(rate_limited("submissions")),
        Depends(attachments.submission_limit),
        Depends(upload_slot),
    ],
    openapi_extra=attachments.OPENAPI,
    responses={
        413: {"description": "an attachment, a field or the body is too large"},
        415: {"description": "an attachment is not JPEG/PNG/PDF, or the body's type"},
        409: {"description": "the same Idempotency-Key is still in progress"},
        503: {"description": "too many uploads at once: retry after Retry-After"},
    },
)
async def submit_complaint(
    request: Request, complaints: Complaints, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    """Submit a complaint online, as JSON or as multipart/form-data with up to five
    ``attachments`` (photos or PDFs, each at most 10 MB). Keep the tracking code and the access
    token: together they show its status (``GET /api/v1/complaints/{code}`` with header
    ``X-Access-Token``). Until an officer classifies it, ``due_at`` is the triage deadline
    (``clock`` ``triage``, 3 working hours by default). With header
    ``Idempotency-Key`` a retry gets the same answer and records nothing more."""
    async with attachments.submission(request) as (body, uploads):
        return await _submit(complaints, body, uploads, idempotency_key)


async def _submit(complaints: Complaints, body, uploads, idempotency_key: str | None) -> dict[str, Any]:
    digests = (upload.sha256() for upload, _ in uploads)
    print_ = idempotency_key and fingerprint(body.model_dump_json(), *digests)

    async def work(claim: Claim | None) -> tuple[dict[str, Any], str]:
        runtime, now = complaints.runtime, utc_now(whole_seconds=True)
        new = commands.NewComplaint(
            channel=ComplaintChannel.ONLINE,
            received_at=now,
            disclosure=body.disclosure,
            summary=body.summary,
            description=body.description,
            name=body.name,
            email=str(body.email) if body.email else None,
            phone=body.phone,
        )
        outcome, token = await commands.receive(
            runtime.store,
            runtime.db,
            runtime.vault,
            complaints.rules,
            new,
            now,
            documents=complaints.attachments,
            uploads=uploads,
            **reusing(complaints.idempotency, claim),
        )
        code = outcome.complaint.tracking_code
        stored = outcome.events[0].attachments if outcome.events else []
        return in_wib(
            {
                "tracking_code": code,
                "access_token": token,
                "status": outcome.complaint.status.value,
                "received_at": outcome.complaint.received_at,
                "clock": outcome.complaint.clock_name,
                "due_at": outcome.complaint.due_at,
                "status_url": f"/api/v1/complaints/{code}",
                "attachments": [
                    {"document_id": ref.document_id, "media_type": ref.media_type, "size": ref.size}
                    for ref in stored
                ],
            }
        ), outcome.complaint.subject_key

    return await answer_once(complaints.idempotency, idempotency_key, print_, work)


@router.get(
    "/complaints/{tracking_code}",
    dependencies=[Depends(rate_limited("lookups"))],
    response_model=TrackedComplaintOut,
    response_model_exclude_unset=True,
    responses={410: {"description": "the complainant's personal data was erased"}},
)
async def track_complaint(tracking_code: Code, token: AccessToken, complaints: Complaints) -> Any:
    """The complaint's status, deadline (due_at, WIB) and working time remaining. An unknown
    code and a wrong token get the same 404. Confidential complaints show only status and due.
    Once the complainant's personal data was erased, their link answers 410
    (``personal_data_erased``)."""
    reader = complaints.reader()
    view = await reader.tracking_view(tracking_code, token, utc_now(whole_seconds=True))
    if view is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    # a summary shown means the key is there; confidential views show none, so ask the vault
    if view.get("summary") is None and await _erased(complaints, tracking_code):
        return _gone(tracking_code)
    return in_wib(view)


async def _erased(complaints: Complaints, tracking_code: str) -> bool:
    """Was the complainant erased (their data key crypto-shredded)? Asked only once the token
    matched, so an erased complaint is told apart from an unknown one only by its own link."""
    document = await complaints.reader().find(tracking_code)
    summary = (document or {}).get("summary")  # always sealed under the complainant's key
    return bool(summary) and await complaints.runtime.vault.data_cipher(summary["key"]) is None


def _gone(tracking_code: str) -> JSONResponse:
    return problem(
        status.HTTP_410_GONE,
        "personal_data_erased",
        ERASED,
        tracking_code=tracking_code,
        headers={"Cache-Control": "no-store"},
    )


@router.post(
    "/complaints/{tracking_code}/dispute",
    response_model=DisputedOut,
    dependencies=[Depends(rate_limited("submissions")), Depends(bounded_body)],
    responses={410: {"description": "the complainant's personal data was erased"}},
)
async def dispute_answer(
    tracking_code: Code, token: AccessToken, body: DisputeIn, complaints: Complaints
) -> Any:
    """Dispute the answer (within the window shown as ``dispute_until``): the complaint is
    reopened with a fresh deadline of its tier."""
    store = complaints.runtime.store
    try:
        state = await commands.load(store, tracking_code)
    except commands.domain.UnknownComplaintError:
        state = None
    if state is None or not token_matches(state.access_token_sha256, token):
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    if await _erased(complaints, tracking_code):
        return _gone(tracking_code)
    outcome = await commands.reopen(
        store,
        complaints.runtime.vault,
        complaints.rules,
        tracking_code,
        body.reason,
        DisputeSource.COMPLAINANT,
        None,
        utc_now(whole_seconds=True),
    )
    return in_wib(
        {
            "tracking_code": tracking_code,
            "status": outcome.complaint.status.value,
            "due_at": outcome.complaint.due_at,
        }
    )


@router.post(
    "/complaints/{tracking_code}/resend-link",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=CaseStatusOut,
    dependencies=[Depends(rate_limited("link_resends", LINK_RESENDS_PER_MINUTE))],
)
async def resend_link(tracking_code: Code, complaints: Complaints) -> dict[str, str]:
    """Lost your link? The tracking link is sent again to the email address and mobile number
    on file for the complaint (at most once every 15 minutes and 3 times a day, and not once
    the complaint was closed long ago). The answer is the same whether the code exists or not."""
    runtime = complaints.runtime
    await commands.request_link(
        runtime.store, tracking_code, utc_now(whole_seconds=True), link_resends(runtime.settings)
    )
    return {"tracking_code": tracking_code, "status": "accepted"}
