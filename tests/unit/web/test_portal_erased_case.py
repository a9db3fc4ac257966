"""The portal's tracking page of a complaint whose personal data was erased (issue 19, item 10):
the service answers 410, and the page says in Indonesian that the data was erased — not an
error page, not the form asking for the code again."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web
from serambi_testing import localstack
from serambi_web.main import create_app
from serambi_web.settings import WebSettings

CODE = "ADU-2026-000007"
TOKEN = "t" * 43


@pytest.fixture
async def complaints() -> AsyncIterator[tuple[list[str], str]]:
    """The complaints API of an erased complaint: 410 for the right token, 404 otherwise."""
    calls: list[str] = []

    async def gone(request: web.Request) -> web.Response:
        calls.append(f"{request.method} {request.path}")
        if request.headers.get("X-Access-Token") != TOKEN:
            return web.json_response({"error": "no complaint with this code and token"}, status=404)
        return web.json_response(
            {
                "error": "personal_data_erased",
                "detail": "erased",
                "tracking_code": request.match_info["code"],
            },
            status=410,
        )

    app = web.Application()
    app.router.add_get("/api/v1/complaints/{code}", gone)
    app.router.add_post("/api/v1/complaints/{code}/dispute", gone)
    runner = web.AppRunner(app)
    await runner.setup()
    port = localstack.free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield calls, f"http://127.0.0.1:{port}"
    await runner.cleanup()


def portal(url: str) -> httpx.AsyncClient:
    app = create_app(
        WebSettings(intake_url=url, complaints_url=url, scheduling_url=url, backend_timeout_seconds=5)
    )
    transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://portal.test")


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no hidden {name}"
    return found.group(1)


async def test_the_tracking_link_of_an_erased_complaint_says_the_data_was_erased(complaints):
    calls, url = complaints
    async with portal(url) as client:
        opening = await client.get(f"/lacak/pengaduan/{CODE}")  # the e-mailed link, fragment unsent
        opened = await client.post(
            f"/lacak/pengaduan/{CODE}", data={"csrf": hidden(opening.text, "csrf"), "token": TOKEN}
        )
        assert opened.status_code == 303
        page = await client.get(opened.headers["location"])
        assert page.status_code == 410
        assert "Data pribadi telah dihapus" in page.text
        assert "tidak dapat ditampilkan lagi" in page.text and "tidak dapat disanggah" in page.text
        assert 'name="token"' not in page.text  # not the form asking for the code again
        # a dispute posted from an older tab goes back to the same page, not to a 500
        disputed = await client.post(
            f"/lacak/pengaduan/{CODE}/sanggah",
            data={"csrf": hidden(page.text, "csrf"), "reason": "Belum selesai"},
        )
        assert disputed.status_code == 303 and disputed.headers["location"] == f"/lacak/pengaduan/{CODE}"
    assert not any(call.startswith("POST") for call in calls)  # nothing was sent to be recorded


async def test_a_wrong_token_for_an_erased_complaint_still_looks_like_an_unknown_code(complaints):
    _, url = complaints
    async with portal(url) as client:
        opening = await client.get(f"/lacak/pengaduan/{CODE}")
        refused = await client.post(
            f"/lacak/pengaduan/{CODE}", data={"csrf": hidden(opening.text, "csrf"), "token": "w" * 43}
        )
    assert refused.status_code == 404 and "dihapus" not in refused.text
