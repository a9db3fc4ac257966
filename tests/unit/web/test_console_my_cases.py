""""Kasus saya" asks the complaints API for the officer's account name, the value *Tugaskan*
asks for, not the provider's ``sub`` (a UUID on Keycloak that nobody types when assigning)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web
from serambi_kit import localstack
from serambi_web.main import create_app
from serambi_web.petugas.session import OfficerSession, session_cookies
from serambi_web.settings import WebSettings


@pytest.fixture
async def complaints() -> AsyncIterator[tuple[list[dict[str, str]], str]]:
    asked: list[dict[str, str]] = []

    async def queue(request: web.Request) -> web.Response:
        asked.append(dict(request.query))
        return web.json_response({"items": [], "page": 1, "page_size": 25, "total": 0})

    app = web.Application()
    app.router.add_get("/api/v1/officer/complaints", queue)
    runner = web.AppRunner(app)
    await runner.setup()
    port = localstack.free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield asked, f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_my_cases_are_looked_up_by_the_account_name_assignments_are_made_with(complaints):
    asked, url = complaints
    app = create_app(WebSettings(intake_url=url, complaints_url=url, scheduling_url=url,
                                 backend_timeout_seconds=5))
    now = time.time()
    session = OfficerSession(
        subject="5c2e7d1a-9f0b-4c8e-b1d2-3a4f5e6d7c8b", name="Anggota Tim", username="tim",
        roles=["complaint_team"], access_token="at", access_expires=now + 3600, refresh_token=None,
        id_token=None, started=now - 60, seen=now - 60)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        for name, value in session_cookies(app.state.console.sealer, session).items():
            if value:
                client.cookies.set(name, value, path="/petugas")
        page = await client.get("/petugas/pengaduan/saya")
    assert page.status_code == 200, page.text[:500]
    assert [query.get("assignee") for query in asked] == ["tim"]
    assert asked[0]["open"] == "true"
