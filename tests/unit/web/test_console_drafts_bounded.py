"""Keeping a draft reads (nearly) nothing of a post that is not worth keeping: a post to a
draft-keeping console route without a session is answered without reading its body, and an
ended session's post is read no further than ``deps.FORM_BYTES`` (files are never kept anyway)
— never up to the upload limit outside the upload slots."""

from __future__ import annotations

import re
import time

import pytest
from serambi_web.adapters.session import OfficerSession, session_cookies
from serambi_web.api import deps
from serambi_web.api.petugas import drafts
from serambi_web.main import create_app

BOUNDARY = "XyZ"
CHUNK = 64 * 1024


@pytest.fixture(scope="module")
def app():
    return create_app()


def ended_session_cookies(app) -> dict[str, str]:
    now = time.time()
    session = OfficerSession(
        subject="f3a1",
        name="Petugas Pengaduan",
        username="aduan",
        roles=["complaint_officer"],
        access_token="at",
        access_expires=now + 3600,
        refresh_token="rt",
        id_token="it",
        started=now - 3600,
        seen=now - 31 * 60,
    )
    return {
        name: value for name, value in session_cookies(app.state.console.sealer, session).items() if value
    }


def csrf(app) -> tuple[dict[str, str], str]:
    secrets = app.state.runtime.secrets
    return {secrets.csrf_cookie: "nonce-of-this-browser"}, secrets.csrf_token("nonce-of-this-browser")


async def post(
    app,
    path: str,
    size: int,
    cookies: dict[str, str],
    token: str = "",
    *,
    length: int | None | str = "actual",
) -> tuple[int, int, list[str]]:
    """POST a multipart form of ``size`` bytes of file in 64 KiB chunks; returns (status, bytes
    the app asked for, Set-Cookie headers)."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{token}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="description"\r\n\r\nLampu padam\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachments"; filename="a.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    parts = [head] + [b"%" * CHUNK] * (size // CHUNK) + [tail]
    total = sum(map(len, parts))
    consumed = 0

    async def receive():
        nonlocal consumed
        if parts:
            part = parts.pop(0)
            consumed += len(part)
            return {"type": "http.request", "body": part, "more_body": bool(parts)}
        return {"type": "http.disconnect"}

    started: list[dict] = []

    async def send(message):
        if message["type"] == "http.response.start":
            started.append(message)

    headers = [
        (b"host", b"127.0.0.1"),
        (b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode()),
    ]
    if length == "actual":
        headers.append((b"content-length", str(total).encode()))
    elif length is not None:
        headers.append((b"content-length", str(length).encode()))
    if cookies:
        headers.append((b"cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1234),
        "server": ("127.0.0.1", 80),
        "state": {},
        "app": app,
    }
    await app(scope, receive, send)
    [start] = started
    cookies_set = [v.decode() for k, v in start["headers"] if k == b"set-cookie"]
    return start["status"], consumed, cookies_set


def kept(cookies_set: list[str]) -> bool:
    return any(re.match(rf"{drafts.COOKIE}_0=[^;]", c) for c in cookies_set)


async def test_an_anonymous_40_mb_post_is_answered_without_reading_its_body(app):
    status, consumed, cookies_set = await post(app, "/petugas/pengaduan/baru", 40 << 20, {})
    assert status == 200 and consumed == 0 and not kept(cookies_set)


async def test_an_ended_session_without_this_browsers_csrf_cookie_reads_nothing(app):
    status, consumed, cookies_set = await post(
        app, "/petugas/pengaduan/baru", 40 << 20, ended_session_cookies(app)
    )
    assert status == 200 and consumed == 0 and not kept(cookies_set)


async def test_an_ended_sessions_post_above_the_bound_or_without_a_length_reads_nothing(app):
    nonce, token = csrf(app)
    cookies = {**ended_session_cookies(app), **nonce}
    for length, answer in (("actual", 200), (None, 411)):  # 411: the portal's own body limits
        status, consumed, cookies_set = await post(
            app, "/petugas/pengaduan/baru", 40 << 20, cookies, token, length=length
        )
        assert status == answer and consumed == 0 and not kept(cookies_set)


async def test_a_body_longer_than_its_length_says_is_read_no_further_than_the_bound(app):
    nonce, token = csrf(app)
    cookies = {**ended_session_cookies(app), **nonce}
    status, consumed, cookies_set = await post(
        app, "/petugas/pengaduan/baru", 40 << 20, cookies, token, length=1000
    )
    assert status == 200 and consumed <= deps.FORM_BYTES + 2 * CHUNK and not kept(cookies_set)


async def test_a_small_post_of_an_ended_session_is_still_kept_without_its_file(app):
    nonce, token = csrf(app)
    cookies = {**ended_session_cookies(app), **nonce}
    status, consumed, cookies_set = await post(app, "/petugas/pengaduan/baru", 2 * CHUNK, cookies, token)
    assert status == 200 and kept(cookies_set)
    value = next(c for c in cookies_set if c.startswith(f"{drafts.COOKIE}_0=")).split(";")[0].split("=", 1)[1]
    draft = drafts.Draft(**app.state.console.sealer.open(drafts.PURPOSE, value))
    assert draft.fields == {"description": ["Lampu padam"]} and draft.had_files
