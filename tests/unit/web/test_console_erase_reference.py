"""The console's erasure form takes a register number only (issue 19 review, item 3): the entry is
kept for ever in PersonalDataErased, so a name or a reason typed in *Nomor register* is refused
on the form — in Indonesian, beside the field — at the check and at the final step, and never
reaches intake; a register number goes on to the confirmation."""

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


@pytest.fixture
async def intake() -> AsyncIterator[tuple[str, list[dict]]]:
    posted: list[dict] = []

    async def erase(request: web.Request) -> web.Response:
        posted.append(await request.json())
        return web.json_response(
            {
                "erasure_id": "e1",
                "key_ids": ["k1"],
                "erased_now": 1,
                "identifiers": ["nik"],
                "reference": posted[-1]["reference"],
                "requested_at": "2026-12-07T01:00:00+00:00",
                "repeated": False,
            }
        )

    app = web.Application()
    app.router.add_post("/api/v1/admin/personal-data/erase", erase)
    runner = web.AppRunner(app)
    await runner.setup()
    port = localstack.free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}", posted
    await runner.cleanup()


def console(intake_url: str) -> tuple[httpx.AsyncClient, str]:
    app = create_app(
        WebSettings(
            intake_url=intake_url,
            complaints_url=intake_url,
            scheduling_url=intake_url,
            backend_timeout_seconds=5,
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


@pytest.mark.parametrize(
    "reference", ["Budi Santoso minta dihapus", "REG 014", "siti@example.go.id", "R" * 41]
)
async def test_free_text_in_nomor_register_is_refused_beside_the_field_and_never_sent(intake, reference):
    url, posted = intake
    client, csrf = console(url)
    form = {"csrf": csrf, "nik": "6171012301900001", "phone": "", "email": "", "reference": reference}
    async with client:
        checked = await client.post("/petugas/admin/penghapusan/periksa", data=form)
        final = await client.post(
            "/petugas/admin/penghapusan/hapus", data={**form, "kunci": "k" * 24, "yakin": "ya"}
        )
    for answer in (checked, final):
        assert answer.status_code == 422
        assert "Nomor register hanya huruf, angka dan tanda . / _ - tanpa spasi" in answer.text
        assert 'id="reference" name="reference"' in answer.text and 'aria-invalid="true"' in answer.text
    assert posted == []


async def test_a_register_number_goes_on_to_the_confirmation_and_to_intake(intake):
    url, posted = intake
    client, csrf = console(url)
    form = {
        "csrf": csrf,
        "nik": "6171012301900001",
        "phone": "",
        "email": "",
        "reference": "REG-PDP/2026/014",
    }
    async with client:
        checked = await client.post("/petugas/admin/penghapusan/periksa", data=form)
        done = await client.post(
            "/petugas/admin/penghapusan/hapus", data={**form, "kunci": "k" * 24, "yakin": "ya"}
        )
    assert checked.status_code == 200 and "REG-PDP/2026/014" in checked.text
    assert done.status_code == 200, done.text[:400]
    assert posted == [{"nik": "6171012301900001", "reference": "REG-PDP/2026/014"}]
