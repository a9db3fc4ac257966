"""Ajukan audiensi: the request form with its two documents and proposed dates."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from serambi_kit.ratelimit import rate_limited
from starlette.datastructures import FormData

from ..adapters.backend import ApiError
from .deps import PortalDep, checked_form, render, text, uploads
from .messages import LABELS, field_errors

router = APIRouter()
FIELDS = ("requester_name", "requester_position", "institution", "institution_type", "email", "phone",
          "identity_number", "topic", "purpose", "participants")
DOCUMENTS = ("request_letter", "identity_document")
DATE_INPUTS = 3


def _page(request: Request, values: dict, errors: dict[str, str] | None = None,
          status_code: int = 200) -> HTMLResponse:
    portal = request.app.state.runtime
    dates = list(values.get("proposed_dates", []))
    return render(request, "audiensi.html", {
        "values": values, "errors": errors or {},
        "dates": (dates + [""] * DATE_INPUTS)[:max(DATE_INPUTS, len(dates))],
        "max_mb": portal.settings.max_document_bytes // 1_000_000,
        "idempotency": secrets.token_urlsafe(18),
    }, status_code)


@router.get("/audiensi", response_class=HTMLResponse)
async def form(request: Request) -> HTMLResponse:
    return _page(request, {"participants": "1"})


@router.post("/audiensi", response_class=HTMLResponse,
             dependencies=[Depends(rate_limited("submissions"))])
async def submit(request: Request, portal: PortalDep) -> HTMLResponse:
    posted = await checked_form(request, max_files=len(DOCUMENTS))
    values = {name: text(posted, name) for name in FIELDS}
    values["proposed_dates"] = [d.strip() for d in posted.getlist("proposed_dates")
                                if isinstance(d, str) and d.strip()]
    files, missing = await _documents(posted, portal.settings.max_document_bytes)
    fields = [(name, value) for name, value in values.items() if name != "proposed_dates"]
    fields += [("proposed_dates", value) for value in values["proposed_dates"]]
    key = text(posted, "idempotency")
    try:
        answer = await portal.intake.submit_request(
            fields, files, headers={"Idempotency-Key": f"web-{key}"} if len(key) >= 16 else {}
        )
    except ApiError as error:
        if error.status not in (409, 413, 415, 422):
            raise
        limit = f"{portal.settings.max_document_bytes // 1_000_000} MB"
        errors = field_errors(error, dict.fromkeys(DOCUMENTS, limit))
        for name in missing:
            errors.setdefault(name, f"Lampirkan {LABELS[name].lower()}.")
        return _page(request, values, errors, 409 if error.status == 409 else 422)
    return render(request, "terkirim.html", {
        "kind": "audiensi", "code": answer["tracking_code"], "token": answer["access_token"],
        "due": answer.get("answer_due_at"),
    }, 201, private=True)


async def _documents(posted: FormData, max_bytes: int) -> tuple[list, list[str]]:
    """The chosen files as parts to send on (read up to the limit + 1: the service judges
    the size and type), and which of the two are missing."""
    files, missing = [], []
    for name in DOCUMENTS:
        chosen = uploads(posted, name)
        if not chosen:
            missing.append(name)
            continue
        upload = chosen[0]
        data = await upload.read(max_bytes + 1)
        media_type = upload.content_type or "application/octet-stream"
        files.append((name, (upload.filename or name, data, media_type)))
    return files, missing
