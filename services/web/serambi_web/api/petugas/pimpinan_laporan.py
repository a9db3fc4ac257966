"""Laporan: the reports the bureau sends upward, for the supervisor — audiences (per channel,
answered within 3 working days with the late ones, outcomes, median working time to answer),
complaints (tier and triage on-time rates per channel and team, reopened complaints) and the
guest book (names masked) — with SVG charts (``serambi_kit.tabular.bar_chart_svg``) and CSV/XLSX
downloads relayed from the services with the officer's own token:

- scheduling ``GET /api/v1/reports/audiences``;
- complaints ``GET /api/v1/officer/reports/monthly``;
- intake ``GET /api/v1/officer/guestbook/counts`` for the page (guests per day, no names read)
  and ``GET /api/v1/officer/guestbook/export`` for the files (names masked: a supervisor may not
  ask for them in clear).

``relay_file`` is the one way a report file reaches the console (the survey page uses it too).

The three services are asked at once (``asyncio.gather``). The values' Indonesian names
(channels, outcomes, tiers, teams) come with each report (``labels``): the page keeps no copy.

A section whose service does not answer says so; the others still show.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import Response
from markupsafe import Markup
from serambi_calendar import WIB
from serambi_kit.downloads import download_headers
from serambi_kit.tabular import Bar, bar_chart_svg

from ...adapters.backend import ApiError, BackendUnavailable
from ...domain import pengaduan as t
from ...domain import pimpinan as p
from ...domain.access import AREAS, ROLE_NAMES, Officer
from ..deps import portal_of
from .access import ConsoleRoute, allowed
from .pimpinan import _month, _page

AREA = next(area for area in AREAS if area.slug == "pimpinan")
router = APIRouter(prefix="/pimpinan", route_class=ConsoleRoute)
Supervisor = Annotated[Officer, Depends(allowed(AREA))]

SOURCES = {  # file name → (service, path, title)
    "audiensi": ("scheduling", "/api/v1/reports/audiences", "Audiensi"),
    "pengaduan": ("complaints", "/api/v1/officer/reports/monthly", "Pengaduan"),
    "buku-tamu": ("intake", "/api/v1/officer/guestbook/export", "Buku tamu"),
}
FILES = {"csv": "CSV", "xlsx": "XLSX"}


def wib(text: str | None) -> str:
    """An instant from a service's JSON as a person reads it: 2 Mar 2026 09.30 WIB."""
    if not text:
        return "—"
    return t.when(datetime.fromisoformat(text).astimezone(WIB).isoformat())


def hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}".replace(".", ",")


async def _json(
    request: Request, officer: Officer, name: str, month: str, path: str | None = None
) -> dict[str, Any] | None:
    service, source, _ = SOURCES[name]
    path = path or source
    backend = getattr(portal_of(request), service)
    try:
        return await backend.json("GET", path, headers=officer.bearer, params={"month": month})
    except ApiError as exc:
        if exc.status == 401:
            raise
        return None  # shown as "tidak tersedia"; the other sections stand
    except BackendUnavailable:
        return None


def _chart(
    ident: str, title: str, description: str, bars: list[Bar], scale: float | None = None
) -> tuple[str, Markup]:
    """(title, SVG markup): the title is shown above the chart too."""
    return title, Markup(bar_chart_svg(ident, title, description, bars, scale))  # noqa: S704 - escaped by the kit


def labels(report: dict[str, Any] | None, key: str) -> dict[str, str]:
    """The service's names of a report's values (``labels``); a key without one shows as is."""
    return ((report or {}).get("labels") or {}).get(key) or {}


def audience_charts(report: dict[str, Any]) -> list[tuple[str, Markup]]:
    channels, outcomes = labels(report, "channels"), labels(report, "outcomes")
    return [
        _chart(
            "laporan-audiensi-kanal",
            "Permohonan audiensi per kanal",
            "Batang: jumlah permohonan audiensi bulan ini per kanal. Angkanya ada di tabel berikut.",
            [Bar(channels.get(k, k), n, f"{n} permohonan") for k, n in report["channels"].items()],
        ),
        _chart(
            "laporan-audiensi-hasil",
            "Hasil permohonan audiensi",
            "Batang: jumlah permohonan audiensi bulan ini menurut keadaannya sekarang. "
            "Angkanya ada di tabel berikut.",
            [Bar(outcomes.get(k, k), n, f"{n} permohonan") for k, n in report["outcomes"].items()],
        ),
    ]


def complaint_chart(report: dict[str, Any], dimension: str, heading: str) -> tuple[str, Markup]:
    names = labels(report, dimension)
    bars = [
        Bar(
            names.get(key, key),
            (f["on_time_rate"] or 0.0) * 100,
            f"{p.percent(f['on_time_rate'])} dari {f['due']}",
        )
        for key, f in report.get(dimension, {}).items()
        if f["received"]
    ]
    return _chart(
        f"laporan-pengaduan-{dimension}",
        f"Tingkat tepat waktu per {heading}",
        f"Batang: persentase pengaduan yang dijawab dalam tenggat tingkatnya, dari yang sudah "
        f"dijawab atau sudah lewat tenggat, per {heading}. Angkanya ada di tabel berikut.",
        bars,
        100.0,
    )


GUEST_COUNTS = "/api/v1/officer/guestbook/counts"


def guest_days(book: dict[str, Any]) -> list[tuple[str, int]]:
    return [(row["day"], row["count"]) for row in book["days"]]


@router.get("/laporan")
async def reports_page(request: Request, officer: Supervisor) -> Response:
    month, error = _month(request)
    audiences, complaints, book = await asyncio.gather(
        _json(request, officer, "audiensi", month),
        _json(request, officer, "pengaduan", month),
        _json(request, officer, "buku-tamu", month, GUEST_COUNTS),
    )
    days = guest_days(book) if book else []
    return _page(
        request,
        "petugas/pimpinan/laporan.html",
        {
            "officer": officer,
            "month": month,
            "error": error,
            "ROLE_NAMES": ROLE_NAMES,
            "FILES": FILES,
            "audiences": audiences,
            "complaints": complaints,
            "book": book,
            "days": days,
            "audience_charts": audience_charts(audiences) if audiences else [],
            "complaint_charts": [
                complaint_chart(complaints, "channel", "kanal"),
                complaint_chart(complaints, "team", "tim"),
            ]
            if complaints
            else [],
            "guest_chart": _chart(
                "laporan-buku-tamu",
                "Tamu per hari",
                "Batang: jumlah tamu yang mengisi buku tamu pada tiap hari bulan ini yang ada "
                "tamunya. Angkanya ada di tabel berikut.",
                [Bar(day, n, f"{n} tamu") for day, n in days],
            )
            if book
            else None,
            "labels": labels,
            "wib": wib,
            "hours": hours,
        },
        422 if error else 200,
    )


@router.get("/laporan/{name}.{ext}")
async def report_file(
    request: Request,
    officer: Supervisor,
    name: Annotated[str, Path(pattern=r"^(audiensi|pengaduan|buku-tamu)$")],
    ext: Annotated[str, Path(pattern=r"^(csv|xlsx)$")],
) -> Response:
    """The section's figures as a file, from its service (the officer's token), as a download."""
    month, error = _month(request)
    if error:
        raise HTTPException(422, error)
    service, path, _ = SOURCES[name]
    return await relay_file(
        request, officer, service, path, {"month": month, "format": ext}, f"{name}-{month}.{ext}"
    )


async def relay_file(
    request: Request, officer: Officer, service: str, path: str, params: dict[str, str], filename: str
) -> Response:
    """A service's CSV/XLSX (asked with the officer's own token) relayed as a download named
    ``filename``; the survey page's files come through here too (``survei.py``)."""
    backend = getattr(portal_of(request), service)
    reply = await backend.call("GET", path, headers=officer.bearer, params=params)
    return Response(
        reply.content,
        media_type=reply.headers.get("content-type", "application/octet-stream"),
        headers=download_headers(filename),
    )
