"""Sampaikan pengaduan: named, anonymous or confidential, with photos or PDFs attached."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ...adapters.backend import ApiError, BackendUnavailable, Throttled
from ...domain.messages import field_errors, too_large
from .. import relay
from ..deps import PortalDep, portal_of, render, text, uploads

router = APIRouter()
FIELDS = ("disclosure", "name", "email", "phone", "summary", "description")
DISCLOSURES = ("named", "anonymous", "confidential")


def _page(
    request: Request, values: dict, errors: dict[str, str] | None = None, status_code: int = 200, **shown: Any
) -> HTMLResponse:
    """The form; ``shown``: the key, banner and headers of ``relay.form_page``."""
    settings = portal_of(request).settings
    return relay.form_page(
        request,
        "pengaduan.html",
        {
            "values": values,
            "errors": errors or {},
            "max_files": settings.max_attachments,
            "max_mb": settings.max_attachment_bytes // 1_000_000,
        },
        status_code,
        **shown,
    )


@router.get("/pengaduan", response_class=HTMLResponse)
async def form(request: Request) -> HTMLResponse:
    return _page(request, {"disclosure": "named"})


@router.post("/pengaduan", response_class=HTMLResponse)
async def submit(request: Request, portal: PortalDep) -> HTMLResponse:
    settings = portal.settings
    async with relay.upload_form(request, max_files=settings.max_attachments, public=True) as posted:
        values = {name: text(posted, name) for name in FIELDS}
        if values["disclosure"] not in DISCLOSURES:
            values["disclosure"] = "named"
        key = relay.key_of(posted)
        if (wait := await relay.throttled(request)) is not None:
            return _page(request, values, key=key, **relay.again(429, {"Retry-After": wait}))
        chosen = uploads(posted, "attachments")
        limit = f"{settings.max_attachment_bytes // 1_000_000} MB"
        if len(chosen) > settings.max_attachments:
            many = {"attachments": f"Paling banyak {settings.max_attachments} lampiran."}
            return _page(request, values, many, 422, key=key)
        if any((item.size or 0) > settings.max_attachment_bytes for item in chosen):
            return _page(request, values, too_large("attachments", limit), 422, key=key)
        files = [
            (
                "attachments",
                (
                    item.filename or f"lampiran-{number}",
                    item.file,
                    item.content_type or "application/octet-stream",
                ),
            )
            for number, item in enumerate(chosen)
        ]
        fields = [
            (name, value)
            for name, value in values.items()
            if value and (values["disclosure"] == "named" or name != "name")
        ]
        try:
            answer = await portal.complaints.submit(fields, files, relay.key_header(key))
        except (ApiError, BackendUnavailable, Throttled) as error:
            if (retry := relay.retry_status(error)) is not None:
                return _page(request, values, key=key, **relay.again(*retry))
            return _page(
                request, values, field_errors(relay.refused(error), {"attachments": limit}), 422, key=key
            )
    return render(
        request,
        "terkirim.html",
        {
            "kind": "pengaduan",
            "code": answer["tracking_code"],
            "token": answer["access_token"],
            "has_contact": bool(values["email"] or values["phone"]),
        },
        201,
        private=True,
    )
