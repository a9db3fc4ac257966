"""The console's session refresh: a renewed cookie on every answer, one refresh at a time per
session, a refusal or an outage that does not end a session whose token still holds, the token
checked again after a long upload (the hostile review's findings 3, 4, 5 and 9)."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import replace
from types import SimpleNamespace

import httpx
import pytest
from aiohttp import web
from fastapi.testclient import TestClient
from serambi_testing import localstack
from serambi_web.adapters.backend import ApiError, BackendUnavailable
from serambi_web.adapters.oidc import SignInFailed, Tokens
from serambi_web.adapters.session import OfficerSession, read_session, session_cookies
from serambi_web.api import relay
from serambi_web.api.petugas import access
from serambi_web.main import create_app
from serambi_web.settings import WebSettings

MINUTE, HOUR = 60, 3600
PNG = b"\x89PNG\r\n\x1a\n" + bytes(60)
FORM = {
    "channel": "telephone",
    "received_at": "2026-12-01T09:15",
    "disclosure": "named",
    "name": "Budi Santoso",
    "phone": "0812 3456 7890",
    "summary": "Lampu jalan padam",
    "description": "Sudah seminggu lampu jalan di Jalan Merdeka padam.",
    "key": "k" * 32,
}


def officer(now: float, **changes) -> OfficerSession:
    session = OfficerSession(
        subject="f3a1",
        name="Petugas Meja",
        username="meja",
        roles=["desk", "complaint_officer"],
        access_token="at",
        access_expires=now + HOUR,
        refresh_token="rt",
        id_token="it",
        started=now - HOUR,
        seen=now - MINUTE,
    )
    return replace(session, **changes)


@pytest.fixture
def app():
    dead = f"http://127.0.0.1:{localstack.free_port()}"  # nothing listens: every service call is 503
    return create_app(
        WebSettings(intake_url=dead, complaints_url=dead, scheduling_url=dead, backend_timeout_seconds=2)
    )


def client_with(app, session: OfficerSession) -> TestClient:
    client = TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)
    for name, value in session_cookies(app.state.console.sealer, session).items():
        if value:
            client.cookies.set(name, value, path="/petugas")
    return client


def session_in(app, answer) -> OfficerSession | None:
    return read_session(
        app.state.console.sealer,
        {name: value for name, value in answer.cookies.items() if name.startswith("serambi_petugas_")},
    )


def refreshing(now: float, calls: list[str], delay: float = 0.0):
    async def refresh(refresh_token, id_token):
        calls.append(refresh_token)
        await asyncio.sleep(delay)
        return Tokens(
            "at-2", now + 300, "rt-2", id_token, {"sub": "f3a1", "roles": ["desk", "complaint_officer"]}
        )

    return refresh


@pytest.mark.parametrize(
    ("path", "status"),
    [("/petugas/tidak-ada", 404), ("/petugas/meja/", 503), ("/petugas/pimpinan/", 403)],
)
def test_a_session_refreshed_during_a_request_is_renewed_on_its_error_page_too(
    app, monkeypatch, path, status
):
    now, calls = time.time(), []
    monkeypatch.setattr(app.state.console.provider, "refresh", refreshing(now, calls))
    answer = client_with(app, officer(now, access_expires=now + 10)).get(path)
    assert answer.status_code == status and calls == ["rt"]
    renewed = session_in(app, answer)
    assert renewed is not None and (renewed.access_token, renewed.refresh_token) == ("at-2", "rt-2")
    assert answer.headers["cache-control"] == "no-store"


async def test_concurrent_requests_near_expiry_refresh_once_and_both_carry_the_new_tokens(app, monkeypatch):
    now, calls = time.time(), []
    monkeypatch.setattr(app.state.console.provider, "refresh", refreshing(now, calls, delay=0.3))
    session = officer(now, access_expires=now + 10)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        for name, value in session_cookies(app.state.console.sealer, session).items():
            if value:
                client.cookies.set(name, value, path="/petugas")
        answers = await asyncio.gather(client.get("/petugas/"), client.get("/petugas/pengaduan/baru"))
    late = client_with(app, session).get("/petugas/")  # the old cookie again, a moment later
    assert calls == ["rt"]
    assert [answer.status_code for answer in answers] == [200, 200]
    for answer in answers:
        assert (session_in(app, answer).access_token, session_in(app, answer).refresh_token) == (
            "at-2",
            "rt-2",
        )
    assert late.status_code == 200 and session_in(app, late).refresh_token == "rt-2"


def test_a_refused_refresh_while_the_access_token_still_holds_carries_on_with_the_cookies_untouched(
    app, monkeypatch
):
    now = time.time()

    async def refused(refresh_token, id_token):
        raise SignInFailed("refresh: invalid_grant")

    monkeypatch.setattr(app.state.console.provider, "refresh", refused)
    answer = client_with(app, officer(now, access_expires=now + 10)).get("/petugas/")
    assert answer.status_code == 200 and "Petugas Meja" in answer.text
    assert "serambi_petugas" not in answer.headers.get("set-cookie", "")
    ended = client_with(app, officer(now, access_expires=now - 1)).get("/petugas/")
    assert ended.status_code == 303 and 'serambi_petugas_0=""' in ended.headers["set-cookie"]


class Recorder:
    """The complaints officer API's recording route: refuses tokens in ``refused`` with 401,
    records the token of each post."""

    def __init__(self) -> None:
        self.refused = {"at"}
        self.tokens: list[str] = []

    async def record(self, request: web.Request) -> web.Response:
        body = await request.read()
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        self.tokens.append(token)
        if token in self.refused:
            return web.json_response({"detail": "token expired"}, status=401)
        assert PNG in body  # the file whole, each time it is sent
        return web.json_response(
            {
                "tracking_code": "ADU-2026-000077",
                "access_token": "a" * 43,
                "status": "received",
                "received_at": "2026-12-01T09:15:00+07:00",
                "due_at": None,
                "tier": None,
                "attachments": [],
            },
            status=201,
        )


@pytest.fixture
async def recorder():
    state = Recorder()
    service = web.Application(client_max_size=60_000_000)
    service.router.add_post("/api/v1/officer/complaints", state.record)
    runner = web.AppRunner(service)
    await runner.setup()
    port = localstack.free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield state, f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def post_complaint(app, session: OfficerSession) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        for name, value in session_cookies(app.state.console.sealer, session).items():
            if value:
                client.cookies.set(name, value, path="/petugas")
        page = await client.get("/petugas/pengaduan/baru")
        csrf = re.findall(r'name="csrf" value="([^"]+)"', page.text)[-1]
        return await client.post(
            "/petugas/pengaduan/baru",
            data={"csrf": csrf, **FORM},
            files=[("attachments", ("foto.png", PNG, "image/png"))],
        )


def console_app(url: str):
    return create_app(
        WebSettings(intake_url=url, complaints_url=url, scheduling_url=url, backend_timeout_seconds=5)
    )


async def test_a_token_that_expires_while_the_upload_is_read_is_refreshed_before_the_relay(
    recorder, monkeypatch
):
    fake, url = recorder
    app = console_app(url)
    now, calls = time.time(), []
    monkeypatch.setattr(app.state.console.provider, "refresh", refreshing(now, calls))
    late = [0.0]  # 200 s pass while the upload's body is read (after the session was checked)
    read = relay.checked_form

    async def slow_read(request, **limits):
        form = await read(request, **limits)
        late[0] = 200.0
        return form

    monkeypatch.setattr(relay, "checked_form", slow_read)
    monkeypatch.setattr(access, "time", SimpleNamespace(time=lambda: now + late[0]))
    answer = await post_complaint(app, officer(now, access_expires=now + 100))
    assert answer.status_code == 201, answer.text
    assert fake.tokens == ["at-2"] and calls == ["rt"]
    assert session_in(app, answer).access_token == "at-2"


async def test_a_401_from_the_service_after_an_upload_is_tried_once_more_after_a_refresh(
    recorder, monkeypatch
):
    fake, url = recorder
    app = console_app(url)
    now, calls = time.time(), []
    monkeypatch.setattr(app.state.console.provider, "refresh", refreshing(now, calls))
    answer = await post_complaint(app, officer(now))
    assert answer.status_code == 201, answer.text
    assert fake.tokens == ["at", "at-2"] and calls == ["rt"]
    assert session_in(app, answer).refresh_token == "rt-2"


@pytest.fixture
async def token_endpoint():
    """A provider's token endpoint answering with the (status, JSON body) in ``answers``."""
    answers: list[tuple[int, dict]] = []

    async def token(_: web.Request) -> web.Response:
        status, body = answers.pop(0)
        return web.json_response(body, status=status)

    service = web.Application()
    service.router.add_post("/token", token)
    runner = web.AppRunner(service)
    await runner.setup()
    port = localstack.free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield answers, f"http://127.0.0.1:{port}/token"
    await runner.cleanup()


async def test_a_provider_that_cannot_answer_a_refresh_is_unavailable_only_a_refusal_fails_the_sign_in(
    app, token_endpoint
):
    answers, url = token_endpoint
    provider = app.state.console.provider
    provider._metadata = {"token_endpoint": url}
    answers.append((503, {"error": "down"}))
    with pytest.raises(BackendUnavailable):
        await provider.refresh("rt", None)
    provider._metadata = {"token_endpoint": f"http://127.0.0.1:{localstack.free_port()}/token"}  # no answer
    with pytest.raises(BackendUnavailable):
        await provider.refresh("rt", None)
    provider._metadata = {"token_endpoint": url}
    answers.append((400, {"error": "invalid_grant"}))
    with pytest.raises(SignInFailed, match="invalid_grant"):
        await provider.refresh("rt", None)


def test_a_provider_outage_during_a_refresh_keeps_the_session_with_the_coba_lagi_page(app, monkeypatch):
    now = time.time()

    async def down(refresh_token, id_token):
        raise BackendUnavailable("identity provider", "refresh: ConnectTimeout")

    monkeypatch.setattr(app.state.console.provider, "refresh", down)
    expired = client_with(app, officer(now, access_expires=now - 1)).get("/petugas/")
    assert expired.status_code == 503 and "coba lagi" in expired.text
    assert "serambi_petugas" not in expired.headers.get("set-cookie", "")  # kept for the next try
    holding = client_with(app, officer(now, access_expires=now + 10)).get("/petugas/")
    assert holding.status_code == 200 and "serambi_petugas" not in holding.headers.get("set-cookie", "")


def test_a_service_refusal_no_route_words_is_shown_with_the_renewed_session(app, monkeypatch):
    """A 403 or 409 from a service that the screen does not turn into words itself still gets
    the console's page — no-store, with the session refreshed during the request (its old
    refresh token is spent)."""
    now, calls = time.time(), []
    monkeypatch.setattr(app.state.console.provider, "refresh", refreshing(now, calls))

    async def refusing(*args, **kwargs):
        raise ApiError(403, [], "not for this role")

    monkeypatch.setattr(app.state.runtime.intake, "json", refusing)
    answer = client_with(app, officer(now, access_expires=now + 10)).get("/petugas/meja/")
    assert answer.status_code >= 400 and calls == ["rt"]
    renewed = session_in(app, answer)
    assert renewed is not None and renewed.refresh_token == "rt-2"
    assert answer.headers["cache-control"] == "no-store"
