"""What the routes share: the portal's and the console's containers (``Annotated[...,
Depends(...)]`` aliases, read from the app here and nowhere else), page rendering, checked forms,
sessions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData, UploadFile

from ..adapters.backend import Backend
from ..adapters.oidc import Provider
from ..adapters.services import Complaints, Intake, Scheduling
from ..adapters.session import Sealer
from ..settings import ConsoleSettings, WebSettings
from .security import Secrets

KINDS = ("audiensi", "pengaduan")
CODE_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
MAX_FIELDS, FIELD_BYTES = 40, 64 * 1024  # a posted form's text fields, and the size of each
#: a form without files: its whole body (the console's drafts read no more) and how long it may
#: take to arrive
FORM_BYTES, FORM_READ_SECONDS = 256 * 1024, 15.0


class FormExpiredError(Exception):
    """The form's CSRF token does not match its cookie (expired, or posted from elsewhere)."""


class OnePerClient:
    """At most one upload slot per client address: a second post waits for the first."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}  # only addresses with posts in flight

    @asynccontextmanager
    async def hold(self, client: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(client) or (asyncio.Lock(), 0)
        self._locks[client] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[client]
            if users == 1:
                del self._locks[client]
            else:
                self._locks[client] = (lock, users - 1)

    def __len__(self) -> int:
        """How many addresses have a post in flight."""
        return len(self._locks)


@dataclass
class Portal:
    """The composition root's product; ``settings`` is what the kit's rate limiter reads."""

    settings: WebSettings
    intake: Intake
    complaints: Complaints
    scheduling: Scheduling
    templates: Jinja2Templates
    secrets: Secrets
    content: dict[str, Any]
    #: slots for form posts with files (``relay.upload_form``); sized by the settings
    uploads: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(4))
    #: a citizen's address holds one of them at most (``relay.upload_form(public=True)``)
    per_client: OnePerClient = field(default_factory=OnePerClient)
    #: the notifier's API, for the admin's dead letters (None: ``SERAMBI_NOTIFIER_URL`` unset)
    notifier: Backend | None = None


def portal_of(request: Request) -> Portal:
    portal: Portal = request.app.state.runtime
    return portal


async def _portal(request: Request) -> Portal:
    return portal_of(request)  # async: a plain def dependency would run in the thread pool


PortalDep = Annotated[Portal, Depends(_portal)]


@dataclass
class Console:
    """The officer console's part of the container (``main.py``): its settings, the OpenID
    provider's client and the session sealer."""

    settings: ConsoleSettings
    provider: Provider
    sealer: Sealer


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


async def _console(request: Request) -> Console:
    return console_of(request)


ConsoleDep = Annotated[Console, Depends(_console)]


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
    *,
    private: bool = False,
) -> HTMLResponse:
    """A page; forms on it get a CSRF token bound to this browser's cookie (set if missing)."""
    portal = portal_of(request)
    nonce = request.cookies.get(portal.secrets.csrf_cookie)
    fresh = nonce is None
    if fresh:
        nonce = Secrets.new_nonce()
    response = portal.templates.TemplateResponse(
        request,
        template,
        {"csrf": portal.secrets.csrf_token(nonce), "content": portal.content, **(context or {})},
        status_code=status_code,
    )
    if fresh:
        response.set_cookie(
            portal.secrets.csrf_cookie,
            nonce,
            httponly=True,
            samesite="lax",
            path="/",
            secure=portal.secrets.secure,
        )
    if private:  # carries a tracking secret or a person's case
        response.headers["Cache-Control"] = "no-store"
    return response


async def checked_form(request: Request, max_files: int = 0) -> FormData:
    """The posted form, parsed within limits, after its CSRF token is checked. ``max_files`` is 0
    (no file part is parsed, none spooled in /tmp) unless an upload route (``relay.upload_form``)
    asks for more: anyone can post to any form before its CSRF token is read.

    A post that is not a multipart upload to such a route is read first, within ``FORM_BYTES``
    (413 above, counted as it streams, also without a Content-Length) and ``FORM_READ_SECONDS``
    (408), so that stalled or large posts to forms without files hold little for little time."""
    if not (max_files > 0 and request.headers.get("content-type", "").startswith("multipart/form-data")):
        await read_small_body(request)
    form = await request.form(max_files=max_files, max_fields=MAX_FIELDS, max_part_size=FIELD_BYTES)
    token = form.get("csrf")
    secrets = portal_of(request).secrets
    if not secrets.csrf_valid(
        request.cookies.get(secrets.csrf_cookie), token if isinstance(token, str) else None
    ):
        raise FormExpiredError
    return form


async def read_small_body(request: Request) -> bytes:
    """The body read whole (the form parser then reads it from ``request``), or HTTPException
    413 past ``FORM_BYTES`` / 408 past ``FORM_READ_SECONDS``."""
    if hasattr(request, "_body"):
        return await request.body()
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > FORM_BYTES:
        raise HTTPException(413)
    chunks, size = [], 0
    try:
        async with asyncio.timeout(FORM_READ_SECONDS):
            async for chunk in request.stream():
                size += len(chunk)
                if size > FORM_BYTES:
                    raise HTTPException(413)
                chunks.append(chunk)
    except TimeoutError:
        raise HTTPException(408) from None
    request._body = b"".join(chunks)  # what Request.body() keeps: stream() and form() read it
    return request._body


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def uploads(form: FormData, name: str) -> list[UploadFile]:
    """The files chosen in ``name`` (a browser sends an empty part when none is chosen)."""
    return [
        item for item in form.getlist(name) if isinstance(item, UploadFile) and (item.filename or item.size)
    ]


def session_token(request: Request, kind: str, code: str) -> str | None:
    secrets = portal_of(request).secrets
    return secrets.open(f"{kind}:{code}", request.cookies.get(secrets.session_cookie))


def start_session(response: Response, request: Request, kind: str, code: str, token: str) -> None:
    portal = portal_of(request)
    response.set_cookie(
        portal.secrets.session_cookie,
        portal.secrets.seal(f"{kind}:{code}", token),
        max_age=portal.secrets.session_seconds,
        path=f"/lacak/{kind}/{code}",
        httponly=True,
        samesite="lax",
        secure=portal.secrets.secure,
    )


def end_session(response: Response, request: Request, kind: str, code: str) -> None:
    secrets = portal_of(request).secrets
    response.delete_cookie(
        secrets.session_cookie,
        path=f"/lacak/{kind}/{code}",
        secure=secrets.secure,
        httponly=True,
        samesite="lax",
    )
