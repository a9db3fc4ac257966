"""Bodies counted while they stream in: chunked bodies over the limit get 413, a route's own
limit (uploads, a smaller public JSON) applies, and a rate-limited client's body is never read."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, File, UploadFile
from fastapi.testclient import TestClient
from pydantic import BaseModel
from serambi_kit.bodylimit import BodyLimit, ChecksFirstRoute, body_limit
from serambi_kit.ratelimit import rate_limited
from serambi_kit.state import KitState, install

SMALL, UPLOADS = 1_000, 50_000


class Note(BaseModel):
    text: str


def _app(rate_per_minute: int = 1000) -> FastAPI:
    app = FastAPI()
    install(app, KitState(SimpleNamespace(rate_limits={"tight": rate_per_minute}, max_request_bytes=UPLOADS)))
    router = APIRouter(route_class=ChecksFirstRoute)

    @router.post("/notes")
    async def notes(note: Note) -> dict:
        return {"length": len(note.text)}

    @router.post(
        "/uploads", dependencies=[Depends(rate_limited("tight")), Depends(body_limit("max_request_bytes"))]
    )
    async def uploads(file: Annotated[UploadFile, File()]) -> dict:
        return {"size": len(await file.read())}

    app.include_router(router)
    app.add_middleware(BodyLimit, limit=SMALL)
    return app


def _chunks(total: int, size: int = 100):
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


def test_a_chunked_body_over_the_limit_is_refused_with_413_as_json():
    with TestClient(_app()) as client:
        small = client.post("/notes", json={"text": "hello"})
        big = client.post("/notes", content=_chunks(5_000), headers={"content-type": "application/json"})
    assert small.status_code == 200
    assert big.status_code == 413 and f"request body larger than {SMALL} bytes" in big.text
    assert "content-length" not in big.request.headers  # it was sent chunked


def test_a_declared_length_over_the_limit_is_refused_before_reading():
    with TestClient(_app()) as client:
        answer = client.post(
            "/notes", content=json.dumps({"text": "y" * 2_000}), headers={"content-type": "application/json"}
        )
    assert answer.status_code == 413


def test_an_upload_route_has_its_own_larger_limit_counted_while_streaming():
    boundary = "b0undary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def form(size: int):
        yield head
        yield from _chunks(size, 4096)
        yield tail

    headers = {"content-type": f"multipart/form-data; boundary={boundary}"}
    with TestClient(_app()) as client:
        fits = client.post("/uploads", content=form(20_000), headers=headers)
        too_big = client.post("/uploads", content=form(80_000), headers=headers)
    assert fits.status_code == 200 and fits.json() == {"size": 20_000}
    assert too_big.status_code == 413 and f"larger than {UPLOADS} bytes" in too_big.text


def _call(app: FastAPI, path: str, chunks: int) -> tuple[int, int]:
    """POST ``chunks`` chunks of 1,000 bytes straight through ASGI: (status, chunks read)."""
    read = 0
    statuses: list[int] = []

    async def receive() -> dict:
        nonlocal read
        read += 1
        return {"type": "http.request", "body": b"x" * 1000, "more_body": read < chunks}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "scheme": "http",
        "http_version": "1.1",
        "server": ("test", 80),
        "client": ("192.0.2.1", 1234),
        "headers": [(b"content-type", b"multipart/form-data; boundary=x")],
    }
    asyncio.run(app(scope, receive, send))
    return statuses[0], read


def test_a_rate_limited_client_is_refused_before_its_body_is_read():
    app = _app(rate_per_minute=1)
    _call(app, "/uploads", 10)  # takes the only token
    status, read = _call(app, "/uploads", 10)
    assert (status, read) == (429, 0)


def test_the_rate_limit_is_taken_once_per_request_although_checked_before_the_body():
    app = _app(rate_per_minute=2)
    statuses = [_call(app, "/uploads", 3)[0] for _ in range(3)]
    assert statuses[:2] != [429, 429] and statuses[2] == 429
    assert 429 not in statuses[:2]
