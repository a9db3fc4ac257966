"""Behind a proxy that passes its own Host on (nginx's plain ``proxy_pass``), the portal's own
posts carry the Origin of SERAMBI_PUBLIC_BASE_URL: accepted as this portal's (finding 6)."""

from __future__ import annotations

import re

import httpx
import pytest
from serambi_web.main import create_app
from serambi_web.settings import WebSettings


def behind_nginx() -> httpx.AsyncClient:
    app = create_app(WebSettings(backend_timeout_seconds=5))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000")  # the Host nginx passes


async def lookup(client: httpx.AsyncClient, origin: str) -> httpx.Response:
    page = (await client.get("/lacak")).text
    csrf = re.findall(r'name="csrf" value="([^"]+)"', page)[-1]
    form = {"csrf": csrf, "kind": "audiensi", "code": "", "token": "t" * 20}
    return await client.post("/lacak", data=form, headers={"Origin": origin, "Sec-Fetch-Site": "same-origin"})


@pytest.mark.parametrize("origin", ["https://layanan.example.go.id", "https://LAYANAN.example.go.id:443"])
async def test_the_public_base_urls_origin_is_the_portals_own_behind_a_proxy(monkeypatch, origin):
    monkeypatch.setenv("SERAMBI_PUBLIC_BASE_URL", "https://layanan.example.go.id/")
    async with behind_nginx() as client:
        answer = await lookup(client, origin)
    assert answer.status_code == 422 and "code-galat" in answer.text  # read and checked, not refused


@pytest.mark.parametrize(
    "origin", ["https://penipu.example", "http://layanan.example.go.id", "https://layanan.example.go.id:8443"]
)
async def test_any_other_origin_is_still_refused(monkeypatch, origin):
    monkeypatch.setenv("SERAMBI_PUBLIC_BASE_URL", "https://layanan.example.go.id")
    async with behind_nginx() as client:
        answer = await lookup(client, origin)
    assert answer.status_code == 403 and "Formulir kedaluwarsa" in answer.text


async def test_without_a_public_base_url_the_host_decides_as_before(monkeypatch):
    monkeypatch.delenv("SERAMBI_PUBLIC_BASE_URL", raising=False)
    async with behind_nginx() as client:
        assert (await lookup(client, "https://layanan.example.go.id")).status_code == 403
        assert (await lookup(client, "http://127.0.0.1:8000")).status_code == 422
