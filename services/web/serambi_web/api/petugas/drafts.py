"""A form in progress kept across a new sign-in.

When a console form is posted after the session ended (idle or absolute timeout, or a service
no longer takes the token), the officer is sent to sign in again (``access.sign_in_again``: a
page that moves on by itself). If the post's CSRF token is this browser's, its text fields go
with them in a sealed cookie (``serambi_petugas_draf_0``/``_1``:
AES-GCM under the session's key with a purpose of its own, HttpOnly, SameSite=Lax,
Path=/petugas, 15 minutes, at most two cookies). Never files, never the CSRF token. After
sign-in the officer lands on the page that holds the form, which shows it filled in again with
a notice that it was **not** sent; the officer presses the button again. The draft is bound to
the officer whose session ended, opened once, and then deleted; when the browser no longer
holds the ended session (past the absolute timeout), whose it was is unknown and nothing is
kept, since on a shared desk computer the next officer to sign in must not see it.

A POST route opts in with ``@form_on("/petugas/…/{param}")``: the page of its form, filled
with the route's path parameters; its GET handler reads ``restored(request, officer)``.

Anyone can post to a console address, signed in or not, so nothing of a post is read before it
is known to be worth keeping: without the ended session's cookie or the browser's CSRF cookie
the body is not touched at all, and a body above ``deps.FORM_BYTES`` (256 KiB: every console
form's text with room to spare; files are never kept) or slower than the forms' read deadline
is not kept either — it is read up to that bound only, outside the upload slots (``api/relay``),
so it costs at most that much. A form the route already read (a service refused the token after it)
is used as it is.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from ...adapters.session import CHUNK, PATH, Sealer, read_session
from ...domain.drafts import MAX_VALUE, SECONDS, Draft, fitted
from ..deps import console_of, portal_of, read_small_body

COOKIE = "serambi_petugas_draf"
PURPOSE = "draft"
MAX_CHUNKS = 2  # with the session's cookies, well under a server's 16 KiB request head
MAX_FIELDS = 40
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def form_on(page: str) -> Callable[[Endpoint], Endpoint]:
    """Marks a POST route whose form lives on ``page`` (a format string over its path parameters):
    a post there after the session ended keeps its fields and returns to ``page`` after sign-in."""

    def mark(endpoint: Endpoint) -> Endpoint:
        endpoint.form_page = page  # type: ignore[attr-defined]
        return endpoint

    return mark


def page_of(endpoint: Callable[..., Any], request: Request) -> str | None:
    page = getattr(endpoint, "form_page", None)
    if page is None or request.method != "POST":
        return None
    return page.format(**{name: quote(str(value), safe="") for name, value in request.path_params.items()})


def _sealer(request: Request) -> Sealer:
    return console_of(request).sealer


async def _bounded_form(request: Request) -> FormData | None:
    """The posted form read within ``deps.FORM_BYTES`` and the forms' read deadline (``deps``'
    ``read_small_body``; the route's own reading when it did), or None: a larger body, one too
    slow to arrive, or a form that cannot be read (more files or fields than a console form has)."""
    cached = getattr(request, "_form", None)  # the route read it already: nothing more to read
    if isinstance(cached, FormData):
        return cached
    try:
        body = await read_small_body(request)
    except HTTPException:  # too large, or too slow to arrive: nothing is kept
        return None
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        return await Request(request.scope, receive).form(
            max_files=8, max_fields=MAX_FIELDS, max_part_size=64 * 1024
        )
    except (MultiPartException, HTTPException, ValueError):
        return None


async def keep(request: Request, page: str) -> Draft | None:
    """The posted form's text fields, to come back on ``page`` (None if the browser no longer
    holds the ended session or has no CSRF cookie — then the body is not read at all —, if the
    body is larger than ``deps.FORM_BYTES`` or too slow, the form cannot be read, its CSRF token is not
    this browser's, or it holds no text)."""
    ended = read_session(_sealer(request), request.cookies)  # timeouts do not matter here
    secrets = portal_of(request).secrets
    nonce = request.cookies.get(secrets.csrf_cookie)
    if ended is None or not nonce:
        return None  # whose it was is unknown (the browser dropped the session: on a shared desk
        # computer the next officer to sign in must not see it), or not a page of this browser's
    form = await _bounded_form(request)
    if form is None:
        return None
    token = form.get("csrf")
    if not secrets.csrf_valid(nonce, token if isinstance(token, str) else None):
        return None  # not posted from this browser's page: nothing of it is kept
    fields: dict[str, list[str]] = {}
    had_files = False
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            had_files = had_files or bool(value.filename or value.size)
            await value.close()
        elif name != "csrf" and value.strip():
            fields.setdefault(name, []).append(value[:MAX_VALUE])
    if not fields:
        return None
    return Draft(page, request.url.path, fields, ended.subject, time.time(), had_files=had_files)


def write(response: Response, request: Request, draft: Draft, secure: bool) -> None:
    """Set the sealed draft's cookies on ``response``."""
    chunks = _seal(_sealer(request), draft)
    for i in range(MAX_CHUNKS):
        if i < len(chunks):
            response.set_cookie(
                f"{COOKIE}_{i}",
                chunks[i],
                max_age=SECONDS,
                path=PATH,
                httponly=True,
                samesite="lax",
                secure=secure,
            )
        elif f"{COOKIE}_{i}" in request.cookies:
            response.delete_cookie(f"{COOKIE}_{i}", path=PATH)


def _seal(sealer: Sealer, draft: Draft) -> list[str]:
    """The sealed draft in at most MAX_CHUNKS cookies (``fitted`` leaves the longest fields out)."""
    value = fitted(draft, lambda kept: sealer.seal(PURPOSE, asdict(kept)), CHUNK * MAX_CHUNKS)
    return [value[i : i + CHUNK] for i in range(0, len(value), CHUNK)]


def restored(request: Request, subject: str) -> Draft | None:
    """The draft of the form on this page, for this officer, once (the answer deletes it); an
    expired one, or another officer's, is deleted unseen."""
    if not request.cookies.get(f"{COOKIE}_0"):
        return None
    draft = _open(request)
    fresh = draft is not None and draft.fresh(time.time())
    if fresh and draft.page != request.url.path:
        return None  # another page's form: it waits for its page until it expires
    request.state.petugas_draft_spent = True  # ConsoleRoute deletes the cookies with this answer
    if not fresh or draft.subject != subject:
        return None
    request.state.petugas_draft = draft  # the console's base page shows the notice
    return draft


def _open(request: Request) -> Draft | None:
    value = "".join(request.cookies.get(f"{COOKIE}_{i}", "") for i in range(MAX_CHUNKS))
    data = _sealer(request).open(PURPOSE, value)
    try:
        return Draft(**data) if data else None
    except TypeError:  # sealed by an older layout
        return None


def forget(response: Response, request: Request) -> None:
    for i in range(MAX_CHUNKS):
        if f"{COOKIE}_{i}" in request.cookies:
            response.delete_cookie(f"{COOKIE}_{i}", path=PATH)
