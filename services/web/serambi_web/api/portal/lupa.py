"""Lupa tautan: re-send the tracking link to the contact on file. The same answer for every code."""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from serambi_kit.ratelimit import rate_limited

from ..deps import CODE_PATTERN, KINDS, PortalDep, checked_form, render, text

router = APIRouter()


@router.get("/lupa-tautan", response_class=HTMLResponse)
async def form(request: Request) -> HTMLResponse:
    return render(request, "lupa-tautan.html", {"values": {"kind": "audiensi"}, "errors": {}})


@router.post(
    "/lupa-tautan", response_class=HTMLResponse, dependencies=[Depends(rate_limited("link_resends"))]
)
async def resend(request: Request, portal: PortalDep) -> HTMLResponse:
    posted = await checked_form(request, max_files=0)
    values = {"kind": text(posted, "kind"), "code": text(posted, "code")}
    errors = {}
    if values["kind"] not in KINDS:
        errors["kind"] = "Pilih audiensi atau pengaduan."
    if not re.match(CODE_PATTERN, values["code"]):
        errors["code"] = "Isi kode lacak (huruf, angka dan tanda hubung)."
    if errors:
        return render(request, "lupa-tautan.html", {"values": values, "errors": errors}, 422)
    backend = portal.intake if values["kind"] == "audiensi" else portal.complaints
    await backend.resend_link(values["code"])
    return render(request, "lupa-terkirim.html", {"kind": values["kind"]})
