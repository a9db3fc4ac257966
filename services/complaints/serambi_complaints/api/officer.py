"""The officers' API: record complaints from every channel, each step of the flow, the queue.

Roles (``serambi_kit.auth``): complaint_officer records and assigns; complaint_team answers;
supervisor (who receives escalations) and admin may do everything; reports are for supervisor
and admin.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from serambi_calendar import in_wib, utc_now
from serambi_contracts.complaints import ComplaintChannel, ComplaintTier, DisputeSource
from serambi_kit import tabular
from serambi_kit.audit import record_access
from serambi_kit.auth import Officer, require_roles
from serambi_kit.documents import DOCUMENT_ID, EXTENSIONS, JPEG, M4A, OGG, PDF, PNG, DocumentErased
from serambi_kit.downloads import download_headers
from serambi_kit.idempotency import Claim, IdempotencyKey, answer_once, fingerprint
from serambi_kit.pagination import PageRequest, page_query
from serambi_kit.uploads import upload_slot

from ..adapters import reports
from ..adapters.queries import QueueFilter, iso_duration
from ..application import commands
from ..domain import Rules, Status
from ..settings import ComplaintsSettings
from . import attachments
from .common import invalid, reusing
from .deps import Complaints
from .models import (
    AnswerIn,
    AssignIn,
    ClassifyIn,
    ComplainantIdentityOut,
    ComplaintOut,
    ComplaintPageOut,
    ComplaintRecordedOut,
    ComplaintSummaryOut,
    DisputeIn,
    MonthlyReportOut,
    OfficerComplaintIn,
    PauseIn,
)

router = APIRouter(prefix="/api/v1/officer", tags=["complaints (officers)"])
Code = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Recorder = Annotated[Officer, Depends(require_roles("complaint_officer", "admin"))]
Dispatcher = Annotated[Officer, Depends(require_roles("complaint_officer", "supervisor", "admin"))]
Handler = Annotated[
    Officer, Depends(require_roles("complaint_officer", "complaint_team", "supervisor", "admin"))
]
Answerer = Annotated[Officer, Depends(require_roles("complaint_team", "supervisor", "admin"))]
Reporter = Annotated[Officer, Depends(require_roles("supervisor", "admin"))]


def _summary(rules: Rules, outcome: commands.Outcome, now: datetime) -> dict[str, Any]:
    state = outcome.complaint
    remaining = rules.remaining(state.clock(), now) if state.is_open else None
    return in_wib(
        {
            "tracking_code": state.tracking_code,
            "status": state.status.value,
            "tier": state.tier.value if state.tier else None,
            "team": state.team,
            "clock": state.clock_name if state.is_open else None,
            "paused": state.paused,
            "due_at": state.due_at if state.is_open else None,
            "working_time_remaining": iso_duration(remaining) if remaining is not None else None,
            "round": state.round,
        }
    )


def _received_at(settings: ComplaintsSettings, given: datetime | None, now: datetime) -> datetime:
    """The actual receipt: not in the future (beyond clock skew), not absurdly old."""
    if given is None:
        return now
    received = given.astimezone(UTC).replace(microsecond=0)
    if received > now + timedelta(seconds=settings.received_at_tolerance_seconds):
        raise invalid(
            "received_at",
            "received_at_in_future",
            f"received_at {given.isoformat()} is in the future; give the actual time of receipt",
        )
    oldest = now - timedelta(days=settings.received_at_max_age_days)
    if received < oldest:
        raise invalid(
            "received_at",
            "received_at_too_old",
            f"received_at {given.isoformat()} is more than {settings.received_at_max_age_days} "
            "days ago; such old receipts are not recorded as new complaints",
        )
    return min(received, now)


@router.post(
    "/complaints",
    status_code=status.HTTP_201_CREATED,
    response_model=ComplaintRecordedOut,
    dependencies=[Depends(attachments.submission_limit)],
    openapi_extra=attachments.OFFICER_OPENAPI,
    responses={
        409: {"description": "the same Idempotency-Key is still in progress"},
        413: {"description": "an attachment, a field or the body is too large"},
        415: {"description": "an attachment's content is of no accepted type"},
        503: {"description": "too many uploads at once: retry after Retry-After"},
    },
)
async def record_complaint(
    request: Request,
    complaints: Complaints,
    officer: Recorder,
    _slot: Annotated[None, Depends(upload_slot)],
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Record a complaint received at the desk, in the box, by WhatsApp, phone, fax, email or
    SP4N-LAPOR!, with its actual time of receipt and, if known, its tier: JSON, or
    multipart/form-data with up to five ``attachments`` (photos, PDFs, or an audio note of a
    phone call — M4A or OGG — each at most 10 MB). The response holds the tracking code and
    access token to hand to the complainant. With header ``Idempotency-Key`` a retry gets the
    same answer and records nothing more."""
    async with attachments.submission(request, OfficerComplaintIn, attachments.OFFICER_ACCEPTED) as submitted:
        return await _record(complaints, officer, *submitted, idempotency_key)


async def _record(
    complaints: Complaints,
    officer: Officer,
    body: OfficerComplaintIn,
    uploads: list,
    idempotency_key: str | None,
) -> dict[str, Any]:
    runtime, now = complaints.runtime, utc_now(whole_seconds=True)
    received_at = _received_at(complaints.settings, body.received_at, now)
    # the officer who records it is part of the request: another officer's same key is refused
    print_ = idempotency_key and fingerprint(
        body.model_dump_json(), officer.subject, *(upload.sha256() for upload, _ in uploads)
    )

    async def work(claim: Claim | None) -> tuple[dict[str, Any], str]:
        new = commands.NewComplaint(
            channel=body.channel,
            received_at=received_at,
            disclosure=body.disclosure,
            summary=body.summary,
            description=body.description,
            name=body.name,
            email=str(body.email) if body.email else None,
            phone=body.phone,
            tier=body.tier,
            recorded_by=officer.subject,
            external_ref=body.external_ref,
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
        stored = outcome.events[0].attachments if outcome.events else []
        return {
            **_summary(complaints.rules, outcome, now),
            "access_token": token,
            "received_at": in_wib(outcome.complaint.received_at),
            "attachments": [
                {"document_id": ref.document_id, "media_type": ref.media_type, "size": ref.size}
                for ref in stored
            ],
        }, outcome.complaint.subject_key

    return await answer_once(complaints.idempotency, idempotency_key, print_, work)


@router.get("/complaints", response_model=ComplaintPageOut)
async def complaint_queue(
    complaints: Complaints,
    _: Handler,
    pages: Annotated[PageRequest, Depends(page_query(default=25, maximum=100))],
    tier: ComplaintTier | None = None,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    channel: ComplaintChannel | None = None,
    due_before: datetime | None = Query(default=None, description="ISO 8601 with offset"),
    breached: bool | None = None,
    paused: bool | None = None,
    open_: Annotated[bool | None, Query(alias="open")] = None,
    team: str | None = Query(default=None, max_length=300),
    assignee: str | None = Query(
        default=None,
        min_length=1,
        max_length=200,
        description="the member as given to assign, by account name ('my cases')",
    ),
    new_notes: bool | None = Query(
        default=None,
        description="true: only complaints with notes from "
        "outside since an officer's last step; false: only those without",
    ),
) -> dict[str, Any]:
    """The queue, soonest deadline first; filters combine (AND)."""
    if due_before is not None and due_before.tzinfo is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "due_before needs a UTC offset")
    filters = QueueFilter(
        tier=tier.value if tier else None,
        status=status_.value if status_ else None,
        channel=channel.value if channel else None,
        due_before=due_before,
        breached=breached,
        paused=paused,
        open=open_,
        team=team,
        assignee=assignee,
        new_notes=new_notes,
    )
    return in_wib(await complaints.reader().queue(filters, pages, utc_now(whole_seconds=True)))


@router.get("/complaints/{tracking_code}", response_model=ComplaintOut, response_model_exclude_unset=True)
async def complaint_details(tracking_code: Code, complaints: Complaints, _: Handler) -> dict[str, Any]:
    """The complaint in full, with the complainant's identity masked (``complainant.masked``;
    anonymous: only which contacts exist). Not audited: it shows no personal data in clear —
    ``GET …/{code}/complainant`` does, audited."""
    view = await complaints.reader().officer_view(tracking_code, utc_now(whole_seconds=True))
    if view is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no complaint {tracking_code}")
    return in_wib(view)


@router.get(
    "/complaints/{tracking_code}/complainant",
    response_model=ComplainantIdentityOut,
    response_model_exclude_unset=True,
)
async def complainant_identity(
    tracking_code: Code, complaints: Complaints, officer: Handler
) -> dict[str, Any]:
    """The complainant's name, email and phone in clear (an anonymous complainant's never: only
    which contacts exist). Each view that shows any is recorded first as a PersonalDataAccessed
    audit event (the fields shown, never their values)."""
    identity = await complaints.reader().identity(tracking_code)
    if identity is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no complaint {tracking_code}")
    shown = [field for field in ("name", "email", "phone") if identity.get(field)]
    if shown:
        await record_access(
            complaints.runtime.store, "complaints", tracking_code, officer, shown, "complainant identity"
        )
    return {"tracking_code": tracking_code, **identity}


@router.get(
    "/complaints/{tracking_code}/attachments/{document_id}",
    response_class=Response,
    responses={
        200: {
            "description": "the attachment, as a download",
            "content": {JPEG: {}, PNG: {}, PDF: {}, M4A: {}, OGG: {}},
        }
    },
)
async def download_attachment(
    tracking_code: Code,
    document_id: Annotated[str, Path(pattern=DOCUMENT_ID)],
    complaints: Complaints,
    officer: Handler,
) -> Response:
    """A photo, PDF or audio note sent with the complaint, as a download in a sandbox
    (``serambi_kit.downloads``). Each download is recorded as a
    PersonalDataAccessed audit event first (an attachment may show who complained); one whose
    complainant was erased is 410 Gone."""
    found = await complaints.reader().attachment(tracking_code, document_id)
    if found is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"no attachment {document_id} of complaint {tracking_code}"
        )
    position, ref = found
    try:
        content = await complaints.attachments.open(document_id)
    except DocumentErased:
        raise HTTPException(status.HTTP_410_GONE, f"attachment {document_id} was erased") from None
    await record_access(
        complaints.runtime.store,
        "complaints",
        tracking_code,
        officer,
        ["attachment"],
        f"attachment {position} download",
    )
    filename = f"{tracking_code}-lampiran-{position}.{EXTENSIONS.get(ref['media_type'], 'bin')}"
    return StreamingResponse(
        content,
        media_type=ref["media_type"],
        headers={**download_headers(filename), "Content-Length": str(ref["size"])},
    )


@router.post("/complaints/{tracking_code}/classify", response_model=ComplaintSummaryOut)
async def classify(
    tracking_code: Code, body: ClassifyIn, complaints: Complaints, officer: Handler
) -> dict[str, Any]:
    """Set or change the tier; the deadline is counted from the clock's original start."""
    outcome = await commands.classify(
        complaints.runtime.store, complaints.rules, tracking_code, body.tier, officer.subject
    )
    return _summary(complaints.rules, outcome, utc_now(whole_seconds=True))


@router.post("/complaints/{tracking_code}/assign", response_model=ComplaintSummaryOut)
async def assign(
    tracking_code: Code, body: AssignIn, complaints: Complaints, officer: Dispatcher
) -> dict[str, Any]:
    outcome = await commands.assign(
        complaints.runtime.store, tracking_code, body.team, body.assignee, officer.subject
    )
    return _summary(complaints.rules, outcome, utc_now(whole_seconds=True))


@router.post("/complaints/{tracking_code}/answer", response_model=ComplaintSummaryOut)
async def answer(
    tracking_code: Code, body: AnswerIn, complaints: Complaints, officer: Answerer
) -> dict[str, Any]:
    """Record the answer sent to the complainant; the clock stops."""
    now = utc_now(whole_seconds=True)
    outcome = await commands.answer(
        complaints.runtime.store,
        complaints.runtime.vault,
        complaints.rules,
        tracking_code,
        body.answer,
        officer.subject,
        now,
    )
    return _summary(complaints.rules, outcome, now)


@router.post("/complaints/{tracking_code}/close", response_model=ComplaintSummaryOut)
async def close(tracking_code: Code, complaints: Complaints, officer: Handler) -> dict[str, Any]:
    now = utc_now(whole_seconds=True)
    outcome = await commands.close(complaints.runtime.store, tracking_code, officer.subject, now)
    return _summary(complaints.rules, outcome, now)


@router.post("/complaints/{tracking_code}/pause", response_model=ComplaintSummaryOut)
async def pause(
    tracking_code: Code, body: PauseIn, complaints: Complaints, officer: Handler
) -> dict[str, Any]:
    """Stop the clock while waiting on the complainant (the reason is shown to them)."""
    now = utc_now(whole_seconds=True)
    outcome = await commands.pause(complaints.runtime.store, tracking_code, body.reason, officer.subject, now)
    return _summary(complaints.rules, outcome, now)


@router.post("/complaints/{tracking_code}/resume", response_model=ComplaintSummaryOut)
async def resume(tracking_code: Code, complaints: Complaints, officer: Handler) -> dict[str, Any]:
    now = utc_now(whole_seconds=True)
    outcome = await commands.resume(
        complaints.runtime.store, complaints.rules, tracking_code, officer.subject, now
    )
    return _summary(complaints.rules, outcome, now)


@router.post("/complaints/{tracking_code}/reopen", response_model=ComplaintSummaryOut)
async def reopen(
    tracking_code: Code, body: DisputeIn, complaints: Complaints, officer: Dispatcher
) -> dict[str, Any]:
    """Record a dispute of the answer that reached an officer (e.g. by phone)."""
    now = utc_now(whole_seconds=True)
    outcome = await commands.reopen(
        complaints.runtime.store,
        complaints.runtime.vault,
        complaints.rules,
        tracking_code,
        body.reason,
        DisputeSource.OFFICER,
        officer.subject,
        now,
    )
    return _summary(complaints.rules, outcome, now)


@router.get(
    "/reports/monthly",
    response_model=None,
    responses={  # JSON (documented by the model, not filtered by it), CSV or XLSX
        200: {
            "model": MonthlyReportOut,
            "content": {"application/json": {}, "text/csv": {}, tabular.XLSX_TYPE: {}},
        }
    },
)
async def monthly_report(
    request: Request,
    complaints: Complaints,
    _: Reporter,
    month: str = Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM (WIB)"),
    format_: Annotated[
        Literal["json", "csv", "xlsx"] | None,
        Query(
            alias="format",
            description="json (default), csv or xlsx; without it, the Accept header decides",
        ),
    ] = None,
    table: Annotated[
        Literal["dibuka-kembali"] | None,
        Query(
            description="csv only: the reopened complaints (UTF-8 with BOM) instead of the recap",
        ),
    ] = None,
) -> Response | dict[str, Any]:
    """Complaints received in the month by channel, tier, status and team: answered, tier and
    triage on-time rates, breaches, reopened; and the reopened complaints."""
    try:
        report = await reports.monthly(complaints.runtime.db, month)
    except ValueError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            detail=[{"loc": ["query", "month"], "type": "month", "msg": str(exc)}],
        ) from None
    fmt = tabular.negotiate(format_, request.headers.get("accept"))
    tabular.only_for_csv(table, fmt)
    if fmt == "csv" and table is None:  # the recap's machine CSV, as the CLI writes it
        return PlainTextResponse(
            reports.to_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="pengaduan-{month}.csv"'},
        )
    if fmt == "json":
        return in_wib(report)
    return tabular.respond(reports.tables(report), fmt, f"pengaduan-{month}", only=table)
