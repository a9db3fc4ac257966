"""The satisfaction survey in the console: the desk types in a paper questionnaire
(``/petugas/meja/survei``), the supervisor reads the figures (``/petugas/pimpinan/survei``).
Both call intake's officer API with the officer's own token; intake enforces the roles.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response
from serambi_calendar import WIB

from ...adapters.backend import ApiError
from ...adapters.session import PATH
from ...domain.access import AREAS, ROLE_NAMES, Officer
from ...domain.survei import CATEGORIES, PERIOD, SERVICES, number, period_label
from ..deps import PortalDep, checked_form, portal_of, render
from ..portal.survei import MAX_SUGGESTION, PROFILE, read_answers
from .access import ConsoleRoute, allowed
from .pimpinan_laporan import FILES, relay_file

DESK = next(area for area in AREAS if area.slug == "meja")
SUPERVISOR = next(area for area in AREAS if area.slug == "pimpinan")

desk_router = APIRouter(prefix="/meja", route_class=ConsoleRoute)
supervisor_router = APIRouter(prefix="/pimpinan", route_class=ConsoleRoute)
Desk = Annotated[Officer, Depends(allowed(DESK))]
Supervisor = Annotated[Officer, Depends(allowed(SUPERVISOR))]


async def _instrument(request: Request) -> list[dict[str, Any]]:
    return (await portal_of(request).intake.json("GET", "/api/v1/survey/instrument"))["elements"]


async def _paper_page(
    request: Request, officer: Officer, values: dict[str, str], errors: dict[str, str], status_code: int = 200
) -> Response:
    return render(
        request,
        "petugas/meja/survei.html",
        {
            "ROLE_NAMES": ROLE_NAMES,
            "area": DESK,
            "officer": officer,
            "elements": await _instrument(request),
            "values": values,
            "errors": errors,
            "profile": PROFILE,
            "services": SERVICES,
            "max_suggestion": MAX_SUGGESTION,
            "done": request.query_params.get("selesai") == "survei",
        },
        status_code,
        private=True,
    )


@desk_router.get("/survei")
async def paper_form(request: Request, officer: Desk) -> Response:
    return await _paper_page(request, officer, {}, {})


@desk_router.post("/survei")
async def record_paper(request: Request, portal: PortalDep, officer: Desk) -> Response:
    posted = await checked_form(request, max_files=0)
    values, errors, body = read_answers(posted, await _instrument(request), ("service",))
    if values["service"] in SERVICES:
        body["service"] = values["service"]
    else:
        errors["service"] = "Pilih layanan yang dinilai."
    if not errors:
        try:
            await portal.intake.json(
                "POST", "/api/v1/officer/survey/paper", json=body, headers=officer.bearer
            )
        except ApiError as exc:
            if exc.status in (401, 403):
                raise
            errors["formulir"] = "Kuesioner belum dapat dicatat. Periksa kembali isian."
        else:
            return RedirectResponse(f"{PATH}/meja/survei?selesai=survei", status_code=303)
    return await _paper_page(request, officer, values, errors, 422)


def _default_period() -> str:
    now = datetime.now(WIB)
    return f"{now.year}-S{1 if now.month <= 6 else 2}"


def _chosen(request: Request) -> tuple[str, str, dict[str, str]]:
    """(service, period, errors) from ``layanan`` and ``periode``; a wrong one falls back."""
    query = request.query_params
    service = query.get("layanan", "audiensi")
    period = query.get("periode", "").strip()[:10] or _default_period()
    errors: dict[str, str] = {}
    if service not in SERVICES:
        errors["layanan"], service = "Pilih audiensi atau pengaduan.", "audiensi"
    if not re.fullmatch(PERIOD, period):
        errors["periode"] = "Isi periode: tahun (2026), semester (2026-S1) atau bulan (2026-03)."
        period = _default_period()
    return service, period, errors


@supervisor_router.get("/survei")
async def figures(request: Request, portal: PortalDep, officer: Supervisor) -> Response:
    service, period, errors = _chosen(request)
    report = await portal.intake.json(
        "GET",
        "/api/v1/officer/survey/report",
        headers=officer.bearer,
        params={"service": service, "period": period},
    )
    return render(
        request,
        "petugas/pimpinan/survei.html",
        {
            "ROLE_NAMES": ROLE_NAMES,
            "area": SUPERVISOR,
            "officer": officer,
            "report": report,
            "service": service,
            "period": period,
            "services": SERVICES,
            "errors": errors,
            "profile": PROFILE,
            "label": period_label(period),
            "number": number,
            "CATEGORIES": CATEGORIES,
            "FILES": FILES,
        },
        422 if errors else 200,
        private=True,
    )


@supervisor_router.get("/survei.{ext}")
async def figures_file(
    request: Request, officer: Supervisor, ext: Annotated[str, Path(pattern=r"^(csv|xlsx)$")]
) -> Response:
    """The figures as CSV or XLSX, from intake (the officer's token; what intake withholds below
    five respondents is withheld from the file too), relayed as a download."""
    service, period, errors = _chosen(request)
    if errors:
        raise HTTPException(422, " ".join(errors.values()))
    return await relay_file(
        request,
        officer,
        "intake",
        "/api/v1/officer/survey/report",
        {"service": service, "period": period, "format": ext},
        f"survei-{service}-{period}.{ext}",
    )
