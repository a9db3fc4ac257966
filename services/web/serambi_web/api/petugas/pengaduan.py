"""Pengaduan: the complaint officers' and teams' screens over the complaints officer API.

Every call relays the officer's own token; the service enforces its role matrix, and the
screens offer only the steps the officer's roles and the case's status allow (what the
service would refuse is not shown). A refusal that still comes back (another officer moved
the case first) is shown in words on the case page.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from serambi_calendar import WIB
from serambi_kit.documents import DOCUMENT_ID

from ...adapters.backend import ApiError, BackendUnavailable, Throttled
from ...adapters.services import _form
from ...adapters.session import PATH
from ...domain import pengaduan as t
from ...domain.access import AREAS, ROLE_NAMES, Area, Officer
from .. import relay
from ..deps import PortalDep, checked_form, portal_of, render, text
from ..errors import DateOutOfRange
from . import access, drafts
from . import pengaduan_lampiran as lampiran
from .access import ConsoleRoute, allowed

AREA = next(area for area in AREAS if area.slug == "pengaduan")
RECORDING = Area("pengaduan", "Pencatatan pengaduan", ("complaint_officer", "admin"))
MINE = Area("pengaduan", "Kasus saya", ("complaint_team", "admin"))
RECORDERS, DISPATCHERS = {"complaint_officer", "admin"}, {"complaint_officer", "supervisor", "admin"}
ANSWERERS = {"complaint_team", "supervisor", "admin"}
PAGE_SIZE = 25
CODE = r"^[A-Za-z0-9_-]{1,64}$"
BASE = f"{PATH}/pengaduan"

router = APIRouter(prefix="/pengaduan", route_class=ConsoleRoute)  # inside the console's
Handler = Annotated[Officer, Depends(allowed(AREA))]
Recorder = Annotated[Officer, Depends(allowed(RECORDING))]
TeamMember = Annotated[Officer, Depends(allowed(MINE))]


def _page(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    roles = context["officer"].roles
    nav = {"record": bool(roles & RECORDERS), "mine": bool(roles & set(MINE.roles))}
    return render(
        request,
        template,
        {"ROLE_NAMES": ROLE_NAMES, "t": t, "area": AREA, "nav": nav, **context},
        status_code,
        private=True,
    )


async def _api(request: Request, officer: Officer, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    complaints = portal_of(request).complaints
    return await complaints.json(
        method, f"/api/v1/officer{path}", headers={**officer.bearer, **kwargs.pop("headers", {})}, **kwargs
    )


def _rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**row, "urgency": t.urgency(row)} for row in items]


def _filters(request: Request) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(values to show, the API's query, errors) from the queue's query string."""
    query = request.query_params
    names = ("tingkat", "status", "kanal", "tim", "tenggat", "catatan")
    values = {name: query.get(name, "").strip()[:300] for name in names}
    params: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name, key, known in (("tingkat", "tier", t.TIERS), ("kanal", "channel", t.CHANNELS)):
        if values[name] in known:
            params[key] = values[name]
        elif values[name]:
            errors[name] = "Pilihan ini tidak dikenal."
    if values["status"] in t.STATUSES:
        params["status"] = values["status"]
    elif values["status"] != "semua":
        params["open"] = "true"
    if values["tim"]:
        params["team"] = values["tim"]
    if values["catatan"] in t.NOTE_FILTERS:
        params["new_notes"] = "true"
    elif values["catatan"]:
        errors["catatan"] = "Pilihan ini tidak dikenal."
    if values["tenggat"]:
        try:
            last_day = date.fromisoformat(values["tenggat"])
            params["due_before"] = datetime.combine(
                last_day + timedelta(days=1), datetime.min.time(), WIB
            ).isoformat()
        except ValueError:
            errors["tenggat"] = "Isi tanggal yang benar, misalnya 2031-03-04."
        except OverflowError:
            raise DateOutOfRange("Tenggat paling lambat") from None
    return values, params, errors


@router.get("/")
async def queue(request: Request, officer: Handler, halaman: int = 1) -> Response:
    values, params, errors = _filters(request)
    halaman = min(max(halaman, 1), 10_000)
    found = await _api(
        request,
        officer,
        "GET",
        "/complaints",
        params={**params, "page": str(halaman), "size": str(PAGE_SIZE)},
    )
    pages = max(1, -(-found["total"] // PAGE_SIZE))
    keep = "&".join(f"{name}={value}" for name, value in values.items() if value)
    return _page(
        request,
        "petugas/pengaduan/antrean.html",
        {
            "officer": officer,
            "rows": _rows(found["items"]),
            "values": values,
            "errors": errors,
            "total": found["total"],
            "halaman": halaman,
            "pages": pages,
            "keep": keep,
            "may_record": bool(officer.roles & RECORDERS),
        },
    )


@router.get("/saya")
async def my_cases(request: Request, officer: TeamMember, halaman: int = 1) -> Response:
    """The open cases assigned to this officer (the API's ``assignee`` filter), most urgent first,
    a page at a time. A case is assigned by account name (the *Tugaskan* form asks for it), so
    that is what is looked for: the provider's ``sub`` is a UUID on Keycloak, which nobody types."""
    halaman = min(max(halaman, 1), 10_000)
    found = await _api(
        request,
        officer,
        "GET",
        "/complaints",
        params={
            "assignee": officer.username,
            "open": "true",
            "page": str(halaman),
            "size": str(PAGE_SIZE),
        },
    )
    return _page(
        request,
        "petugas/pengaduan/saya.html",
        {
            "officer": officer,
            "rows": _rows(found["items"]),
            "total": found["total"],
            "halaman": halaman,
            "pages": max(1, -(-found["total"] // PAGE_SIZE)),
        },
    )


def _now_wib() -> str:
    return datetime.now(WIB).strftime("%Y-%m-%dT%H:%M")


def _form_page(
    request: Request,
    officer: Officer,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
    banner: str | None = None,
) -> Response:
    settings = portal_of(request).settings
    return _page(
        request,
        "petugas/pengaduan/baru.html",
        {
            "officer": officer,
            "values": values,
            "errors": errors,
            "banner": banner,
            "lampiran": lampiran,
            "max_files": settings.max_attachments,
            "max_mb": settings.max_attachment_bytes // 1_000_000,
        },
        status_code,
    )


@router.get("/baru")
async def new_complaint(request: Request, officer: Recorder) -> Response:
    values = {"received_at": _now_wib(), "disclosure": "named", "key": uuid.uuid4().hex}
    if kept := drafts.restored(request, officer.subject):  # posted after the session ended
        values |= kept.values()
    return _form_page(request, officer, values, {})


#: the new-complaint form's fields the officer API takes as they are
COMPLAINT_FIELDS = (
    "channel",
    "disclosure",
    "name",
    "email",
    "phone",
    "summary",
    "description",
    "tier",
    "external_ref",
)


def _complaint_body(values: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {name: values[name] or None for name in COMPLAINT_FIELDS}
    if body["channel"] != "sp4n_lapor":
        body["external_ref"] = None
    if body["disclosure"] == "anonymous":
        body["name"] = None
    received = values["received_at"]
    body["received_at"] = f"{received}:00+07:00" if len(received) == 16 else (received or None)
    return {key: value for key, value in body.items() if value is not None}


@router.post("/baru")
@drafts.form_on(f"{BASE}/baru")
async def record(request: Request, portal: PortalDep, officer: Recorder) -> Response:
    """Relays the form and its attachments to the officer API (multipart, streamed, one upload
    slot held: ``pengaduan_lampiran``), sent once by the form's key."""
    settings = portal.settings
    names = (*COMPLAINT_FIELDS, "received_at", "key")
    async with relay.upload_form(request, max_files=settings.max_attachments) as form:
        values = {name: text(form, name) for name in names}
        errors: dict[str, str] = {}
        if values["channel"] not in t.OFFICER_CHANNELS:
            errors["channel"] = "Pilih kanal tempat pengaduan diterima."
        files, file_names, too_many_or_large = lampiran.chosen(
            form, settings.max_attachments, settings.max_attachment_bytes
        )
        errors |= too_many_or_large
        if errors:
            return _form_page(request, officer, values, errors, 422)
        key = values["key"] if 8 <= len(values["key"]) <= 128 else uuid.uuid4().hex
        values["key"] = key
        try:
            made = await access.relayed(
                request,
                officer,
                lambda officer: _api(
                    request,
                    officer,
                    "POST",
                    "/complaints",
                    data=_form(list(_complaint_body(values).items())),
                    files=files,
                    headers={"Idempotency-Key": f"console-{officer.subject}-{key}"[:128]},
                ),
            )
        except (ApiError, BackendUnavailable, Throttled) as exc:
            if isinstance(exc, ApiError) and exc.status == 401:
                raise
            if (retry := relay.retry_status(exc)) is not None:  # perhaps recorded: the same key again
                return _form_page(request, officer, values, {}, retry[0], relay.BANNERS[retry[0]])
            if not isinstance(exc, ApiError):
                raise
            rest, errors = lampiran.refused(
                exc, file_names, settings.max_attachments, settings.max_attachment_bytes
            )
            if rest.errors or not errors:
                message, fields = t.refusal(rest)
                errors |= fields or {"": message}
            return _form_page(request, officer, values, errors, 422)
    return _page(request, "petugas/pengaduan/tercatat.html", {"officer": officer, "made": made}, 201)


async def _case(
    request: Request,
    officer: Officer,
    code: str,
    *,
    shown: bool = False,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    """The case page; the complainant's identity is masked unless ``shown`` (the officer pressed
    *Tampilkan identitas pelapor*: only then is the service's audited identity read)."""
    try:
        case = await _api(request, officer, "GET", f"/complaints/{code}")
        identity = await _api(request, officer, "GET", f"/complaints/{code}/complainant") if shown else None
    except ApiError as exc:
        if exc.status == 404:
            raise HTTPException(404) from None
        raise
    roles = officer.roles
    status, is_open = case["status"], case["status"] in ("received", "classified", "assigned", "reopened")
    may = {
        "classify": is_open,
        "assign": is_open and bool(case.get("tier")) and bool(roles & DISPATCHERS),
        "answer": status in ("assigned", "reopened") and bool(roles & ANSWERERS),
        "pause": is_open and not case.get("paused"),
        "resume": is_open and bool(case.get("paused")),
        "close": status == "answered",
    }
    return _page(
        request,
        "petugas/pengaduan/kasus.html",
        {
            "officer": officer,
            "case": case,
            "urgency": t.urgency(case),
            "may": may,
            "identity": identity,
            "positions": {
                ref["document_id"]: n for n, ref in enumerate(case.get("attachments", []), start=1)
            },
            "errors": errors or {},
            "values": values or {},
            "problem": problem,
            "done": t.DONE.get(step := request.query_params.get("selesai", "")),
            "catching_up": bool(step) and not t.shows_step(case, step),
        },
        status_code,
    )


@router.get("/{code}")
async def case_page(request: Request, officer: Handler, code: str) -> Response:
    if not _valid(code):
        raise HTTPException(404)
    kept = drafts.restored(request, officer.subject)  # a step posted after the session ended
    return await _case(request, officer, code, values=kept.prefixed() if kept else None)


@router.get("/{code}/lampiran/{document_id}")
async def attachment(
    request: Request, portal: PortalDep, officer: Handler, code: str, document_id: str
) -> Response:
    """One attachment, relayed from the service as it arrives with the officer's own token: the
    service checks the role and records the download (who, which case, which attachment)."""
    if not _valid(code) or re.fullmatch(DOCUMENT_ID, document_id) is None:
        raise HTTPException(404)
    try:
        download = await portal.complaints.download(
            f"/api/v1/officer/complaints/{code}/attachments/{document_id}", officer.bearer
        )
    except ApiError as exc:
        if exc.status == 404:
            raise HTTPException(404) from None
        if exc.status in (403, 410):
            problem = (
                "Lampiran ini telah dihapus bersama data pribadi pelapor."
                if exc.status == 410
                else "Peran Anda tidak mengizinkan mengunduh lampiran ini."
            )
            return await _case(request, officer, code, problem=problem, status_code=exc.status)
        raise
    return lampiran.Relayed(download, code)


@router.post("/{code}/tampilkan")
@drafts.form_on(f"{BASE}/{{code}}")
async def show_identity(request: Request, officer: Handler, code: str) -> Response:
    """The complainant's identity in clear: an explicit action (a POST, so no link preview or
    reload shows it by accident); the service audits the view."""
    await checked_form(request, max_files=0)
    if not _valid(code):
        raise HTTPException(404)
    return await _case(request, officer, code, shown=True)


ACTIONS = {  # console step → (API step, form fields → body)
    "klasifikasi": ("classify", ("tier",)),
    "tugaskan": ("assign", ("team", "assignee")),
    "tunda": ("pause", ("reason",)),
    "lanjutkan": ("resume", ()),
    "jawab": ("answer", ("answer",)),
    "tutup": ("close", ()),
}


@router.post("/{code}/{step}")
@drafts.form_on(f"{BASE}/{{code}}")
async def act(request: Request, officer: Handler, code: str, step: str) -> Response:
    form = await checked_form(request, max_files=0)
    if not _valid(code) or step not in ACTIONS:
        raise HTTPException(404)
    api_step, fields = ACTIONS[step]
    values = {name: text(form, name) for name in fields}
    body = {name: value for name, value in values.items() if value} if fields else None
    try:
        await _api(request, officer, "POST", f"/complaints/{code}/{api_step}", json=body)
    except ApiError as exc:
        if exc.status == 401:
            raise
        problem, errors = t.refusal(exc)
        status_code = exc.status if exc.status in (403, 404, 409, 422) else 400
        return await _case(
            request,
            officer,
            code,
            errors={f"{step}-{k}": v for k, v in errors.items()},
            values={f"{step}-{k}": v for k, v in values.items()},
            problem=problem,
            status_code=status_code,
        )
    return RedirectResponse(f"{BASE}/{code}?selesai={step}", status_code=303)


def _valid(code: str) -> bool:
    return re.fullmatch(CODE, code) is not None
