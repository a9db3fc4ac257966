"""Forms without files: nothing spooled, a small body cap and a read deadline (the hostile
review's findings 1 and 2)."""

from __future__ import annotations

import asyncio
import inspect

import httpx
import pytest
from serambi_web.api import deps
from serambi_web.api.deps import checked_form
from serambi_web.main import create_app
from serambi_web.settings import WebSettings
from starlette import formparsers


def portal(**settings: object) -> httpx.AsyncClient:
    app = create_app(WebSettings(backend_timeout_seconds=5, **settings))
    transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://portal.test")


@pytest.fixture
def spooled(monkeypatch) -> list[object]:
    """Every file part the form parser spools (a temporary file in /tmp)."""
    made: list[object] = []
    real = formparsers.SpooledTemporaryFile

    def spy(*args, **kwargs):
        made.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(formparsers, "SpooledTemporaryFile", spy)
    return made


def test_a_checked_form_takes_no_files_unless_the_route_asks():
    assert inspect.signature(checked_form).parameters["max_files"].default == 0


async def test_an_anonymous_sign_out_post_with_files_spools_nothing(spooled):
    files = [("f", (f"{i}.bin", b"x" * 1000, "application/octet-stream")) for i in range(4)]
    async with portal() as client:
        answer = await client.post("/petugas/keluar", data={"csrf": "x"}, files=files)
    assert answer.status_code in (400, 403)
    assert spooled == []


async def asgi_post(app, path: str, chunks: list[bytes], length: int, *, stall: bool = False) -> int:
    """POST ``chunks`` to ``app`` over raw ASGI, declaring ``length``; ``stall``: the client stops
    sending after them (without ending the body). The answer's status."""
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
        "headers": [
            (b"host", b"portal.test"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(length).encode()),
        ],
        "client": ("198.51.100.7", 40000),
        "server": ("portal.test", 80),
        "state": {},
    }
    queue = [{"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks]
    read = []

    async def receive():
        if queue:
            read.append(1)
            return queue.pop(0)
        if stall:
            await asyncio.sleep(3600)
        return {"type": "http.request", "body": b"", "more_body": False}

    status = []

    async def send(message):
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, receive, send)
    return status[0]


@pytest.mark.parametrize("path", ["/lacak", "/lupa-tautan", "/petugas/keluar"])
async def test_a_form_without_files_above_256_kib_is_a_413_page(path):
    body = b"csrf=x&token=" + b"t" * 300_000
    async with portal() as client:
        answer = await client.post(
            path, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
    assert answer.status_code == 413 and "Berkas terlalu besar" in answer.text


async def test_a_body_longer_than_it_said_is_counted_as_it_streams_and_refused_past_256_kib():
    app = create_app(WebSettings(backend_timeout_seconds=5))
    chunks = [b"token=" + b"t" * 65_536] + [b"t" * 65_536] * 6  # 450 KiB under a Content-Length of 100
    assert await asgi_post(app, "/lacak", chunks, 100) == 413


async def test_a_stalled_post_to_a_form_without_files_gets_the_408_page(monkeypatch):
    monkeypatch.setattr(deps, "FORM_READ_SECONDS", 0.2)
    app = create_app(WebSettings(backend_timeout_seconds=5))
    started = asyncio.get_running_loop().time()
    assert await asgi_post(app, "/lacak", [b"csrf=x&to"], 5000, stall=True) == 408
    assert asyncio.get_running_loop().time() - started < 5
