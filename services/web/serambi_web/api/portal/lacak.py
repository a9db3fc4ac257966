"""Lacak: follow a request or a complaint.

The e-mailed link is ``/lacak/{kind}/{code}#t={token}``: the fragment never reaches a server. The
page's form (filled and sent by ``lacak.js``, or typed in without JavaScript) posts the token
once; the answer is an HttpOnly session cookie for that case alone, then a redirect to the page.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from serambi_kit.downloads import download_headers
from serambi_kit.ratelimit import rate_limited

from ...adapters.backend import ApiError
from ...domain.messages import field_errors
from ..deps import (
    CODE_PATTERN,
    KINDS,
    Portal,
    PortalDep,
    checked_form,
    end_session,
    render,
    session_token,
    start_session,
    text,
)

router = APIRouter(dependencies=[Depends(rate_limited("lookups"))])
Kind = Annotated[str, Path(pattern="^(audiensi|pengaduan)$")]
Code = Annotated[str, Path(pattern=CODE_PATTERN)]
TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
MISMATCH = "Kode lacak atau kode akses tidak cocok. Periksa kembali tautan atau kode dari email/SMS Anda."
TOO_LONG = (
    "Alasan Anda terlalu panjang untuk dikirim. Perpendek alasan (paling banyak 5000 karakter; "
    "emoji dan huruf khusus memakan tempat lebih banyak), lalu kirim lagi."
)
ERASED = {"erased": True}  # the view of a case whose personal data was erased
NOTICES = {
    "ditarik": "Permohonan Anda telah ditarik.",
    "disanggah": "Sanggahan Anda diterima. Pengaduan ditangani kembali.",
}


async def _view(portal: Portal, kind: str, code: str, token: str) -> dict[str, Any] | None:
    """The case as its service shows it; None for an unknown code or a wrong token; ``ERASED``
    when the token is right but the complainant's personal data was erased (410)."""
    if not TOKEN.match(token):
        return None
    backend = portal.intake if kind == "audiensi" else portal.complaints
    try:
        return await backend.track(code, token)
    except ApiError as exc:
        if exc.status == 410:
            return dict(ERASED)
        raise


def _case_url(kind: str, code: str, notice: str | None = None) -> str:
    return f"/lacak/{kind}/{code}" + (f"?pesan={notice}" if notice else "")


@router.get("/lacak", response_class=HTMLResponse)
async def lookup_form(request: Request) -> HTMLResponse:
    return render(request, "lacak.html", {"values": {"kind": "audiensi"}, "errors": {}})


@router.post("/lacak", response_class=HTMLResponse)
async def lookup(request: Request, portal: PortalDep) -> Response:
    posted = await checked_form(request, max_files=0)
    values = {name: text(posted, name) for name in ("kind", "code", "token")}
    errors = {}
    if values["kind"] not in KINDS:
        errors["kind"] = "Pilih audiensi atau pengaduan."
    if not re.match(CODE_PATTERN, values["code"]):
        errors["code"] = "Isi kode lacak, misalnya seperti yang tertulis di email Anda."
    if not values["token"]:
        errors["token"] = "Isi kode akses dari email atau SMS Anda."  # noqa: S105 — a message
    if not errors:
        response = await _open(request, portal, values["kind"], values["code"], values["token"])
        if response is not None:
            return response
        errors["token"] = MISMATCH
    return render(
        request,
        "lacak.html",
        {"values": {**values, "token": ""}, "errors": errors},
        404 if "token" in errors and len(errors) == 1 else 422,
        private=True,
    )


async def _open(request: Request, portal: Portal, kind: str, code: str, token: str) -> Response | None:
    """Redirect to the case's page with its session, or None if the token does not open it."""
    if await _view(portal, kind, code, token) is None:
        return None
    response = RedirectResponse(_case_url(kind, code), status_code=303)
    start_session(response, request, kind, code, token)
    return response


@router.get("/lacak/{kind}/{code}", response_class=HTMLResponse)
async def case(kind: Kind, code: Code, request: Request, portal: PortalDep) -> Response:
    token = session_token(request, kind, code)
    view = await _view(portal, kind, code, token) if token else None
    if view is None:
        response = render(
            request, "lacak-buka.html", {"kind": kind, "code": code, "error": None}, private=True
        )
        if token:
            end_session(response, request, kind, code)
        return response
    if view.get("erased"):  # the session stays: the page says so each time it is opened
        return render(request, "lacak-dihapus.html", {"kind": kind, "code": code}, 410, private=True)
    notice = NOTICES.get(request.query_params.get("pesan", ""))
    return render(
        request,
        f"lacak-{kind}.html",
        {
            "kind": kind,
            "code": code,
            "view": view,
            "notice": notice,
            "errors": {},
            "values": {},
            "letters": _letters(view) if kind == "audiensi" else [],
        },
        private=True,
    )


@router.post("/lacak/{kind}/{code}", response_class=HTMLResponse)
async def open_case(kind: Kind, code: Code, request: Request, portal: PortalDep) -> Response:
    token = text(await checked_form(request, max_files=0), "token")
    response = await _open(request, portal, kind, code, token) if token else None
    if response is None:
        return render(
            request, "lacak-buka.html", {"kind": kind, "code": code, "error": MISMATCH}, 404, private=True
        )
    return response


@router.post("/lacak/{kind}/{code}/keluar")
async def close_case(kind: Kind, code: Code, request: Request) -> Response:
    await checked_form(request, max_files=0)
    response = RedirectResponse("/lacak", status_code=303)
    end_session(response, request, kind, code)
    return response


@router.post("/lacak/audiensi/{code}/tarik", response_class=HTMLResponse)
async def withdraw(code: Code, request: Request, portal: PortalDep) -> Response:
    posted = await checked_form(request, max_files=0)
    token = session_token(request, "audiensi", code)
    if not token or await portal.intake.withdraw(code, token, text(posted, "reason")[:1000]) is None:
        return RedirectResponse(_case_url("audiensi", code), status_code=303)
    return RedirectResponse(_case_url("audiensi", code, "ditarik"), status_code=303)


@router.post("/lacak/pengaduan/{code}/sanggah", response_class=HTMLResponse)
async def dispute(code: Code, request: Request, portal: PortalDep) -> Response:
    posted = await checked_form(request, max_files=0)
    token = session_token(request, "pengaduan", code)
    reason = text(posted, "reason")
    view = await _view(portal, "pengaduan", code, token) if token else None
    if view is None or view.get("erased"):
        return RedirectResponse(_case_url("pengaduan", code), status_code=303)
    error = None
    if not reason:
        error = "Tuliskan alasan Anda menyanggah jawaban."
    elif len(reason) > 5000:
        error = "Alasan terlalu panjang (paling banyak 5000 karakter)."
    else:
        try:
            await portal.complaints.dispute(code, token, reason)
        except ApiError as exc:
            if exc.status == 410:  # erased meanwhile: the case page says so
                return RedirectResponse(_case_url("pengaduan", code), status_code=303)
            error = _dispute_refused(exc)
        else:
            return RedirectResponse(_case_url("pengaduan", code, "disanggah"), status_code=303)
    return render(
        request,
        "lacak-pengaduan.html",
        {
            "kind": "pengaduan",
            "code": code,
            "view": view,
            "notice": None,
            "errors": {"reason": error},
            "values": {"reason": reason},
        },
        422,
        private=True,
    )


def _dispute_refused(error: ApiError) -> str:
    """The reason field's message for a refused dispute; the reason typed stays in the form."""
    if error.status == 409:
        return "Jawaban ini tidak dapat disanggah lagi (batas waktu sanggahan sudah lewat)."
    if error.status == 413:
        return TOO_LONG
    if error.status == 422:
        return field_errors(error).get("reason") or TOO_LONG
    raise error


@router.get("/lacak/audiensi/{code}/surat/{document_id}")
async def letter(
    code: Code,
    document_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")],
    request: Request,
    portal: PortalDep,
) -> Response:
    """The answer letter, only for a session of the request whose timeline links it. Once the
    requester's personal data was erased (scheduling answers 410) the page says the letter was
    erased with it."""
    token = session_token(request, "audiensi", code)
    view = await _view(portal, "audiensi", code, token) if token else None
    found, erased = None, bool(view and view.get("erased"))
    if view and not erased and document_id in {item["id"] for item in _letters(view)}:
        try:
            found = await portal.scheduling.letter(document_id)
        except ApiError as exc:
            if exc.status != 410:
                raise
            erased = True
    if erased:
        return render(request, "lacak-surat-dihapus.html", {"code": code}, 410, private=True)
    if found is None:
        return render(
            request,
            "galat.html",
            {"title": "Surat tidak ditemukan", "message": "Surat ini tidak tersedia untuk sesi Anda."},
            404,
        )
    content, media_type = found
    return Response(content, media_type=media_type, headers=download_headers(f"surat-jawaban-{code}.pdf"))


def _letters(view: dict[str, Any]) -> list[dict[str, Any]]:
    """The answer letters linked in a request's timeline, newest last."""
    found = []
    for entry in view.get("timeline", []):
        link = entry.get("letter")
        if isinstance(link, str) and "/letters/" in link:
            found.append({"id": link.rsplit("/", 1)[-1], "at": entry.get("at"), "step": entry.get("step")})
    return found
