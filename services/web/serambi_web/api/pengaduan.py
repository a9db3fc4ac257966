"""Sampaikan pengaduan: named, anonymous or confidential, with photos or PDFs attached."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from serambi_kit.ratelimit import rate_limited

from ..adapters.backend import ApiError
from .deps import PortalDep, checked_form, render, text, uploads
from .messages import field_errors

router = APIRouter()
FIELDS = ("disclosure", "name", "email", "phone", "summary", "description")
DISCLOSURES = ("named", "anonymous", "confidential")


def _page(request: Request, values: dict, errors: dict[str, str] | None = None,
          status_code: int = 200) -> HTMLResponse:
    settings = request.app.state.runtime.settings
    return render(request, "pengaduan.html", {
        "values": values, "errors": errors or {},
        "max_files": settings.max_attachments, "max_mb": settings.max_attachment_bytes // 1_000_000,
    }, status_code)


@router.get("/pengaduan", response_class=HTMLResponse)
async def form(request: Request) -> HTMLResponse:
    return _page(request, {"disclosure": "named"})


@router.post("/pengaduan", response_class=HTMLResponse,
             dependencies=[Depends(rate_limited("submissions"))])
async def submit(request: Request, portal: PortalDep) -> HTMLResponse:
    settings = portal.settings
    posted = await checked_form(request, max_files=settings.max_attachments + 1)
    values = {name: text(posted, name) for name in FIELDS}
    if values["disclosure"] not in DISCLOSURES:
        values["disclosure"] = "named"
    chosen = uploads(posted, "attachments")
    if len(chosen) > settings.max_attachments:
        return _page(request, values, {"attachments": f"Paling banyak {settings.max_attachments} lampiran."},
                     422)
    files = [("attachments", (item.filename or f"lampiran-{number}",
                              await item.read(settings.max_attachment_bytes + 1),
                              item.content_type or "application/octet-stream"))
             for number, item in enumerate(chosen)]
    fields = [(name, value) for name, value in values.items()
              if value and (values["disclosure"] == "named" or name not in ("name",))]
    try:
        answer = await portal.complaints.submit(fields, files)
    except ApiError as error:
        if error.status not in (413, 415, 422):
            raise
        limit = f"{settings.max_attachment_bytes // 1_000_000} MB"
        return _page(request, values, field_errors(error, {"attachments": limit}), 422)
    return render(request, "terkirim.html", {
        "kind": "pengaduan", "code": answer["tracking_code"], "token": answer["access_token"],
        "has_contact": bool(values["email"] or values["phone"]),
    }, 201, private=True)
