"""Administrasi → Kalender kerja: the year as the services count it, and its revisions.

The year comes from scheduling's ``GET /api/v1/calendar/working-days`` (the override file and
every revision made since), not from a file of web's own. The form adds or revises a holiday or
*cuti bersama* — add, make a working day again, move — with its decree, through scheduling's
``POST /api/v1/calendar/working-days`` (role admin): scheduling records it, moves the open
audience deadlines it changes at once, and complaints and intake follow within their refresh
interval (docs/calendar.md).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from ...adapters.backend import ApiError
from ...adapters.session import PATH
from ...domain.access import AREAS, ROLE_NAMES, Officer
from ...domain.kalender import ACTIONS, FIELDS, REFUSALS, calendar_rows, day_text, revision_body
from ..deps import PortalDep, checked_form, portal_of, render, text
from .access import ConsoleRoute, allowed

AREA = next(area for area in AREAS if area.slug == "admin")
BASE = f"{PATH}/admin/kalender"
router = APIRouter(route_class=ConsoleRoute)  # included by admin.router (prefix /admin)
Administrator = Annotated[Officer, Depends(allowed(AREA))]


async def _page(
    request: Request,
    officer: Officer,
    year: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    found, broken = None, None
    try:
        found = await portal_of(request).scheduling.json(
            "GET", "/api/v1/calendar/working-days", params={"year": year}, headers=officer.bearer
        )
    except ApiError as exc:
        if exc.status == 401:
            raise
        broken = "Penjadwalan tidak dapat memberikan kalender tahun itu."
    done = None
    if revision := request.query_params.get("revisi", ""):
        moved = request.query_params.get("dipindah", "0")
        done = (
            f"Revisi kalender {revision} disimpan. Tenggat {moved} audiensi yang masih menunggu jawaban "
            "dihitung ulang sekarang; pengaduan dan permohonan baru mengikuti dalam setengah menit."
        )
    return render(
        request,
        "petugas/admin/kalender.html",
        {
            "ROLE_NAMES": ROLE_NAMES,
            "area": AREA,
            "officer": officer,
            "year": year,
            "revision": (found or {}).get("revision", ""),
            "rows": calendar_rows((found or {}).get("days", [])),
            "revisions": (found or {}).get("revisions", []),
            "broken": broken,
            "ACTIONS": ACTIONS,
            "values": values or {"action": "add"},
            "errors": errors or {},
            "problem": problem,
            "done": done,
            "day_text": lambda text: day_text(date.fromisoformat(text)) if text else "—",
        },
        status_code,
        private=True,
    )


@router.get("/kalender")
async def working_calendar(request: Request, officer: Administrator, tahun: int | None = None) -> Response:
    year = tahun if tahun and 2000 <= tahun <= 2100 else date.today().year
    return await _page(request, officer, year)


@router.post("/kalender/revisi")
async def revise(request: Request, portal: PortalDep, officer: Administrator) -> Response:
    form = await checked_form(request, max_files=0)
    values = {name: text(form, name)[:300] for name in FIELDS}
    body, errors = revision_body(values)
    year = int(body["day"][:4]) if "day" in body else date.today().year
    if not errors:
        try:
            done = await portal.scheduling.json(
                "POST", "/api/v1/calendar/working-days", json=body, headers=officer.bearer
            )
        except ApiError as exc:
            if exc.status == 401:
                raise
            if exc.status == 403:
                return await _page(
                    request,
                    officer,
                    year,
                    values=values,
                    status_code=403,
                    problem="Peran Anda tidak mengizinkan langkah ini.",
                )
            for item in exc.errors:
                field, rule = str(item.get("field", "")).split(".")[-1], str(item.get("rule", ""))
                name, message = REFUSALS.get((field, rule), (field if field in FIELDS else "day", ""))
                if not message:
                    message = (
                        "Tanggal di luar jangkauan revisi (tahun lalu sampai dua tahun ke depan)."
                        if "outside the years" in str(item.get("message", ""))
                        else "Isian ini tidak dapat diterima. Periksa kembali."
                    )
                errors.setdefault(name, message)
            errors = errors or {"day": "Perubahan itu tidak dapat diterima. Periksa kembali."}
        else:
            query = urlencode({"tahun": year, "revisi": done["revision"], "dipindah": done["moved"]})
            return RedirectResponse(f"{BASE}?{query}#revisi", status_code=303)
    return await _page(
        request,
        officer,
        year,
        values=values,
        errors=errors,
        status_code=422,
        problem="Revisi kalender belum dapat disimpan. Periksa kembali.",
    )
