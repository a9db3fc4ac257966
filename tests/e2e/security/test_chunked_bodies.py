"""Chunked bodies on the real uvicorn: counted while they stream in, 413 as soon as one passes
its route's limit, and the service's memory stays flat (issue #19, item 1)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow  # make test-slow (CI runs it after make test)

MB = 1024 * 1024
GROWTH_BOUND_MB = 50  # a body was 658 MB (complaints) and 1140 MB (intake) of RSS before


@pytest.fixture(scope="module")
def limits_stack(tmp_path_factory, stack_of):
    with stack_of(tmp_path_factory.mktemp("bodies"), ("intake", "complaints")) as stack:
        yield stack


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def _chunks(total: int, head: bytes = b"", chunk: int = 64 * 1024):
    yield head
    sent = 0
    while sent < total:
        yield b"x" * chunk
        sent += chunk


async def _post_chunked(url: str, content_type: str, total: int, head: bytes = b"") -> httpx.Response:
    async with httpx.AsyncClient(timeout=60) as client:
        return await client.post(
            url,
            content=_chunks(total, head),
            headers={"content-type": content_type, "X-Access-Token": "t" * 43},
        )


def _upload_head(boundary: str) -> bytes:
    return (
        f'--{boundary}\r\nContent-Disposition: form-data; name="request_letter"; '
        f'filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n'
    ).encode()


def test_a_chunked_json_body_of_200_mb_is_413_and_the_withdrawal_route_stays_flat(limits_stack):
    pid = limits_stack.processes["intake"].pid
    before = rss_mb(pid)
    url = f"{limits_stack.urls['intake']}/api/v1/requests/AUD-2025-000001/withdraw"
    answer = asyncio.run(_post_chunked(url, "application/json", 200 * MB, b'{"reason": "'))
    assert answer.status_code == 413 and "request body larger than" in answer.json()["error"]
    assert rss_mb(pid) - before < GROWTH_BOUND_MB


def test_a_chunked_complaint_is_413_past_the_public_json_limit_and_complaints_stays_flat(limits_stack):
    pid = limits_stack.processes["complaints"].pid
    before = rss_mb(pid)
    url = f"{limits_stack.urls['complaints']}/api/v1/complaints"
    answer = asyncio.run(_post_chunked(url, "application/json", 200 * MB, b'{"description": "'))
    assert answer.status_code == 413 and "98304 bytes" in answer.json()["error"]
    assert rss_mb(pid) - before < GROWTH_BOUND_MB


def test_sixteen_concurrent_chunked_uploads_past_the_limit_are_413_and_intake_stays_flat(limits_stack):
    pid = limits_stack.processes["intake"].pid
    before = rss_mb(pid)
    url = f"{limits_stack.urls['intake']}/api/v1/requests"
    content_type = "multipart/form-data; boundary=bound"

    async def uploads() -> list[httpx.Response]:
        return await asyncio.gather(
            *(_post_chunked(url, content_type, 40 * MB, _upload_head("bound")) for _ in range(16))
        )

    answers = asyncio.run(uploads())
    assert {answer.status_code for answer in answers} == {413}
    assert "25000000 bytes" in answers[0].json()["error"]
    assert rss_mb(pid) - before < GROWTH_BOUND_MB


def _many_parts(boundary: str, field: str, parts: int = 23, size: int = MB) -> bytes:
    """The review's body (issue 19): many files of 1 MiB, under the request limit, each of which
    Starlette's defaults (1,000 files) kept whole in memory — 27 MB a request."""
    one = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="a.pdf"\r\n'
            f"Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + b"%PDF-"
        + b"a" * (size - 5)
        + b"\r\n"
    )
    return one * parts + f"--{boundary}--\r\n".encode()


async def _post_parts(url: str, body: bytes, chunked: bool) -> httpx.Response:
    async def chunks():
        for at in range(0, len(body), 64 * 1024):
            yield body[at : at + 64 * 1024]

    async with httpx.AsyncClient(timeout=60) as client:
        return await client.post(
            url,
            content=chunks() if chunked else body,
            headers={"content-type": "multipart/form-data; boundary=bound"},
        )


@pytest.mark.parametrize(
    ("service", "path", "field", "chunked", "rule"),
    [
        ("intake", "/api/v1/requests", "request_letter", True, "too_many_files"),
        ("complaints", "/api/v1/complaints", "attachments", False, "too_many"),  # multipart needs a length
    ],
)
def test_sixteen_concurrent_forms_of_many_small_files_are_refused_and_the_service_stays_flat(
    limits_stack, service, path, field, chunked, rule
):
    pid = limits_stack.processes[service].pid
    before = rss_mb(pid)
    body = _many_parts("bound", field)
    url = f"{limits_stack.urls[service]}{path}"

    async def posts() -> list[httpx.Response]:
        return await asyncio.gather(*(_post_parts(url, body, chunked) for _ in range(16)))

    answers = asyncio.run(posts())
    assert {answer.status_code for answer in answers} == {422}, answers[0].text
    assert answers[0].json()["errors"][0]["rule"] == rule
    assert rss_mb(pid) - before < GROWTH_BOUND_MB
