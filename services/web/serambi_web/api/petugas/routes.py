"""The console's pages: sign-in, its return, sign-out, the landing page and each role's area.

Every route is a ``ConsoleRoute``: signed out, any ``/petugas/…`` address leads to sign-in and
back; an officer without the area's role gets the 403 page.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from serambi_kit.logging import get_logger

from ...adapters.backend import BackendUnavailable
from ...adapters.oidc import Pending, SignInFailed
from ...adapters.session import PATH, PENDING_COOKIE, PENDING_SECONDS, read_session
from ...domain.access import AREAS, ROLE_NAMES, Area, Officer
from ..deps import ConsoleDep, checked_form, console_of, portal_of, render
from . import admin, drafts, meja, pengaduan, penjadwalan, pimpinan, pimpinan_laporan, survei
from .access import ConsoleRoute, SignedIn, allowed, new_session, secure, write_session

log = get_logger(__name__)
router = APIRouter(prefix=PATH, route_class=ConsoleRoute)
CALLBACK = f"{PATH}/masuk/kembali"
SIGNED_OUT = f"{PATH}/keluar/selesai"


def absolute(request: Request, path: str) -> str:
    base = console_of(request).settings.public_base_url or str(request.base_url)
    return base.rstrip("/") + path


def safe_next(target: str) -> str:
    """Only a console page of this site is a place to return to."""
    if (
        target.startswith(f"{PATH}/")
        and not target.startswith("//")
        and "\\" not in target
        and not target.startswith((CALLBACK, f"{PATH}/masuk", f"{PATH}/keluar"))
    ):
        return target
    return f"{PATH}/"


def page(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    return render(request, template, {"ROLE_NAMES": ROLE_NAMES, **(context or {})}, status_code, private=True)


@router.get("/masuk")
async def sign_in(request: Request, console: ConsoleDep, next: str = f"{PATH}/") -> Response:
    url, pending = await console.provider.start(absolute(request, CALLBACK), safe_next(next))
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        PENDING_COOKIE,
        console.sealer.seal("pending", {**asdict(pending), "at": time.time()}),
        max_age=PENDING_SECONDS,
        path=f"{PATH}/masuk",
        httponly=True,
        samesite="lax",
        secure=secure(request, console.settings),
    )
    return response


@router.get("/masuk/kembali")
async def signed_in_at_provider(
    request: Request,
    console: ConsoleDep,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
) -> Response:
    data = console.sealer.open("pending", request.cookies.get(PENDING_COOKIE))
    if (
        data is None
        or time.time() - float(data.get("at", 0)) > PENDING_SECONDS
        or not state
        or not hmac.compare_digest(state.encode(), str(data.get("state", "")).encode())
    ):
        return page(request, "petugas/masuk-gagal.html", {"reason": "kedaluwarsa"}, 400)
    if error or not code:
        return page(request, "petugas/masuk-gagal.html", {"reason": "ditolak"}, 400)
    pending = Pending(data["state"], data["verifier"], data["nonce"], safe_next(data["next"]))
    try:
        tokens = await console.provider.finish(code, pending, absolute(request, CALLBACK))
    except SignInFailed as exc:
        log.warning("console.sign_in_failed", reason=str(exc))
        return page(request, "petugas/masuk-gagal.html", {"reason": "gagal"}, 400)
    session = new_session(tokens, time.time())
    log.info("console.signed_in", officer=session.subject, roles=session.roles)
    response = RedirectResponse(pending.next, status_code=303)
    write_session(response, request, session)
    response.delete_cookie(PENDING_COOKIE, path=f"{PATH}/masuk")
    return response


@router.post("/keluar")
async def sign_out(request: Request, console: ConsoleDep) -> Response:
    """Ends the console's session (its refresh token revoked at the provider when discovery lists
    a ``revocation_endpoint``), then the provider's (a refresh page, since the strict CSP's
    form-action would stop a form's redirect to another origin)."""
    await checked_form(request, max_files=0)  # anyone may post here: no file is spooled
    session = read_session(console.sealer, request.cookies)
    if session and session.refresh_token:  # best effort, a few seconds at most
        for token in [session.refresh_token, *console.provider.forget(session.refresh_token)]:
            await console.provider.revoke(token)
    try:
        url = await console.provider.end_session_url(
            session.id_token if session else None, absolute(request, SIGNED_OUT)
        )
    except BackendUnavailable:
        url = None
    response = page(request, "petugas/keluar.html", {"next": url or SIGNED_OUT})
    write_session(response, request, None)
    drafts.forget(response, request)
    if session:
        log.info("console.signed_out", officer=session.subject)
    return response


@router.get("/keluar/selesai")
async def signed_out(request: Request) -> Response:
    return page(request, "petugas/keluar-selesai.html")


@router.get("")
async def root() -> Response:
    return RedirectResponse(f"{PATH}/", status_code=308)


@router.get("/")
async def landing(request: Request, officer: SignedIn) -> Response:
    return page(request, "petugas/beranda.html", {"officer": officer, "areas": AREAS})


async def _summary(request: Request, officer: Officer, area: Area) -> dict[str, Any] | None:
    """What an area shows from the services, fetched with the officer's own token."""
    if area.slug == "meja":
        answer = await portal_of(request).intake.call(
            "GET", "/api/v1/officer/guestbook", headers=officer.bearer
        )
        return {"tamu_hari_ini": len(answer.json().get("guests", []))}
    return None


def _area_route(area: Area) -> None:
    async def area_page(request: Request, officer: Officer = Depends(allowed(area))) -> Response:
        summary = await _summary(request, officer, area)
        return page(request, "petugas/area.html", {"officer": officer, "area": area, "summary": summary})

    router.add_api_route(f"/{area.slug}/", area_page, methods=["GET"], name=f"petugas_{area.slug}")


router.include_router(pimpinan.router)  # before the placeholder pages it replaces
router.include_router(pimpinan_laporan.router)
router.include_router(survei.supervisor_router)
router.include_router(survei.desk_router)
router.include_router(admin.router)  # before the placeholder pages it replaces
router.include_router(meja.router)  # before the placeholder pages it replaces
router.include_router(penjadwalan.router)  # before the placeholder pages it replaces
for _area in AREAS:
    if _area.slug != "pengaduan":  # its screens: pengaduan.py
        _area_route(_area)
router.include_router(pengaduan.router)


@router.get("/{rest:path}")
async def unknown(officer: SignedIn, rest: str) -> Response:
    """Signed out, even an unknown console address leads to sign-in first."""
    raise HTTPException(404)
