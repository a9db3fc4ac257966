"""The information desk's API (role ``desk``): guest book, requests on a guest's behalf or
received by letter, the request list."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile, status
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator
from serambi_calendar import WIB, in_wib
from serambi_contracts.intake import IntakeChannel
from serambi_kit import tabular
from serambi_kit.audit import record_access
from serambi_kit.auth import Officer, require_roles
from serambi_kit.bodylimit import ChecksFirstRoute, body_limit
from serambi_kit.documents import EXTENSIONS, JPEG, PDF, PNG, DocumentErased
from serambi_kit.downloads import download_headers
from serambi_kit.idempotency import IdempotencyKey
from serambi_kit.pagination import Page, PageRequest, page_query
from serambi_kit.uploads import upload_slot

from ..adapters import guestbook as guest_export
from ..adapters import queries
from ..adapters.projections import REQUESTS
from ..application import requests, submission
from ..domain import guests
from . import exports
from .deps import Ctx, Db, Settings
from .forms import OFFICER_LIMITS, RequestForm, invalid, read_documents
from .public import ScheduleOut, SubmittedOut


def _private(response: Response) -> None:
    """Officer answers carry personal data (guests, requesters' contact): no cache keeps them."""
    response.headers["Cache-Control"] = "private, no-store"


router = APIRouter(
    prefix="/api/v1/officer",
    tags=["information desk"],
    route_class=ChecksFirstRoute,
    dependencies=[Depends(_private)],
)
Desk = Annotated[Officer, Depends(require_roles("desk", "admin"))]
Reader = Annotated[Officer, Depends(require_roles("desk", "scheduler", "admin"))]
Exporter = Annotated[Officer, Depends(require_roles("desk", "scheduler", "supervisor", "admin"))]
MAX_LETTER_AGE = timedelta(days=90)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=WIB)


class GuestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    institution: str = Field(min_length=1, max_length=300)
    purpose: str = Field(min_length=1, max_length=300)
    arrived_at: datetime | None = Field(default=None, description="default: now; naive = WIB")
    request_tracking_code: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    # Not stored: only their keyed hashes, beside the guest's data key, so that erasing the
    # person (serambi personal-data erase) finds their guest-book entry too.
    email: EmailStr | None = Field(default=None, max_length=254, description="the guest's, if given")
    phone: str | None = Field(
        default=None, pattern=r"^\+?[0-9 ().-]{8,32}$", description="the guest's, if given"
    )
    identity_number: str | None = Field(default=None, pattern=r"^[0-9]{16}$", description="NIK, if given")

    @field_validator("email", "phone", "identity_number", mode="before")
    @classmethod
    def _blank_is_absent(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("arrived_at")
    @classmethod
    def _not_future(cls, value: datetime | None) -> datetime | None:
        if value is not None and _aware(value) > datetime.now(UTC) + timedelta(minutes=5):
            raise ValueError("arrived_at: cannot be in the future")
        return value


class GuestOut(BaseModel):
    guest_id: str
    arrived_at: datetime


class GuestEntryOut(BaseModel):
    guest_id: str
    name: str | None = Field(description="masked; null once the guest was erased")
    institution: str
    purpose: str
    arrived_at: datetime
    recorded_by: str
    request_tracking_code: str | None


class GuestBookOut(BaseModel):
    day: date
    guests: list[GuestEntryOut]


class DayCountOut(BaseModel):
    day: date
    count: int


class GuestCountsOut(BaseModel):
    month: str
    total: int
    days: list[DayCountOut]


class ColumnOut(BaseModel):
    key: str
    title: str
    kind: str


class ExportedGuestOut(BaseModel):
    day: date
    arrived_at: datetime
    name: str | None = Field(description="masked unless asked in clear; null once the guest was erased")
    institution: str
    purpose: str
    request_tracking_code: str | None
    recorded_by: str


class GuestBookExportOut(BaseModel):
    period: str
    names: Literal["masked", "clear"]
    columns: list[ColumnOut]
    rows: list[ExportedGuestOut]


class MaskedRequesterOut(BaseModel):
    name: str | None
    position: str
    email: str | None
    phone: str | None


class DocumentOut(BaseModel):
    document_id: str
    kind: str
    media_type: str
    size: int


class RequestRowOut(BaseModel):
    tracking_code: str
    status: str
    channel: str
    institution: str
    institution_type: str
    topic: str | None = Field(description="null once the requester was erased")
    participants: int
    submitted_at: datetime
    answer_due_at: datetime
    schedule: ScheduleOut | None
    requester: MaskedRequesterOut = Field(description="masked")
    documents: list[DocumentOut]


class RequestPageOut(Page[RequestRowOut]):
    pass


class ContactOut(BaseModel):
    """In clear; each null once the requester was erased."""

    tracking_code: str
    name: str | None
    email: str | None
    phone: str | None


@router.post("/guests", status_code=status.HTTP_201_CREATED, response_model=GuestOut)
async def register_guest(body: GuestIn, intake: Ctx, officer: Desk) -> dict[str, Any]:
    """Record a walk-in guest in the guest book (buku tamu). The guest's email, phone or NIK,
    if given, are not stored: they make the entry findable when the person asks for erasure.
    A guest linked to a request is found by the requester's identifiers too."""
    details = requests.GuestDetails(
        **body.model_dump(exclude={"arrived_at"}),
        arrived_at=_aware(body.arrived_at) if body.arrived_at else None,
    )
    guest = await requests.register_guest(
        intake.store, intake.vault, intake.requests, details, officer.subject
    )
    return {"guest_id": guest.guest_id, "arrived_at": guest.arrived_at.astimezone(WIB)}


@router.get("/guestbook", response_model=GuestBookOut)
async def guestbook(intake: Ctx, db: Db, _: Reader, day: date | None = None) -> dict[str, Any]:
    """The guests of a day (default: today, WIB), names masked."""
    day = day or datetime.now(WIB).date()
    entries = await queries.guest_book(db, intake.vault, day)
    return in_wib({"day": day.isoformat(), "guests": entries})


@router.get(
    "/guestbook/export",
    response_model=None,
    responses={  # JSON (documented by the model, not filtered by it), CSV or XLSX
        200: {
            "model": GuestBookExportOut,
            "content": {"application/json": {}, tabular.CSV_TYPE: {}, tabular.XLSX_TYPE: {}},
        }
    },
)
async def guestbook_export(
    request: Request,
    intake: Ctx,
    db: Db,
    officer: Exporter,
    day: date | None = Query(None, description="one day (WIB), YYYY-MM-DD"),
    month: str | None = Query(None, pattern=r"^(19|20|21)\d\d-(0[1-9]|1[0-2])$", description="YYYY-MM (WIB)"),
    format_: Annotated[
        Literal["json", "csv", "xlsx"] | None,
        Query(
            alias="format", description="json (default), csv or xlsx; without it, the Accept header decides"
        ),
    ] = None,
    names: Literal["masked", "clear"] = Query(
        "masked", description="clear: names in clear, for roles desk and admin (audited)"
    ),
) -> dict[str, Any] | Response:
    """The guest book of a day or a month, names masked unless asked in clear by a role that
    may see them (``domain/guests.py``); a clear export is recorded first as PersonalDataAccessed."""
    if (day is None) == (month is None):
        raise invalid(
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            "day" if day is None else "month",
            "one_of",
            "give either day (YYYY-MM-DD) or month (YYYY-MM), not both",
        )
    if day is not None and day >= date.max:  # the day after it has no date
        raise invalid(status.HTTP_422_UNPROCESSABLE_ENTITY, "day", "range", "day must be before 9999-12-31")
    clear = names == "clear"
    if clear and not officer.roles & guests.CLEAR_NAME_ROLES:
        raise invalid(
            status.HTTP_403_FORBIDDEN,
            "names",
            "role",
            "names in clear are for roles desk and admin; ask with names=masked",
        )
    fmt = tabular.negotiate(format_, request.headers.get("accept"))
    first, after, label = guests.period(day, month)
    if clear:
        await record_access(
            intake.store, "intake", f"guestbook-{label}", officer, ["guest_name"], f"guest book export {fmt}"
        )
    rows = await guest_export.guests(db, intake.vault, first, after, clear=clear)
    table = exports.guest_book(label, rows)
    if fmt == "json":
        return {
            "period": label,
            "names": names,
            **{k: v for k, v in tabular.to_json(table).items() if k in ("columns", "rows")},
        }
    return tabular.respond([table], fmt, f"buku-tamu-{label}")


@router.get("/guestbook/counts", response_model=GuestCountsOut)
async def guestbook_counts(
    db: Db,
    _: Exporter,
    month: str = Query(pattern=r"^(19|20|21)\d\d-(0[1-9]|1[0-2])$", description="YYYY-MM (WIB)"),
) -> dict[str, Any]:
    """The number of guests per day of a month (WIB), for the supervisor's reports page: counts
    only, no names read."""
    first, after, _label = guests.period(None, month)
    days = await guest_export.counts(db, first, after)
    return {"month": month, "total": sum(row["count"] for row in days), "days": days}


@router.post(
    "/requests",
    status_code=status.HTTP_201_CREATED,
    response_model=SubmittedOut,
    dependencies=[Depends(body_limit("max_request_bytes")), Depends(upload_slot)],
    form_limits=OFFICER_LIMITS.route(),
    responses={
        409: {"description": "the same Idempotency-Key is still in progress"},
        503: {"description": "too many uploads at once: retry after Retry-After"},
    },
)
async def submit_on_behalf(
    intake: Ctx,
    settings: Settings,
    officer: Desk,
    form: Annotated[RequestForm, Form()],
    channel: Annotated[Literal["desk", "letter"], Form()] = "desk",
    received_at: Annotated[datetime | None, Form(description="channel letter: date of receipt")] = None,
    request_letter: Annotated[UploadFile | None, File()] = None,
    identity_document: Annotated[UploadFile | None, File()] = None,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Submit a request for a guest at the desk (scanned documents), or one that came by letter
    (``received_at`` starts its 3-working-day clock). With ``Idempotency-Key`` a retry gets the
    same answer and records nothing more."""
    now = datetime.now(UTC)
    if channel == "letter":
        if received_at is None:
            raise invalid(422, "received_at", "missing", "received_at: required for channel letter")
        received_at = _aware(received_at)
        if received_at > now + timedelta(minutes=5):
            raise invalid(422, "received_at", "future", "received_at: cannot be in the future")
        if received_at < now - MAX_LETTER_AGE:
            raise invalid(422, "received_at", "too_old", "received_at: more than 90 days ago")
    elif received_at is not None:
        raise invalid(422, "received_at", "not_allowed", "received_at: only for channel letter")
    uploads = await read_documents(
        {"request_letter": request_letter, "identity_document": identity_document},
        settings.max_document_bytes,
    )
    return await submission.submit(
        intake,
        form.details(),
        uploads,
        IntakeChannel(channel),
        now,
        received_at=received_at,
        recorded_by=officer.subject,
        idempotency_key=idempotency_key,
    )


@router.get("/requests", response_model=RequestPageOut)
async def list_requests(
    intake: Ctx,
    db: Db,
    _: Reader,
    pages: Annotated[PageRequest, Depends(page_query(default=50, maximum=200))],
    status_: Annotated[Literal[queries.STATUSES] | None, Query(alias="status")] = None,  # type: ignore[valid-type]
    institution: Annotated[str | None, Query(max_length=300)] = None,
    submitted_from: datetime | None = None,
    submitted_to: datetime | None = None,
) -> dict[str, Any]:
    """Requests, newest first, filtered by status, institution and submission time."""
    where = queries.RequestFilter(
        status_,
        institution,
        _aware(submitted_from) if submitted_from else None,
        _aware(submitted_to) if submitted_to else None,
    )
    return in_wib(await queries.officer_list(db, intake.vault, where, pages))


@router.get(
    "/documents/{document_id}",
    response_class=Response,
    responses={200: {"description": "the document, as a download", "content": {PDF: {}, PNG: {}, JPEG: {}}}},
)
async def download_document(
    document_id: Annotated[str, Field(pattern=r"^D[0-9a-f]{32}$")], intake: Ctx, db: Db, officer: Reader
) -> Response:
    """A request's document (request letter, identity document), as a download in a sandbox
    (``serambi_kit.downloads``). Each download is recorded as a PersonalDataAccessed audit event
    first (an identity document is personal data); a document whose requester was erased is
    410 Gone."""
    document = await db[REQUESTS].find_one({"documents.document_id": document_id}, {"documents.$": 1})
    if document is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no document {document_id}")
    [ref] = document["documents"]
    try:
        content = await intake.documents.open(document_id)
    except DocumentErased:
        raise HTTPException(status.HTTP_410_GONE, f"document {document_id} was erased") from None
    await record_access(intake.store, "intake", document["_id"], officer, [ref["kind"]], "document download")
    filename = f"{document['_id']}-{ref['kind']}.{EXTENSIONS.get(ref['media_type'], 'bin')}"
    return StreamingResponse(
        content,
        media_type=ref["media_type"],
        headers={**download_headers(filename), "Content-Length": str(ref["size"])},
    )


@router.get("/requests/{tracking_code}/contact", response_model=ContactOut)
async def requester_contact(
    tracking_code: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")],
    intake: Ctx,
    db: Db,
    officer: Reader,
) -> dict[str, Any]:
    """The requester's name, email and phone in clear, to contact them. Each view is recorded
    as a PersonalDataAccessed audit event before anything is shown."""
    contact = await queries.requester_contact(db, intake.vault, tracking_code)
    if contact is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no request {tracking_code}")
    shown = [field for field, value in contact.items() if value]
    if shown:
        await record_access(intake.store, "intake", tracking_code, officer, shown, "contact requester")
    return {"tracking_code": tracking_code, **contact}
