"""Sign-out revokes the officer's refresh token at the provider when it can (best effort), and
the development provider forgets the officer's refresh tokens at its logout (finding 10)."""

from __future__ import annotations

import time

import pytest
from aiohttp import web
from fastapi.testclient import TestClient
from joserfc.jwk import RSAKey
from serambi_ops.devidp.accounts import DEV_CLIENT_SECRET
from serambi_ops.devidp.provider import Refresh
from serambi_ops.devidp.provider import create_app as create_provider
from serambi_testing import localstack
from serambi_web.adapters.oidc import Tokens
from serambi_web.adapters.session import OfficerSession, session_cookies
from serambi_web.main import create_app
from serambi_web.settings import DEV_OIDC_CLIENT_SECRET


@pytest.fixture
async def revocation():
    """A provider's revocation endpoint that records each post (its form and Authorization)."""
    seen: list[dict] = []

    async def revoke(request: web.Request) -> web.Response:
        seen.append(
            {"form": dict(await request.post()), "authorization": request.headers.get("Authorization")}
        )
        return web.Response(status=200)

    service = web.Application()
    service.router.add_post("/revoke", revoke)
    runner = web.AppRunner(service)
    await runner.setup()
    port = localstack.free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield seen, f"http://127.0.0.1:{port}/revoke"
    await runner.cleanup()


async def test_the_refresh_token_is_revoked_at_the_providers_revocation_endpoint(revocation):
    seen, url = revocation
    provider = create_app().state.console.provider
    provider._metadata = {"revocation_endpoint": url}
    await provider.revoke("rt")
    assert seen[0]["form"] == {"token": "rt", "token_type_hint": "refresh_token"}
    assert seen[0]["authorization"].startswith("Basic ")


async def test_a_provider_without_a_revocation_endpoint_or_one_that_fails_is_no_error():
    provider = create_app().state.console.provider
    provider._metadata = {}
    await provider.revoke("rt")
    provider._metadata = {"revocation_endpoint": f"http://127.0.0.1:{localstack.free_port()}/revoke"}
    started = time.monotonic()
    await provider.revoke("rt")
    assert time.monotonic() - started < 5


def test_sign_out_revokes_the_sessions_refresh_token(monkeypatch):
    app = create_app()
    revoked: list[str] = []

    async def revoke(refresh_token):
        revoked.append(refresh_token)

    async def no_logout(id_token, return_to):
        return None

    monkeypatch.setattr(app.state.console.provider, "revoke", revoke)
    monkeypatch.setattr(app.state.console.provider, "end_session_url", no_logout)
    now = time.time()
    session = OfficerSession(
        "f3a1", "Aduan", "aduan", ["complaint_officer"], "at", now + 300, "rt", "it", now, now
    )
    client = TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)
    for name, value in session_cookies(app.state.console.sealer, session).items():
        if value:
            client.cookies.set(name, value, path="/petugas")
    page = client.get("/petugas/")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    answer = client.post("/petugas/keluar", data={"csrf": csrf})
    assert answer.status_code == 200 and revoked == ["rt"]


async def test_sign_out_drops_the_sessions_kept_refreshes_and_names_their_tokens_for_revocation():
    """A refresh kept for the requests still carrying the old cookie must not outlive sign-out:
    an older copy of the cookie would get the new tokens from the cache (review finding)."""
    provider = create_app().state.console.provider
    now = time.time()
    calls: list[str] = []

    async def refresh(refresh_token, id_token):
        calls.append(refresh_token)
        return Tokens("at-2", now + 300, "rt-2", id_token, {"sub": "f3a1"})

    provider.refresh = refresh
    await provider.refresh_once("rt-1", "it")  # the browser now holds rt-2
    assert provider.forget("rt-2") == []  # signing out with the new cookie drops the rt-1 entry
    await provider.refresh_once("rt-1", "it")  # an old copy of the cookie asks the provider again
    assert calls == ["rt-1", "rt-1"]
    assert provider.forget("rt-1") == ["rt-2"]  # signing out with the old cookie: revoke rt-2 too
    assert provider._refreshes == {}


def test_the_development_provider_forgets_the_officers_refresh_tokens_at_logout_and_revokes_one_on_request():
    assert DEV_OIDC_CLIENT_SECRET == DEV_CLIENT_SECRET
    provider = create_provider("http://127.0.0.1:1", RSAKey.generate_key(2048), DEV_CLIENT_SECRET)
    store = provider.extensions["serambi_devidp"]
    later = time.time() + 3600
    for token, username in (("a1", "aduan"), ("a2", "aduan"), ("m1", "meja")):
        store.refreshes[token] = Refresh(token, "serambi-web", "openid", username, later)
    client = provider.test_client()
    with client.session_transaction() as session:
        session["user"] = "aduan"
    assert client.get("/.well-known/openid-configuration").json["revocation_endpoint"].endswith("/revoke")
    client.get("/logout")
    assert set(store.refreshes) == {"m1"}
    assert client.post("/revoke", data={"token": "m1"}, auth=("serambi-web", "wrong")).status_code == 401
    assert (
        client.post("/revoke", data={"token": "m1"}, auth=("serambi-web", DEV_CLIENT_SECRET)).status_code
        == 200
    )
    assert store.refreshes == {}
