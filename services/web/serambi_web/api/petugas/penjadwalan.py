"""Penjadwalan: the scheduler's screens over scheduling's officer API.

A week of rooms and hosts with their booked audiences, the queue of undecided audiences
(referred ones included), an audience's page with its decisions, and the answer letter. Every
call relays the officer's own token; double booking is refused by the service (409
``room_overlap`` / ``host_overlap``) and shown in words on the audience's page.
"""

from __future__ import annotations

import asyncio
import re
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from serambi_calendar import WIB
from serambi_kit.downloads import download_headers

from ...adapters.backend import ApiError
from ...adapters.session import PATH
from ...domain import penjadwalan as t
from ...domain.access import AREAS, ROLE_NAMES, Officer
from ...domain.penjadwalan import ACTIONS, step_body
from ..deps import PortalDep, checked_form, portal_of, render, text
from ..errors import DateOutOfRange
from . import drafts
from .access import ConsoleRoute, allowed

AREA = next(area for area in AREAS if area.slug == "penjadwalan")
BASE = f"{PATH}/penjadwalan"
PAGE_SIZE = 25
AUDIENCE_ID = r"^[A-Za-z0-9_-]{1,128}$"

router = APIRouter(prefix="/penjadwalan", route_class=ConsoleRoute)
Scheduler = Annotated[Officer, Depends(allowed(AREA))]


def _page(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    return render(
        request,
        template,
        {"ROLE_NAMES": ROLE_NAMES, "t": t, "area": AREA, **context},
        status_code,
        private=True,
    )


async def _api(request: Request, officer: Officer, method: str, path: str, **kwargs: Any) -> Any:
    scheduling = portal_of(request).scheduling
    return await scheduling.json(method, f"/api/v1{path}", headers=officer.bearer, **kwargs)


async def _resources(request: Request, officer: Officer) -> tuple[list[dict], list[dict]]:
    rooms, hosts = await asyncio.gather(
        _api(request, officer, "GET", "/rooms"), _api(request, officer, "GET", "/hosts")
    )
    return rooms, hosts


def _names(rooms: list[dict], hosts: list[dict]) -> dict[str, str]:
    return {**{r["room_id"]: r["name"] for r in rooms}, **{h["host_id"]: h["name"] for h in hosts}}


@router.get("/")
async def week(request: Request, officer: Scheduler, minggu: str = "") -> Response:
    """Monday to Sunday of the week holding ``minggu`` (default: this week), one row per room and
    host, the audiences booked in each day's cell."""
    try:
        first = t.monday(date.fromisoformat(minggu) if minggu else datetime.now(WIB).date())
    except ValueError:
        first, minggu = t.monday(datetime.now(WIB).date()), ""
    try:  # the first or last weeks of the calendar: no week before or after to link to
        days = [date.fromordinal(first.toordinal() + n) for n in range(7)]
        previous, following = date.fromordinal(first.toordinal() - 7), date.fromordinal(first.toordinal() + 7)
    except (ValueError, OverflowError):
        raise DateOutOfRange("Minggu yang memuat tanggal") from None
    (rooms, hosts), *calendars = await asyncio.gather(
        _resources(request, officer),
        *(_api(request, officer, "GET", f"/calendar/days/{day.isoformat()}") for day in days),
    )
    cells: dict[tuple[str, str, str], list[dict]] = {}
    for calendar in calendars:
        for booking in calendar["bookings"]:
            key = (booking["resource"], booking["resource_id"], booking["day"])
            cells.setdefault(key, []).append(booking)
    rows = [
        ("room", r["room_id"], r["name"], r.get("location", ""), r.get("active", True)) for r in rooms
    ] + [("host", h["host_id"], h["name"], h.get("position", ""), h.get("active", True)) for h in hosts]
    return _page(
        request,
        "petugas/penjadwalan/minggu.html",
        {
            "officer": officer,
            "days": days,
            "rows": rows,
            "cells": cells,
            "previous": previous,
            "next": following,
            "today": datetime.now(WIB).date(),
        },
    )


@router.get("/antrean")
async def queue(
    request: Request, officer: Scheduler, tampilan: str = "pending", status: str = "", halaman: int = 1
) -> Response:
    """Undecided audiences, earliest answer deadline first (the API gives up to 200; paged here)."""
    view = tampilan if tampilan in t.QUEUE_VIEWS else "pending"
    found = await _api(request, officer, "GET", "/queue", params={"view": view})
    items = [item for item in found["items"] if not status or item.get("status") == status]
    if status not in t.UNDECIDED:
        status = ""
    pages = max(1, -(-len(items) // PAGE_SIZE))
    halaman = min(max(halaman, 1), pages)
    keep = "&".join(f"{k}={v}" for k, v in (("tampilan", view), ("status", status)) if v)
    return _page(
        request,
        "petugas/penjadwalan/antrean.html",
        {
            "officer": officer,
            "rows": items[(halaman - 1) * PAGE_SIZE : halaman * PAGE_SIZE],
            "total": len(items),
            "view": view,
            "status": status,
            "halaman": halaman,
            "pages": pages,
            "keep": keep,
            "capped": found["count"] >= 200,
        },
    )


def day_name_of(day: date | None) -> str | None:
    return t.day_name(day) if day else None


async def _audience(
    request: Request,
    officer: Officer,
    audience_id: str,
    *,
    problem: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    try:
        audience, (rooms, hosts) = await asyncio.gather(
            _api(request, officer, "GET", f"/audiences/{audience_id}"), _resources(request, officer)
        )
    except ApiError as exc:
        if exc.status == 404:
            raise HTTPException(404) from None
        raise
    status = audience["status"]
    step = request.query_params.get("selesai", "")
    day = t.audience_day(audience.get("schedule"))
    on_the_day = day is not None and day <= datetime.now(WIB).date()
    return _page(
        request,
        "petugas/penjadwalan/audiensi.html",
        {
            "officer": officer,
            "a": audience,
            "rooms": [r for r in rooms if r.get("active", True)],
            "hosts": [h for h in hosts if h.get("active", True)],
            "names": _names(rooms, hosts),
            "may": {
                "choose": status in t.UNDECIDED,
                "confirm": status == "proposed",
                "decline": status in t.UNDECIDED,
                "reschedule": status == "scheduled",
                "held": status == "scheduled" and on_the_day,
                "cancel": status in (*t.UNDECIDED, "scheduled"),
            },
            "problem": problem,
            "errors": errors or {},
            "values": values or {},
            "outcome_from": day_name_of(day) if status == "scheduled" and not on_the_day else None,
            "done": t.DONE.get(step),
            "catching_up": bool(step) and t.SHOWN_AFTER.get(step) != status,
        },
        status_code,
    )


@router.get("/audiensi/{audience_id}")
async def audience_page(request: Request, officer: Scheduler, audience_id: str) -> Response:
    _check(audience_id)
    kept = drafts.restored(request, officer.subject)  # a step posted after the session ended
    return await _audience(request, officer, audience_id, values=kept.prefixed() if kept else None)


@router.get("/audiensi/{audience_id}/surat")
async def letter(request: Request, portal: PortalDep, officer: Scheduler, audience_id: str) -> Response:
    """The audience's latest answer letter, fetched with the officer's token; once the requester
    was erased (410) the audience's page says the letter was erased with their personal data."""
    _check(audience_id)
    try:
        answer = await portal.scheduling.call(
            "GET", f"/api/v1/audiences/{audience_id}/letter", headers=officer.bearer
        )
    except ApiError as exc:
        if exc.status == 404:
            raise HTTPException(404) from None
        if exc.status == 410:
            return await _audience(request, officer, audience_id, problem=t.LETTER_ERASED, status_code=410)
        raise
    return Response(
        answer.content,
        media_type="application/pdf",
        headers=download_headers(f"surat-jawaban-{audience_id}.pdf"),
    )


@router.post("/audiensi/{audience_id}/{step}")
@drafts.form_on(f"{BASE}/audiensi/{{audience_id}}")
async def act(request: Request, officer: Scheduler, audience_id: str, step: str) -> Response:
    form = await checked_form(request, max_files=0)
    _check(audience_id)
    if step not in ACTIONS:
        raise HTTPException(404)
    api_step, fields = ACTIONS[step]
    values = {name: text(form, name)[:300] for name in fields}
    body, errors = step_body(step, values)
    problem = "Isian belum lengkap. Periksa kembali." if errors else None
    status_code = 422
    if not errors:
        try:
            await _api(
                request,
                officer,
                "POST",
                f"/audiences/{audience_id}/{api_step}",
                json=(body or {}) if fields else None,
            )
        except ApiError as exc:
            if exc.status == 401:
                raise
            rooms, hosts = await _resources(request, officer)
            problem, errors = t.refusal(exc, _names(rooms, hosts))
            status_code = exc.status if exc.status in (403, 404, 409, 422) else 400
        else:
            return RedirectResponse(f"{BASE}/audiensi/{audience_id}?selesai={step}", status_code=303)
    return await _audience(
        request,
        officer,
        audience_id,
        problem=problem,
        errors={f"{step}-{k}": v for k, v in errors.items()},
        values={f"{step}-{k}": v for k, v in values.items()},
        status_code=status_code,
    )


def _check(audience_id: str) -> None:
    if re.fullmatch(AUDIENCE_ID, audience_id) is None:
        raise HTTPException(404)
