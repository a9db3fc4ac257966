"""Pimpinan: the supervisor's screens — complaints past their deadline (breaches, escalated to
the supervisor by the SLA clocks) and the monthly recap with charts, downloadable as CSV and
XLSX. Figures come from complaints' ``GET /api/v1/officer/reports/monthly`` and scheduling's
``GET /api/v1/reports/audiences``, each called with the officer's own token.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from serambi_calendar import WIB

from ...adapters import spreadsheets
from ...adapters.backend import ApiError
from ...domain import pengaduan as t
from ...domain import pimpinan as p
from ...domain.access import AREAS, ROLE_NAMES, Officer
from ..deps import PortalDep, portal_of, render
from .access import ConsoleRoute, allowed

AREA = next(area for area in AREAS if area.slug == "pimpinan")
PAGE_SIZE = 25
MONTH = r"^(19|20|21)\d\d-(0[1-9]|1[0-2])$"

router = APIRouter(prefix="/pimpinan", route_class=ConsoleRoute)  # inside the console's
Supervisor = Annotated[Officer, Depends(allowed(AREA))]


def _page(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    return render(
        request,
        template,
        {"ROLE_NAMES": ROLE_NAMES, "t": t, "p": p, "area": AREA, **context},
        status_code,
        private=True,
    )


def _month(request: Request) -> tuple[str, str | None]:
    """The month asked for (``bulan=YYYY-MM``), this month in WIB when none, and an error."""
    value = request.query_params.get("bulan", "").strip()[:20]
    if not value:
        return datetime.now(WIB).strftime("%Y-%m"), None
    if re.fullmatch(MONTH, value):
        return value, None
    return datetime.now(WIB).strftime("%Y-%m"), "Isi bulan dengan benar, misalnya 2031-03."


@router.get("/")
async def breaches(
    request: Request, portal: PortalDep, officer: Supervisor, halaman: int = 1, semua: str = ""
) -> Response:
    """Complaints that passed a deadline (the SLA clocks escalate them to the supervisor),
    open ones by default, the soonest deadline first."""
    halaman = min(max(halaman, 1), 10_000)
    params = {"breached": "true", "page": str(halaman), "size": str(PAGE_SIZE)}
    if not semua:
        params["open"] = "true"
    found = await portal.complaints.json(
        "GET", "/api/v1/officer/complaints", headers=officer.bearer, params=params
    )
    return _page(
        request,
        "petugas/pimpinan/pelanggaran.html",
        {
            "officer": officer,
            "rows": [{**row, "urgency": t.urgency(row)} for row in found["items"]],
            "total": found["total"],
            "halaman": halaman,
            "pages": max(1, -(-found["total"] // PAGE_SIZE)),
            "semua": bool(semua),
            "keep": "semua=1" if semua else "",
            "may_open": officer.may(next(area for area in AREAS if area.slug == "pengaduan")),
        },
    )


async def _figures(
    request: Request, officer: Officer, month: str
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    portal = portal_of(request)
    report = await portal.complaints.json(
        "GET", "/api/v1/officer/reports/monthly", headers=officer.bearer, params={"month": month}
    )
    try:
        audiences = await portal.scheduling.json(
            "GET", "/api/v1/reports/audiences", headers=officer.bearer, params={"month": month}
        )
    except ApiError as exc:
        if exc.status == 401:
            raise
        audiences = None  # shown as "tidak tersedia"; the complaints' figures still stand
    return report, audiences


@router.get("/rekap")
async def recap(request: Request, officer: Supervisor) -> Response:
    month, error = _month(request)
    report, audiences = await _figures(request, officer, month)
    charts = [p.rate_chart(report, "tier"), p.rate_chart(report, "channel"), p.volume_chart(report)]
    return _page(
        request,
        "petugas/pimpinan/rekap.html",
        {
            "officer": officer,
            "month": month,
            "error": error,
            "report": report,
            "audiences": audiences,
            "charts": charts,
        },
        422 if error else 200,
    )


@router.get("/rekap.csv")
async def recap_csv(request: Request, officer: Supervisor) -> Response:
    month, _ = _month(request)
    header, table = p.rows(*await _figures(request, officer, month))
    return Response(
        spreadsheets.to_csv(header, table).encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="rekap-{month}.csv"'},
    )


@router.get("/rekap.xlsx")
async def recap_xlsx(request: Request, officer: Supervisor) -> Response:
    month, _ = _month(request)
    header, table = p.rows(*await _figures(request, officer, month))
    return Response(
        spreadsheets.to_xlsx(header, table, month),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="rekap-{month}.xlsx"'},
    )
