"""The portal's calls to the services (aiohttp) against a real HTTP server on loopback: forms as
the services expect them, the citizen's address passed on, failures sorted for the pages."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import AsyncIterator
from email import policy
from email.parser import BytesParser
from urllib.parse import parse_qsl

import pytest
from aiohttp import web
from aiohttp.payload import DEFAULT_CHUNK_SIZE
from serambi_testing import localstack
from serambi_web.adapters.backend import (
    ApiError,
    BackendUnavailable,
    Pool,
    Throttled,
    _Stream,
    client_address,
)
from serambi_web.adapters.services import Complaints, Intake

SEEN: list[dict] = []


def fields(content_type: str, body: bytes) -> list[tuple[str, str | None, str | None, bytes | str]]:
    """(name, filename, content type, value) of each field of a posted form, in order."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        return [(name, None, None, value) for name, value in parse_qsl(body.decode())]
    message = BytesParser(policy=policy.default).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    return [
        (
            part.get_param("name", header="content-disposition"),
            part.get_filename(),
            part.get_content_type() if part.get_filename() else None,
            part.get_payload(decode=True) if part.get_filename() else part.get_content(),
        )
        for part in message.iter_parts()
    ]


async def record(request: web.Request) -> web.Response:
    body = await request.read()
    SEEN.append(
        {
            "path": request.path,
            "headers": dict(request.headers),
            "body": body,
            "form": fields(request.headers.get("Content-Type", ""), body),
        }
    )
    status = int(request.query.get("status", "200"))
    if status == 429:
        return web.json_response({"error": "slow down"}, status=429, headers={"Retry-After": "7"})
    if status == 422:
        return web.json_response(
            {
                "error": "invalid_request",
                "errors": [{"field": "email", "rule": "value_error", "message": "not an e-mail address"}],
            },
            status=422,
        )
    return web.json_response({"ok": True, "path": request.path}, status=status)


async def slow(_: web.Request) -> web.Response:
    await asyncio.sleep(2)
    return web.json_response({})


@pytest.fixture
async def service() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_route("*", "/slow", slow)
    app.router.add_route("*", "/{tail:.*}", record)
    runner = web.AppRunner(app)
    await runner.setup()
    port = localstack.free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    SEEN.clear()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.fixture
async def pool() -> AsyncIterator[Pool]:
    pool = Pool(timeout_seconds=0.5)
    yield pool
    await pool.aclose()


async def test_a_form_without_files_goes_urlencoded_and_one_with_files_as_multipart(service, pool):
    complaints = Complaints("complaints", pool, service)
    await complaints.submit([("name", "Siti"), ("channel", "web"), ("channel", "sms")], [])
    plain = SEEN[-1]
    assert plain["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert plain["form"] == [
        ("name", None, None, "Siti"),
        ("channel", None, None, "web"),
        ("channel", None, None, "sms"),
    ]
    files = [
        ("attachments", ("foto.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100, "image/png")),
        ("attachments", ("surat.pdf", b"%PDF-1.7 x", "application/pdf")),
    ]
    await complaints.submit([("name", "Siti")], files)
    multipart = SEEN[-1]
    assert multipart["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    assert int(multipart["headers"]["Content-Length"]) == len(multipart["body"])
    assert multipart["form"] == [
        ("name", None, None, "Siti"),
        ("attachments", "foto.png", "image/png", files[0][1][1]),
        ("attachments", "surat.pdf", "application/pdf", b"%PDF-1.7 x"),
    ]


async def test_the_citizens_address_and_the_access_token_are_passed_on(service, pool):
    address = client_address.set("203.0.113.9")
    try:
        assert await Intake("intake", pool, service).track("AUD-1", "t" * 20) == {
            "ok": True,
            "path": "/api/v1/requests/AUD-1",
        }
    finally:
        client_address.reset(address)
    assert SEEN[-1]["headers"]["X-Forwarded-For"] == "203.0.113.9"
    assert SEEN[-1]["headers"]["X-Access-Token"] == "t" * 20


async def test_a_post_without_a_body_says_so_and_json_goes_as_json(service, pool):
    intake = Intake("intake", pool, service)
    await intake.resend_link("AUD-1")
    assert SEEN[-1]["headers"].get("Content-Length") == "0" and SEEN[-1]["body"] == b""
    await intake.withdraw("AUD-1", "t" * 20, "tidak jadi")
    assert SEEN[-1]["headers"]["Content-Type"] == "application/json"
    assert json.loads(SEEN[-1]["body"]) == {"reason": "tidak jadi"}


async def test_failures_are_sorted_for_the_pages(service, pool):
    intake = Intake("intake", pool, service)
    assert await intake.found("GET", "/x?status=404") is None
    with pytest.raises(BackendUnavailable):
        await intake.call("GET", "/x?status=503")
    with pytest.raises(Throttled) as throttled:
        await intake.call("GET", "/x?status=429")
    assert throttled.value.retry_after == "7"
    with pytest.raises(ApiError) as invalid:
        await intake.call("POST", "/x?status=422", json={})
    assert invalid.value.status == 422 and invalid.value.errors[0]["field"] == "email"
    with pytest.raises(BackendUnavailable, match="TimeoutError"):
        await intake.call("GET", "/slow")  # the pool's 0.5 s
    unreachable = Intake("intake", pool, f"http://127.0.0.1:{localstack.free_port()}")
    with pytest.raises(BackendUnavailable):
        await unreachable.call("GET", "/x")
    assert (await unreachable.alive()).startswith("unreachable")
    assert await intake.alive() == "ok"


async def test_the_pool_follows_the_event_loop_it_is_used_in(service):
    """A test client, or anything else, may run the app in another loop than the first one."""
    pool = Pool(timeout_seconds=2)

    async def once() -> dict:
        return await Intake("intake", pool, service).json("GET", "/again")

    # two loops one after the other, each in a thread; this loop keeps serving meanwhile
    answers = [await asyncio.to_thread(asyncio.run, once()) for _ in range(2)]
    assert answers == [{"ok": True, "path": "/again"}] * 2


def test_a_retried_upload_reads_the_whole_file_while_the_abandoned_attempt_still_reads_it():
    """A service that answers 401 before reading the body leaves the first attempt's writer
    reading the spooled file in a worker thread while the retry sends it again: each payload
    reads from its own position, so neither body comes out short or shuffled (the review saw a
    retry 256 KiB short)."""
    data = os.urandom(3 * DEFAULT_CHUNK_SIZE + 123)
    with tempfile.TemporaryFile() as spooled:
        spooled.write(data)
        first = _Stream(spooled, "application/pdf")
        size, chunk = first._read_and_available_len(None)
        first_body = [chunk]
        retry = _Stream(spooled, "application/pdf")  # built while the first is mid-file
        _, chunk = retry._read_and_available_len(None)
        retry_body = [chunk]
        while chunk := first._read(None):
            first_body.append(chunk)
            retry_body.append(retry._read(None))
        retry_body.append(retry._read(None))
    assert size == len(data) == retry.size
    assert b"".join(first_body) == data
    assert b"".join(retry_body) == data
