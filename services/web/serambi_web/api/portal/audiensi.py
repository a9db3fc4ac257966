"""Ajukan audiensi: the request form with its two documents and proposed dates."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

from ...adapters.backend import ApiError, BackendUnavailable, Files, Throttled
from ...domain.messages import LABELS, field_errors, too_large
from .. import relay
from ..deps import PortalDep, portal_of, render, text, uploads

router = APIRouter()
FIELDS = (
    "requester_name",
    "requester_position",
    "institution",
    "institution_type",
    "email",
    "phone",
    "identity_number",
    "topic",
    "purpose",
    "participants",
)
DOCUMENTS = ("request_letter", "identity_document")
DATE_INPUTS = 3


def _page(
    request: Request, values: dict, errors: dict[str, str] | None = None, status_code: int = 200, **shown: Any
) -> HTMLResponse:
    """The form; ``shown``: the key, banner and headers of ``relay.form_page``."""
    portal = portal_of(request)
    dates = list(values.get("proposed_dates", []))
    return relay.form_page(
        request,
        "audiensi.html",
        {
            "values": values,
            "errors": errors or {},
            "dates": (dates + [""] * DATE_INPUTS)[: max(DATE_INPUTS, len(dates))],
            "max_mb": portal.settings.max_document_bytes // 1_000_000,
        },
        status_code,
        **shown,
    )


@router.get("/audiensi", response_class=HTMLResponse)
async def form(request: Request) -> HTMLResponse:
    return _page(request, {"participants": "1"})


@router.post("/audiensi", response_class=HTMLResponse)
async def submit(request: Request, portal: PortalDep) -> HTMLResponse:
    max_bytes = portal.settings.max_document_bytes
    limit = f"{max_bytes // 1_000_000} MB"
    async with relay.upload_form(request, max_files=len(DOCUMENTS), public=True) as posted:
        values = {name: text(posted, name) for name in FIELDS}
        values["proposed_dates"] = [
            d.strip() for d in posted.getlist("proposed_dates") if isinstance(d, str) and d.strip()
        ]
        key = relay.key_of(posted)
        if (wait := await relay.throttled(request)) is not None:
            return _page(request, values, key=key, **relay.again(429, {"Retry-After": wait}))
        files, missing, oversized = _documents(posted, max_bytes)
        if oversized:
            errors = {name: too_large(name, limit)[name] for name in oversized}
            return _page(request, values, errors, 422, key=key)
        fields = [(name, value) for name, value in values.items() if name != "proposed_dates"]
        fields += [("proposed_dates", value) for value in values["proposed_dates"]]
        try:
            answer = await portal.intake.submit_request(fields, files, headers=relay.key_header(key))
        except (ApiError, BackendUnavailable, Throttled) as error:
            if (retry := relay.retry_status(error)) is not None:
                return _page(request, values, key=key, **relay.again(*retry))
            errors = field_errors(relay.refused(error), dict.fromkeys(DOCUMENTS, limit))
            for name in missing:
                errors.setdefault(name, f"Lampirkan {LABELS[name].lower()}.")
            return _page(request, values, errors, 422, key=key)
    return render(
        request,
        "terkirim.html",
        {
            "kind": "audiensi",
            "code": answer["tracking_code"],
            "token": answer["access_token"],
            "due": answer.get("answer_due_at"),
        },
        201,
        private=True,
    )


def _documents(posted: FormData, max_bytes: int) -> tuple[Files, list[str], list[str]]:
    """The chosen files as parts to stream on (the service judges their type by content), which
    of the two are missing, and which are larger than the limit (refused here, not sent)."""
    files: Files = []
    missing, oversized = [], []
    for name in DOCUMENTS:
        chosen = uploads(posted, name)
        if not chosen:
            missing.append(name)
            continue
        upload = chosen[0]
        if (upload.size or 0) > max_bytes:
            oversized.append(name)
        media_type = upload.content_type or "application/octet-stream"
        files.append((name, (upload.filename or name, upload.file, media_type)))
    return files, missing, oversized
