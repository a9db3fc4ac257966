"""The dead-letter page offers *Kirim ulang* only for what a redrive can take: a complaint-mailbox
mail or a LAPOR! item (the API's ``redrivable: false``) says what to do instead, and a redrive the
API refuses as ``not_redrivable`` is answered in those words."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web
from serambi_testing import localstack
from serambi_web.adapters.session import OfficerSession, session_cookies
from serambi_web.main import create_app
from serambi_web.settings import WebSettings


def letter(letter_id: str, consumer: str, sequence: int, redrivable: bool, minute: int) -> dict:
    return {
        "id": letter_id,
        "consumer": consumer,
        "stream": "IMAP" if not redrivable else "COMPLAINTS",
        "subject": f"x.{letter_id}",
        "sequence": sequence,
        "type": None,
        "deliveries": 1,
        "reason": "e-mail could not be recorded: VaultError",
        "status": "open",
        "recorded_at": f"2026-12-01T02:{minute:02d}:00+00:00",
        "redrives": 0,
        "redrive_requested_at": None,
        "payload_bytes": 10,
        "redrivable": redrivable,
        "not_redrivable": None if redrivable else "read it in the mailbox",
    }


ITEMS = [
    letter("email-intake:abc", "email-intake", 0, False, 3),
    letter("lapor-import:LAP-1", "lapor-import", 0, False, 2),
    letter("complaints-x:COMPLAINTS:7", "complaints-x", 7, True, 1),
]


@pytest.fixture
async def services() -> AsyncIterator[tuple[str, str, list[str]]]:
    posted: list[str] = []

    async def complaints_list(request: web.Request) -> web.Response:
        return web.json_response(
            {"service": "complaints", "status": "open", "total": 3, "items": ITEMS, "next_before": None}
        )

    async def empty_list(request: web.Request) -> web.Response:
        return web.json_response(
            {"service": "x", "status": "open", "total": 0, "items": [], "next_before": None}
        )

    async def redrive(request: web.Request) -> web.Response:
        posted.append(request.match_info["letter"])
        return web.json_response(
            {
                "error": "not_redrivable",
                "detail": "read it in the mailbox",
                "errors": [{"field": "id", "rule": "not_redrivable", "message": "read it in the mailbox"}],
            },
            status=409,
        )

    urls = []
    runners = []
    for listing in (complaints_list, empty_list):
        app = web.Application()
        app.router.add_get("/api/v1/admin/dead-letters", listing)
        app.router.add_post("/api/v1/admin/dead-letters/{letter}/redrive", redrive)
        runner = web.AppRunner(app)
        await runner.setup()
        port = localstack.free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        urls.append(f"http://127.0.0.1:{port}")
        runners.append(runner)
    yield urls[0], urls[1], posted
    for runner in runners:
        await runner.cleanup()


def client_of(complaints: str, others: str) -> tuple[httpx.AsyncClient, str]:
    app = create_app(
        WebSettings(
            intake_url=others, complaints_url=complaints, scheduling_url=others, backend_timeout_seconds=5
        )
    )
    now = time.time()
    session = OfficerSession(
        subject="a1",
        name="Admin",
        username="admin",
        roles=["admin"],
        access_token="at",
        access_expires=now + 3600,
        refresh_token=None,
        id_token=None,
        started=now - 60,
        seen=now - 60,
    )
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 40000)), base_url="http://127.0.0.1"
    )
    for name, value in session_cookies(app.state.console.sealer, session).items():
        if value:
            client.cookies.set(name, value, path="/petugas")
    secrets = app.state.runtime.secrets
    client.cookies.set(secrets.csrf_cookie, "nonce", path="/")
    return client, secrets.csrf_token("nonce")


async def test_only_a_stream_messages_dead_letter_has_kirim_ulang_the_others_say_what_to_do(services):
    complaints, others, _ = services
    client, _ = client_of(complaints, others)
    async with client:
        page = await client.get("/petugas/admin/dead-letter?layanan=complaints")
    assert page.status_code == 200, page.text[:500]
    assert page.text.count("Tidak dapat dikirim ulang.") == 2
    assert 'aria-label="Kirim ulang complaints-x:COMPLAINTS:7"' in page.text
    assert 'aria-label="Kirim ulang email-intake:abc"' not in page.text
    assert 'aria-label="Kirim ulang lapor-import:LAP-1"' not in page.text
    assert "Serambi/Ditolak" in page.text and "Baca pengaduannya di LAPOR!" in page.text


async def test_a_redrive_the_service_refuses_as_not_redrivable_is_worded_with_what_to_do(services):
    complaints, others, posted = services
    client, csrf = client_of(complaints, others)
    async with client:
        answer = await client.post(
            "/petugas/admin/dead-letter/kirim-ulang",
            data={
                "csrf": csrf,
                "layanan": "complaints",
                "id": "email-intake:abc",
                "kembali": "/petugas/admin/dead-letter?status=open&layanan=complaints",
            },
        )
    assert posted == ["email-intake:abc"]
    assert answer.status_code == 409
    assert "Langkah tidak dapat dilakukan" in answer.text and "kotak surat pengaduan" in answer.text
    assert "sudah diminta diproses ulang" not in answer.text
