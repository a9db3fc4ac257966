"""Who may open what in the console, and the session around every console request.

``signed_in`` opens the session cookie, ends it after the idle or absolute timeout, refreshes
the access token shortly before it expires, and gives the route an ``Officer`` whose access
token the console relays to the services (which still enforce their own role matrix).
``ConsoleRoute`` turns "not signed in" into a redirect to sign-in (the page asked for comes
back after it; a form posted meanwhile is kept, ``drafts``), "not allowed" into the 403 page,
writes a renewed session cookie, and marks every console answer ``no-store``.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from serambi_kit.addresses import is_local_host
from serambi_kit.auth import ROLES, roles_of
from serambi_kit.logging import get_logger

from ...adapters.backend import ApiError, BackendUnavailable
from ...adapters.oidc import SignInFailed, Tokens
from ...adapters.session import (
    PATH,
    TOUCH_SECONDS,
    OfficerSession,
    cleared,
    read_session,
    session_cookies,
)
from ...domain.access import ROLE_NAMES, Area, Officer
from ...settings import ConsoleSettings
from ..deps import console_of, render
from . import drafts

log = get_logger(__name__)
REFRESH_MARGIN_SECONDS = 30
T = TypeVar("T")


assert set(ROLE_NAMES) == set(ROLES)


class SignInRequired(Exception):
    """No session, an ended one, or a token the provider or a service no longer accepts."""


class Forbidden(Exception):
    def __init__(self, officer: Officer, area: Area | None) -> None:
        super().__init__(area.slug if area else "console")
        self.officer, self.area = officer, area


def new_session(tokens: Tokens, now: float) -> OfficerSession:
    claims = tokens.claims
    return OfficerSession(
        subject=claims["sub"],
        name=str(claims.get("name") or claims.get("preferred_username") or ""),
        username=str(claims.get("preferred_username") or claims["sub"]),
        roles=sorted(roles_of(claims)),
        access_token=tokens.access_token,
        access_expires=tokens.access_expires,
        refresh_token=tokens.refresh_token,
        id_token=tokens.id_token,
        started=now,
        seen=now,
    )


async def current_session(
    request: Request, now: float | None = None, *, force: bool = False
) -> OfficerSession:
    """The live session (renewed on ``request.state`` when it changed), or SignInRequired.

    A refresh is made once per session at a time (``Provider.refresh_once``). One the provider
    refuses while the access token still holds leaves the session as it is, cookies untouched
    (another request, or replica, may have rotated the token and be writing the new cookie):
    only a refused refresh with an expired access token asks to sign in again. ``force``: refresh
    whatever the expiry says (a service refused the token), and a refusal asks to sign in."""
    console = console_of(request)
    now = time.time() if now is None else now
    session = getattr(request.state, "petugas_session", None) or read_session(console.sealer, request.cookies)
    if session is None or session.expired(
        now, console.settings.idle_seconds, console.settings.absolute_seconds
    ):
        raise SignInRequired
    changed = now - session.seen >= TOUCH_SECONDS
    session.seen = now
    if force or session.access_expires - now < REFRESH_MARGIN_SECONDS:
        if not session.refresh_token:
            raise SignInRequired
        try:
            tokens = await console.provider.refresh_once(session.refresh_token, session.id_token)
        except SignInFailed as exc:
            log.info("console.refresh_refused", reason=str(exc))
            if session.access_expires > now and not force:
                return session  # not written: the cookie stays as the browser has it
            raise SignInRequired from None
        except BackendUnavailable:  # the provider is down: the session stays, "coba lagi" if need be
            log.warning("console.refresh_unavailable")
            if session.access_expires > now and not force:
                return session
            raise
        session.access_token, session.access_expires = tokens.access_token, tokens.access_expires
        session.refresh_token = tokens.refresh_token or session.refresh_token
        session.id_token, session.roles = tokens.id_token, sorted(roles_of(tokens.claims))
        changed = True
    if changed:
        request.state.petugas_session = session
    return session


async def signed_in(request: Request) -> Officer:
    session = await current_session(request)
    officer = Officer(
        session.subject, session.name, session.username, frozenset(session.roles), session.access_token
    )
    if not officer.roles:
        raise Forbidden(officer, None)
    return officer


async def fresh(request: Request, officer: Officer, *, force: bool = False) -> Officer:
    """``officer`` with the session's token as it stands now: checked again, and refreshed within
    the margin, after a long read (an upload takes up to ``SERAMBI_UPLOAD_READ_SECONDS``);
    ``force``: refreshed, since a service refused it."""
    session = await current_session(request, force=force)
    return replace(officer, access_token=session.access_token, roles=frozenset(session.roles))


async def relayed(request: Request, officer: Officer, call: Callable[[Officer], Awaitable[T]]) -> T:
    """``call`` (a relay to a service, its files rewound each time it is made) with a token
    checked again first; a 401 from the service is tried once more after a refresh, so that a
    form whose upload outlived the token is not lost."""
    officer = await fresh(request, officer)
    try:
        return await call(officer)
    except ApiError as exc:
        if exc.status != 401 or not await _refreshable(request):
            raise
    return await call(await fresh(request, officer, force=True))


async def _refreshable(request: Request) -> bool:
    session = getattr(request.state, "petugas_session", None) or read_session(
        console_of(request).sealer, request.cookies
    )
    return session is not None and bool(session.refresh_token)


def allowed(area: Area) -> Callable[..., Any]:
    async def dependency(officer: Annotated[Officer, Depends(signed_in)]) -> Officer:
        if not officer.may(area):
            raise Forbidden(officer, area)
        return officer

    return dependency


SignedIn = Annotated[Officer, Depends(signed_in)]


def secure(request: Request, settings: ConsoleSettings) -> bool:
    """Cookies are Secure everywhere but a browser on this machine over plain HTTP."""
    return settings.environment == "production" or not is_local_host(request.url.hostname or "")


def write_session(response: Response, request: Request, session: OfficerSession | None) -> None:
    """Set (or, for None, delete) the session cookies on ``response``."""
    console = console_of(request)
    values = session_cookies(console.sealer, session) if session else cleared()
    max_age = int(session.started + console.settings.absolute_seconds - time.time()) if session else 0
    for name, value in values.items():
        if value is None:
            if name in request.cookies or session is None:
                response.delete_cookie(name, path=PATH)
        else:
            response.set_cookie(
                name,
                value,
                max_age=max(max_age, 0),
                path=PATH,
                httponly=True,
                samesite="lax",
                secure=secure(request, console.settings),
            )


def sign_in_redirect(request: Request, back: str | None = None) -> RedirectResponse:
    """To sign-in, then back to ``back`` (default: this page; a post's own address)."""
    if back is None:
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            back = request.url.path
    return RedirectResponse(f"{PATH}/masuk?next={quote(back, safe='/')}", status_code=303)


async def sign_in_again(request: Request, endpoint: Callable[..., Any]) -> Response:
    """The session is over: to sign-in. A post gets a page that moves on to sign-in by itself
    (the strict CSP's ``form-action 'self'`` stops a form's redirect to the provider); a form
    posted to a route marked ``drafts.form_on`` comes back on its page after sign-in, its text
    kept in a sealed cookie until then."""
    if request.method == "GET":
        response: Response = sign_in_redirect(request)
    else:
        page = drafts.page_of(endpoint, request)
        kept = await drafts.keep(request, page) if page is not None else None
        target = sign_in_redirect(request, page).headers["location"]
        response = render(
            request, "petugas/sesi-berakhir.html", {"next": target, "kept": kept is not None}, private=True
        )
        if kept is not None:
            drafts.write(response, request, kept, secure(request, console_of(request).settings))
    write_session(response, request, None)
    return response


def renew(response: Response, request: Request) -> None:
    """The session renewed during this request (refreshed tokens, last use) on ``response``."""
    renewed = getattr(request.state, "petugas_session", None)
    if renewed is not None:
        write_session(response, request, renewed)


async def error_page(request: Request, exc: Exception) -> Response:
    """The app's own page for ``exc`` (``api/errors``), made here so that the route can still set
    cookies on it; an exception with no handler of its own (a crash: the 500 page, logged with
    its traceback by the access line) is raised again."""
    handlers = request.app.exception_handlers
    for kind in type(exc).__mro__:
        if kind in (Exception, BaseException):
            break
        if kind in handlers:
            answer = handlers[kind](request, exc)
            response: Response = await answer if inspect.isawaitable(answer) else answer
            return response
    raise exc


class ConsoleRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()
        endpoint = self.endpoint

        async def route(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInRequired:
                response = await sign_in_again(request, endpoint)
            except ApiError as exc:
                if exc.status == 401:  # a service no longer takes the token
                    response = await sign_in_again(request, endpoint)
                else:  # a refusal no route words itself: its page, with the renewed session
                    response = await error_page(request, exc)
                    renew(response, request)
            except Forbidden as exc:
                response = render(
                    request, "petugas/terlarang.html", {"officer": exc.officer, "area": exc.area}, 403
                )
                renew(response, request)
            except Exception as exc:
                # an error page (404, 429, 503, a service's unexpected answer…) carries the renewed
                # session too: its refresh token was just rotated, the old cookie's is spent
                response = await error_page(request, exc)
                renew(response, request)
            else:
                renew(response, request)
                if getattr(request.state, "petugas_draft_spent", False):
                    drafts.forget(response, request)  # a draft is shown once
            response.headers["Cache-Control"] = "no-store"
            return response

        return route
