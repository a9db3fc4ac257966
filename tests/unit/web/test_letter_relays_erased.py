"""The portal's and the console's answer-letter relays once the requester's personal data was
erased (issue 19, item 10): scheduling answers 410 ``personal_data_erased`` for a letter sealed
under an erased key, and each relay says in Indonesian that the letter was erased with the
requester's personal data — a 410 page, not a PDF, an error page or a 500. Against a fake
intake and scheduling on loopback."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web
from serambi_testing import localstack
from serambi_web.adapters.session import OfficerSession, session_cookies
from serambi_web.domain.penjadwalan import LETTER_ERASED
from serambi_web.main import create_app
from serambi_web.settings import WebSettings

CODE = "AUD-2026-000042"
ERASED_CODE = "AUD-2026-000043"  # intake too answers 410 for this one's tracking
LETTER = "L" + "b" * 32
AUDIENCE = {
    "audience_id": CODE,
    "request_tracking_code": CODE,
    "status": "scheduled",
    "topic": None,
    "institution": "Kadin Kota Pontianak",
    "institution_type": "other_institution",
    "requester_position": "Ketua",
    "participants": 3,
    "proposed_dates": [],
    "submitted_at": "2026-03-02T09:00:00+07:00",
    "answer_due_at": "2026-03-05T09:00:00+07:00",
    "answered": True,
    "schedule": None,
    "timeline": [{"step": "requested", "at": "2026-03-02T09:00:00+07:00"}],
}
GONE = {
    "error": "personal_data_erased",
    "detail": "the answer letter was erased with the requester's personal data",
}


@pytest.fixture
async def backends() -> AsyncIterator[tuple[str, list[str]]]:
    """Intake's tracking view links the letter; scheduling answers 410 for it (both routes)."""
    calls: list[str] = []

    async def track(request: web.Request) -> web.Response:
        code = request.match_info["code"]
        if code == ERASED_CODE:
            return web.json_response({"error": "personal_data_erased"}, status=410)
        return web.json_response(
            {
                "tracking_code": code,
                "status": "scheduled",
                "timeline": [
                    {
                        "at": "2026-03-02T09:00:00+07:00",
                        "step": "scheduled",
                        "letter": f"/api/v1/letters/{LETTER}",
                    }
                ],
            }
        )

    async def gone(request: web.Request) -> web.Response:
        calls.append(request.path)
        return web.json_response(GONE, status=410)

    async def audience(_request: web.Request) -> web.Response:
        return web.json_response(AUDIENCE)

    async def empty(_request: web.Request) -> web.Response:
        return web.json_response([])

    app = web.Application()
    app.router.add_get("/api/v1/requests/{code}", track)
    app.router.add_get("/api/v1/letters/{document_id}", gone)
    app.router.add_get(f"/api/v1/audiences/{CODE}/letter", gone)
    app.router.add_get(f"/api/v1/audiences/{CODE}", audience)
    app.router.add_get("/api/v1/rooms", empty)
    app.router.add_get("/api/v1/hosts", empty)
    runner = web.AppRunner(app)
    await runner.setup()
    port = localstack.free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}", calls
    await runner.cleanup()


def web_app(url: str):
    return create_app(
        WebSettings(intake_url=url, complaints_url=url, scheduling_url=url, backend_timeout_seconds=5)
    )


async def test_the_portal_says_an_erased_requesters_letter_was_erased_with_their_personal_data(backends):
    url, calls = backends
    app = web_app(url)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://portal.test"
    ) as client:
        pages = []
        for code in (CODE, ERASED_CODE):
            cookie = app.state.runtime.secrets.seal(f"audiensi:{code}", "t" * 43)
            client.cookies.set(
                app.state.runtime.secrets.session_cookie, cookie, path=f"/lacak/audiensi/{code}"
            )
            pages.append(await client.get(f"/lacak/audiensi/{code}/surat/{LETTER}"))
    assert calls == [f"/api/v1/letters/{LETTER}"]  # asked once: the erased request links nothing
    for page in pages:
        assert page.status_code == 410, page.text[:800]
        assert page.headers["content-type"].startswith("text/html")
        assert "Surat jawaban telah dihapus" in page.text
        assert "dihapus bersama data pribadi pemohon" in page.text and "%PDF" not in page.text


async def test_the_console_says_an_erased_requesters_letter_was_erased_on_the_audience_page(backends):
    url, calls = backends
    app = web_app(url)
    now = time.time()
    session = OfficerSession(
        subject="s1",
        name="Petugas Penjadwalan",
        username="jadwal",
        roles=["scheduler"],
        access_token="at",
        access_expires=now + 3600,
        refresh_token="rt",
        id_token="it",
        started=now - 60,
        seen=now - 5,
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
    ) as client:
        for name, value in session_cookies(app.state.console.sealer, session).items():
            if value:
                client.cookies.set(name, value, path="/petugas")
        page = await client.get(f"/petugas/penjadwalan/audiensi/{CODE}/surat")
    assert calls == [f"/api/v1/audiences/{CODE}/letter"]
    assert page.status_code == 410, page.text[:800]
    assert LETTER_ERASED in page.text and "dihapus bersama data pribadi pemohon" in page.text
    assert f"Audiensi {CODE}" in page.text  # the audience's own page, with the banner
