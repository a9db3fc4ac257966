"""Forms with files, relayed to a service: a bounded number at once, streamed, sent once.

- **Bounded:** at most ``SERAMBI_MAX_CONCURRENT_UPLOADS`` such posts are parsed and relayed at
  once per replica. Each may spool up to ``SERAMBI_MAX_REQUEST_BYTES`` in ``/tmp`` (memory in
  Kubernetes), so the two settings bound what uploads can hold. A post that finds no free slot
  within ``SERAMBI_UPLOAD_QUEUE_SECONDS`` has its body read and dropped (never stored), then
  gets the "coba lagi" page (503).
- **Not held by the slow or the refused** (the citizens' forms, ``public=True``): a post over
  the ``submissions`` rate limit takes no slot — only its text fields are read (its files
  dropped, never spooled) to give the form back filled in with the 429 banner; each client
  address holds at most one slot at a time (a second post from it waits for the first); and
  the form must arrive within ``SERAMBI_UPLOAD_READ_SECONDS`` of taking its slot, else the slot
  is freed and the post gets the "coba lagi" page. Four stalled uploads from one address used
  to take every slot for as long as they cared to (issue 19). The officers' console posts
  (signed in before the form is read, several officers often behind one office address) hold
  a slot under the same deadline, without the per-address rule.
- **Streamed:** the files go on to the service from where the form parser spooled them, read in
  64 KiB chunks (``adapters.backend``), never whole in memory.
- **Sent once:** each form carries an Idempotency-Key made when the form was first shown. After
  an answer that leaves the outcome open (409: the same key still in progress; 503 or a timeout:
  perhaps recorded) or a 429, the form comes back with what the person typed, the same key and a
  banner: sending it again gives the first answer instead of a second case.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from serambi_kit.ratelimit import rate_limited
from starlette.datastructures import FormData
from starlette.formparsers import MultiPartException, MultiPartParser

from ..adapters.backend import ApiError, BackendUnavailable, Throttled, client_address
from .deps import FIELD_BYTES, MAX_FIELDS, checked_form, portal_of, render, text

SUBMISSIONS = rate_limited("submissions")
#: files the parser reads of a form with files, whatever the form takes: a few more than it takes
#: are refused by the form itself, in words beside the input with the typed text kept (the
#: parser's own refusal is a bare 400 that loses everything); the bound still caps the parts read
PARSED_FILES = 20
THROTTLED = "serambi.upload_throttled"  # the Retry-After of a post refused before its slot
KEY_FIELD = "idempotency"
BANNERS = {
    409: "Kiriman Anda sebelumnya masih kami proses. Tunggu sebentar, lalu kirim lagi: kiriman "
    "yang sama tidak akan tercatat dua kali.",
    429: "Terlalu banyak kiriman dalam waktu singkat. Tunggu sebentar, lalu kirim lagi. Isian Anda "
    "masih ada di bawah ini.",
    503: "Layanan kami sedang tidak dapat dihubungi, jadi kiriman Anda mungkin belum tercatat. "
    "Isian Anda masih ada di bawah ini: kirim lagi dalam beberapa menit. Kiriman ulang tidak "
    "akan tercatat dua kali.",
}


class UploadsBusy(Exception):
    """Every upload slot stayed taken for the queue's time."""


class UploadTooSlow(UploadsBusy):
    """The form did not arrive within ``SERAMBI_UPLOAD_READ_SECONDS`` of taking its slot."""


def new_key() -> str:
    return secrets.token_urlsafe(18)


def key_of(posted: FormData) -> str:
    """The form's Idempotency-Key, or a new one if it carries none that looks like ours."""
    key = text(posted, KEY_FIELD)
    return key if 16 <= len(key) <= 64 and key.replace("-", "").replace("_", "").isalnum() else new_key()


def key_header(key: str) -> dict[str, str]:
    return {"Idempotency-Key": f"web-{key}"}


@asynccontextmanager
async def upload_form(request: Request, max_files: int, *, public: bool = False) -> AsyncIterator[FormData]:
    """The posted, CSRF-checked form while one upload slot is held; its files are closed (their
    spool in /tmp removed) when the block ends. ``max_files`` is what the form takes; up to
    ``PARSED_FILES`` are parsed, so that the form can refuse a few too many in words with the
    typed text kept. ``public``: a citizen's form — its rate limit is
    checked first (over it: the text fields only, no slot; ``throttled`` then says so) and its
    address holds one slot at most."""
    portal = portal_of(request)
    settings = portal.settings
    if public and (wait := await _over_the_limit(request)) is not None:
        request.scope[THROTTLED] = wait
        yield await _fields_only(request, settings.upload_read_seconds)
        return
    async with AsyncExitStack() as slots:
        try:
            async with asyncio.timeout(settings.upload_queue_seconds):
                if public:
                    await slots.enter_async_context(portal.per_client.hold(client_address.get() or "unknown"))
                await portal.uploads.acquire()
                slots.callback(portal.uploads.release)
        except TimeoutError:
            await _drained(request, settings.upload_read_seconds)  # the browser sees the page, not a reset
            raise UploadsBusy from None
        try:
            async with asyncio.timeout(settings.upload_read_seconds):
                posted = await checked_form(request, max_files=max(max_files, PARSED_FILES))
        except TimeoutError:
            raise UploadTooSlow from None
        try:
            yield posted
        finally:
            await posted.close()


async def _over_the_limit(request: Request) -> str | None:
    """The Retry-After seconds if the client is over its ``submissions`` limit, else None (the
    check takes one of its tokens, once per request)."""
    try:
        await SUBMISSIONS(request)
    except HTTPException as exc:
        if exc.status_code != 429:
            raise
        return (exc.headers or {}).get("Retry-After", "60")
    return None


async def _fields_only(request: Request, seconds: float) -> FormData:
    """The form's text fields up to its first file (the portal's forms put their files last),
    the rest of the body read and dropped: nothing spooled, at most ``seconds`` spent."""
    parser = MultiPartParser(
        request.headers, request.stream(), max_files=0, max_fields=MAX_FIELDS, max_part_size=FIELD_BYTES
    )
    try:
        async with asyncio.timeout(seconds):
            try:
                return await parser.parse()
            except MultiPartException:  # the first file, or a malformed body: what came before
                await _drained(request, seconds)
    except TimeoutError:
        pass
    return FormData([(name, value) for name, value in parser.items if isinstance(value, str)])


async def _drained(request: Request, seconds: float) -> None:
    """The rest of the body read and dropped, for at most ``seconds``."""
    with suppress(Exception):  # out of time, or the client went away
        async with asyncio.timeout(seconds):
            async for _ in request.stream():
                pass


async def throttled(request: Request) -> str | None:
    """The portal's own ``submissions`` limit, checked after the form was read so that a refused
    form comes back filled in (for ``upload_form(public=True)``, before: its verdict): the
    Retry-After seconds, or None to go on."""
    if THROTTLED in request.scope:
        return request.scope[THROTTLED]
    return await _over_the_limit(request)


def form_page(
    request: Request,
    template: str,
    context: dict[str, Any],
    status_code: int = 200,
    *,
    key: str | None = None,
    banner: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A form with files: ``context`` plus the banner above it and the key it is sent once with
    (a new one when first shown, the same one when it comes back). A form that comes back holds
    what the person typed (NIK, phone, e-mail, name): ``no-store``, as every page with a person's
    data."""
    shown_again = key is not None or banner is not None or status_code != 200
    response = render(
        request,
        template,
        {**context, "banner": banner, "idempotency": key or new_key()},
        status_code,
        private=shown_again,
    )
    response.headers.update(headers or {})
    return response


def again(status: int, headers: dict[str, str]) -> dict[str, Any]:
    """The keywords of ``form_page`` for a form shown again after ``status`` (409, 429, 503)."""
    return {"status_code": status, "banner": BANNERS[status], "headers": headers}


def refused(error: Exception) -> ApiError:
    """``error`` when it is the service refusing the fields or files (413, 415, 422); any other
    error is raised again."""
    if not isinstance(error, ApiError) or error.status not in (413, 415, 422):
        raise error
    return error


def retry_status(error: Exception) -> tuple[int, dict[str, str]] | None:
    """(status, headers) for a failure after which the same form may be sent again, else None."""
    if isinstance(error, BackendUnavailable):
        return 503, {"Retry-After": "30"}
    if isinstance(error, Throttled):
        return 429, {"Retry-After": error.retry_after or "60"}
    if isinstance(error, ApiError) and error.status == 409:
        return 409, {"Retry-After": "5"}
    return None
