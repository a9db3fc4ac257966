"""Meja informasi: the desk's screens over intake's officer API.

Today's guest book (register a guest, optionally linked to a request by its tracking code), a
request submitted for a walk-in visitor or from a letter received (with the scanned documents,
sent once through an Idempotency-Key) and its printable receipt, and the request list. Every call
relays the officer's own token; intake enforces the desk role.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from serambi_calendar import WIB
from starlette.datastructures import FormData

from ...adapters.backend import ApiError, BackendUnavailable, Throttled
from ...adapters.services import _form
from ...adapters.session import PATH
from ...domain import penjadwalan as pt
from ...domain.access import AREAS, ROLE_NAMES, Officer
from ...domain.meja import (
    CHANNELS,
    GUEST_FIELD_OF,
    GUEST_FIELDS,
    GUEST_LABELS,
    GUEST_RULES,
    INSTITUTION_TYPES,
    RECEIVED,
    STATUSES,
    guest_body,
)
from ...domain.messages import field_errors, too_large
from .. import relay
from ..deps import PortalDep, checked_form, portal_of, render, text
from ..errors import DateOutOfRange
from ..portal.audiensi import DOCUMENTS, FIELDS, _documents
from . import access, drafts
from .access import ConsoleRoute, allowed

AREA = next(area for area in AREAS if area.slug == "meja")
BASE = f"{PATH}/meja"
PAGE_SIZE = 25
CODE = r"^[A-Za-z0-9_-]{1,64}$"
router = APIRouter(prefix="/meja", route_class=ConsoleRoute)
Desk = Annotated[Officer, Depends(allowed(AREA))]


def _page(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    names = {"STATUSES": STATUSES, "CHANNELS": CHANNELS, "INSTITUTION_TYPES": INSTITUTION_TYPES}
    return render(
        request,
        template,
        {"ROLE_NAMES": ROLE_NAMES, "t": pt, "area": AREA, **names, **context},
        status_code,
        private=True,
    )


async def _guests_page(
    request: Request, officer: Officer, values: dict[str, str], errors: dict[str, str], status_code: int = 200
) -> Response:
    book = await portal_of(request).intake.json("GET", "/api/v1/officer/guestbook", headers=officer.bearer)
    guests = book["guests"]
    pages = max(1, -(-len(guests) // PAGE_SIZE))
    halaman = min(max(_int(request.query_params.get("halaman"), 1), 1), pages)
    return _page(
        request,
        "petugas/meja/tamu.html",
        {
            "officer": officer,
            "guests": guests[(halaman - 1) * PAGE_SIZE : halaman * PAGE_SIZE],
            "total": len(guests),
            "day": date.fromisoformat(book["day"]),
            "halaman": halaman,
            "pages": pages,
            "values": values,
            "errors": errors,
            "done": request.query_params.get("selesai") == "tamu",
        },
        status_code,
    )


@router.get("/")
async def guest_book(request: Request, officer: Desk, kode: str = "") -> Response:
    values = {"request_tracking_code": kode[:64]}
    if kept := drafts.restored(request, officer.subject):  # posted after the session ended
        values |= kept.values()
    return await _guests_page(request, officer, values, {})


@router.post("/tamu")
@drafts.form_on(f"{BASE}/")
async def register_guest(request: Request, portal: PortalDep, officer: Desk) -> Response:
    form = await checked_form(request, max_files=0)
    values = {name: text(form, name)[:300] for name in GUEST_FIELDS}
    errors = {
        name: f"{GUEST_LABELS[name]} wajib diisi."
        for name in ("name", "institution", "purpose")
        if not values[name]
    }
    if not errors:
        body = guest_body(values)
        try:
            await portal.intake.json("POST", "/api/v1/officer/guests", json=body, headers=officer.bearer)
        except ApiError as exc:
            if exc.status in (401, 403):
                raise
            for item in exc.errors:
                field = str(item.get("field", "")).split(".")[-1]
                field = GUEST_FIELD_OF.get(field, field)
                label = GUEST_LABELS.get(field, "Isian")
                message = GUEST_RULES.get(field, f"{label}: isian ini tidak dapat diterima. Periksa kembali.")
                errors.setdefault(field if field in GUEST_LABELS else "name", message)
            errors = errors or {"name": "Tamu belum dapat dicatat. Periksa kembali isian."}
        else:
            return RedirectResponse(f"{BASE}/?selesai=tamu", status_code=303)
    return await _guests_page(request, officer, values, errors, 422)


@router.get("/permohonan")
async def requests(request: Request, portal: PortalDep, officer: Desk) -> Response:
    """Intake's request list, newest first, 25 a page, filtered by status, institution, dates."""
    query = request.query_params
    values = {name: query.get(name, "").strip()[:300] for name in ("status", "instansi", "dari", "sampai")}
    params: dict[str, str] = {}
    errors: dict[str, str] = {}
    if values["status"] in STATUSES:
        params["status"] = values["status"]
    if values["instansi"]:
        params["institution"] = values["instansi"]
    for name, key, shift in (("dari", "submitted_from", 0), ("sampai", "submitted_to", 1)):
        if values[name]:
            try:
                day = date.fromisoformat(values[name]) + timedelta(days=shift)
                params[key] = datetime.combine(day, datetime.min.time(), WIB).isoformat()
            except ValueError:
                errors[name] = "Isi tanggal yang benar, misalnya 2031-03-04."
            except OverflowError:
                raise DateOutOfRange("Diajukan sejak" if name == "dari" else "Diajukan sampai") from None
    halaman = min(max(_int(query.get("halaman"), 1), 1), 10_000)
    found = await portal.intake.json(
        "GET",
        "/api/v1/officer/requests",
        headers=officer.bearer,
        params={**params, "page": str(halaman), "size": str(PAGE_SIZE)},
    )
    keep = "&".join(f"{name}={value}" for name, value in values.items() if value)
    return _page(
        request,
        "petugas/meja/permohonan.html",
        {
            "officer": officer,
            "rows": found["items"],
            "total": found.get("total", len(found["items"])),
            "values": values,
            "errors": errors,
            "halaman": halaman,
            "pages": max(1, -(-found.get("total", 0) // PAGE_SIZE)),
            "keep": keep,
        },
    )


def _form_page(
    request: Request,
    officer: Officer,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    *,
    key: str | None = None,
    banner: str | None = None,
) -> Response:
    dates = list(values.get("proposed_dates", []))
    return _page(
        request,
        "petugas/meja/baru.html",
        {
            "officer": officer,
            "values": values,
            "errors": errors or {},
            "banner": banner,
            "dates": (dates + [""] * 3)[: max(3, len(dates))],
            "idempotency": key or relay.new_key(),
            "max_mb": portal_of(request).settings.max_document_bytes // 1_000_000,
        },
        status_code,
    )


@router.get("/permohonan/baru")
async def new_request(request: Request, officer: Desk) -> Response:
    values: dict[str, Any] = {"participants": "1", "channel": "desk"}
    if not (kept := drafts.restored(request, officer.subject)):  # posted after the session ended?
        return _form_page(request, officer, values)
    values |= kept.values() | {"proposed_dates": kept.fields.get("proposed_dates", [])}
    return _form_page(request, officer, values, key=relay.key_of(FormData(kept.values())))


@router.post("/permohonan/baru")
@drafts.form_on(f"{BASE}/permohonan/baru")
async def submit_request(request: Request, portal: PortalDep, officer: Desk) -> Response:
    """Relays the form and its scans to intake's officer route (multipart, Idempotency-Key)."""
    max_bytes = portal.settings.max_document_bytes
    async with relay.upload_form(request, max_files=len(DOCUMENTS)) as posted:
        values: dict[str, Any] = {name: text(posted, name) for name in (*FIELDS, "channel", "received_at")}
        values["proposed_dates"] = [
            d.strip() for d in posted.getlist("proposed_dates") if isinstance(d, str) and d.strip()
        ]
        key = relay.key_of(posted)
        channel = "letter" if values["channel"] == "letter" else "desk"
        files, missing, oversized = _documents(posted, max_bytes)
        if oversized:
            errors = {name: too_large(name, f"{max_bytes // 1_000_000} MB")[name] for name in oversized}
            return _form_page(request, officer, values, errors, 422, key=key)
        fields = [(name, values[name]) for name in FIELDS] + [("channel", channel)]
        fields += [("proposed_dates", value) for value in values["proposed_dates"]]
        if channel == "letter" and values["received_at"]:
            fields.append(("received_at", values["received_at"]))  # naive: WIB for intake
        try:
            answer = await access.relayed(
                request,
                officer,
                lambda officer: portal.intake.json(
                    "POST",
                    "/api/v1/officer/requests",
                    data=_form(fields),
                    files=files,
                    headers={**officer.bearer, "Idempotency-Key": f"console-{key}"},
                ),
            )
        except (ApiError, BackendUnavailable, Throttled) as error:
            if isinstance(error, ApiError) and error.status in (401, 403):
                raise
            if (retry := relay.retry_status(error)) is not None:
                return _form_page(
                    request, officer, values, status_code=retry[0], key=key, banner=relay.BANNERS[retry[0]]
                )
            if not isinstance(error, ApiError) or error.status not in (413, 415, 422):
                raise
            errors = _errors(error, max_bytes)
            for name in missing:
                errors.setdefault(name, "Lampirkan pindaian berkas ini.")
            return _form_page(request, officer, values, errors, 422, key=key)
    return _page(
        request,
        "petugas/meja/tanda-terima.html",
        {
            "officer": officer,
            "answer": answer,
            "values": values,
            "channel": channel,
            "submitted": datetime.now(WIB),
        },
        201,
    )


def _errors(error: ApiError, max_bytes: int) -> dict[str, str]:
    errors = {}
    for item in error.errors:
        if str(item.get("field", "")).split(".")[-1] == "received_at":
            errors["received_at"] = RECEIVED.get(str(item.get("rule")), RECEIVED["missing"])
    rest = ApiError(
        error.status, [i for i in error.errors if "received_at" not in str(i.get("field"))], error.detail
    )
    if rest.errors or not errors:
        errors |= field_errors(rest, dict.fromkeys(DOCUMENTS, f"{max_bytes // 1_000_000} MB"))
    return errors


def _int(value: str | None, default: int) -> int:
    try:
        return int(value or default)
    except ValueError:
        return default
