"""Administrasi (role admin): rooms and hosting officials over scheduling's admin API (listed
and registered with the officer's own token). The working calendar and its revisions are
``kalender``'s screens, the dead letters and personal-data erasure ``pemeliharaan``'s; both are
included here.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from ...adapters.backend import ApiError
from ...adapters.session import PATH
from ...domain.access import AREAS, ROLE_NAMES, Officer
from ..deps import PortalDep, checked_form, portal_of, render, text
from . import drafts, kalender, pemeliharaan
from .access import ConsoleRoute, allowed

AREA = next(area for area in AREAS if area.slug == "admin")
PAGE_SIZE = 25
BASE = f"{PATH}/admin"
FORMS = {  # form → (API path, its fields)
    "ruang": ("/api/v1/rooms", ("room_id", "name", "capacity", "location")),
    "pejabat": ("/api/v1/hosts", ("host_id", "name", "position")),
}
FIELDS = {
    "room_id": "Kode ruang",
    "host_id": "Kode pejabat",
    "name": "Nama",
    "capacity": "Kapasitas",
    "location": "Lokasi",
    "position": "Jabatan",
}

router = APIRouter(prefix="/admin", route_class=ConsoleRoute)  # inside the console's
Administrator = Annotated[Officer, Depends(allowed(AREA))]


def _page(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    return render(
        request, template, {"ROLE_NAMES": ROLE_NAMES, "area": AREA, **context}, status_code, private=True
    )


def _paged(items: list[dict[str, Any]], number: int) -> tuple[list[dict[str, Any]], int, int]:
    pages = max(1, -(-len(items) // PAGE_SIZE))
    number = min(max(number, 1), pages)
    return items[(number - 1) * PAGE_SIZE : number * PAGE_SIZE], number, pages


@router.get("/")
async def resources(request: Request, officer: Administrator, ruang: int = 1, pejabat: int = 1) -> Response:
    """Rooms and hosts (scheduling lists them whole; the screen pages them)."""
    kept = drafts.restored(request, officer.subject)  # a form posted after the session ended
    return await _resources(request, officer, ruang, pejabat, values=kept.prefixed() if kept else None)


async def _resources(
    request: Request,
    officer: Officer,
    ruang: int = 1,
    pejabat: int = 1,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    scheduling = portal_of(request).scheduling
    rooms = (await scheduling.call("GET", "/api/v1/rooms", headers=officer.bearer)).json()
    hosts = (await scheduling.call("GET", "/api/v1/hosts", headers=officer.bearer)).json()
    room_rows, ruang, room_pages = _paged(rooms, ruang)
    host_rows, pejabat, host_pages = _paged(hosts, pejabat)
    return _page(
        request,
        "petugas/admin/ruang.html",
        {
            "officer": officer,
            "rooms": room_rows,
            "room_total": len(rooms),
            "ruang": ruang,
            "room_pages": room_pages,
            "hosts": host_rows,
            "host_total": len(hosts),
            "pejabat": pejabat,
            "host_pages": host_pages,
            "errors": errors or {},
            "values": values or {},
            "problem": problem,
            "done": {"ruang": "Ruang telah didaftarkan.", "pejabat": "Pejabat telah didaftarkan."}.get(
                request.query_params.get("selesai", "")
            ),
        },
        status_code,
    )


def _refusal(error: ApiError, form: str) -> tuple[str, dict[str, str]]:
    if error.status == 403:
        return "Peran Anda tidak mengizinkan langkah ini.", {}
    if error.status == 409:
        return f"Kode {'ruang' if form == 'ruang' else 'pejabat'} itu sudah terdaftar. Pakai kode lain.", {}
    fields = {}
    for item in error.errors:
        field = str(item.get("field", "")).split(".")[-1]
        fields.setdefault(
            f"{form}-{field}",
            f"{FIELDS.get(field, 'Isian')} belum benar: periksa kembali "
            "(kode hanya huruf, angka, - dan _; kapasitas 1 sampai 1000).",
        )
    return "Isian belum dapat diterima. Periksa kembali.", fields


@router.post("/{form}")
@drafts.form_on(f"{BASE}/")
async def register(request: Request, portal: PortalDep, officer: Administrator, form: str) -> Response:
    posted = await checked_form(request, max_files=0)
    if form not in FORMS:
        return RedirectResponse(f"{BASE}/", status_code=303)
    path, names = FORMS[form]
    values = {name: text(posted, name) for name in names}
    body: dict[str, Any] = dict(values)
    if "capacity" in body:
        body["capacity"] = int(body["capacity"]) if re.fullmatch(r"\d{1,4}", body["capacity"]) else 0
    try:
        await portal.scheduling.json("POST", path, json=body, headers=officer.bearer)
    except ApiError as exc:
        if exc.status == 401:
            raise
        problem, errors = _refusal(exc, form)
        return await _resources(
            request,
            officer,
            errors=errors,
            problem=problem,
            values={f"{form}-{k}": v for k, v in values.items()},
            status_code=exc.status if exc.status in (403, 409, 422) else 400,
        )
    return RedirectResponse(f"{BASE}/?selesai={form}", status_code=303)


@router.get("/pemeliharaan")
async def maintenance(officer: Administrator) -> Response:
    """The former page of both: now the dead letters and the erasure have their own."""
    return RedirectResponse(f"{BASE}/dead-letter", status_code=308)


router.include_router(kalender.router)  # /admin/kalender, /admin/kalender/revisi
router.include_router(pemeliharaan.router)  # /admin/dead-letter…, /admin/penghapusan…
