"""The console's session: timeouts, sealing, roles from the token claim, refresh, settings."""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict, replace

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from serambi_ops.devidp import __main__ as devidp_main
from serambi_ops.devidp.accounts import DEV_CLIENT_SECRET
from serambi_web.adapters.oidc import SignInFailed, Tokens
from serambi_web.adapters.session import OfficerSession, Sealer, read_session, session_cookies
from serambi_web.api.petugas.access import new_session
from serambi_web.api.petugas.routes import safe_next
from serambi_web.main import create_app
from serambi_web.settings import DEV_OIDC_CLIENT_SECRET, ConsoleSettings

MINUTE, HOUR = 60, 3600


@pytest.fixture(scope="module")
def app():
    return create_app()


def client_with(app, session: OfficerSession | None, base_url: str = "http://127.0.0.1") -> TestClient:
    client = TestClient(app, base_url=base_url, follow_redirects=False)
    if session is not None:
        for name, value in session_cookies(app.state.console.sealer, session).items():
            if value:
                client.cookies.set(name, value, path="/petugas")
    return client


def officer(now: float, **changes) -> OfficerSession:
    session = OfficerSession(
        subject="f3a1",
        name="Petugas Pengaduan",
        username="aduan",
        roles=["complaint_officer"],
        access_token="at",
        access_expires=now + HOUR,
        refresh_token="rt",
        id_token="it",
        started=now - HOUR,
        seen=now - MINUTE,
    )
    return replace(session, **changes)


def test_a_session_unused_for_more_than_30_minutes_asks_to_sign_in_again(app):
    now = time.time()
    answer = client_with(app, officer(now, seen=now - 31 * MINUTE)).get("/petugas/pengaduan/?tab=1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/petugas/masuk?next=/petugas/pengaduan/%3Ftab%3D1"
    assert 'serambi_petugas_0=""; expires=' in answer.headers["set-cookie"]


def test_a_session_older_than_10_hours_ends_even_while_in_use(app):
    now = time.time()
    answer = client_with(app, officer(now, started=now - 10 * HOUR - MINUTE, seen=now - 5)).get("/petugas/")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/petugas/masuk")


def test_a_session_in_use_stays_and_its_last_use_is_renewed_in_a_locked_down_cookie(app):
    now = time.time()
    answer = client_with(app, officer(now, seen=now - 29 * MINUTE)).get("/petugas/")
    assert answer.status_code == 200 and "Petugas Pengaduan" in answer.text
    assert answer.headers["cache-control"] == "no-store"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/petugas" in cookie
    assert "Secure" not in cookie  # a browser on this machine over plain HTTP
    renewed = read_session(
        app.state.console.sealer, {"serambi_petugas_0": answer.cookies["serambi_petugas_0"]}
    )
    assert renewed.seen >= now and renewed.started == pytest.approx(now - HOUR)


def test_cookies_are_secure_outside_localhost(app):
    now = time.time()
    answer = client_with(app, officer(now, seen=now - 5 * MINUTE), "https://petugas.example.go.id").get(
        "/petugas/"
    )
    assert answer.status_code == 200 and "Secure" in answer.headers["set-cookie"]


@pytest.mark.parametrize("value", ["bm90LWEtc2Vzc2lvbg", "pending"])
def test_a_forged_cookie_or_one_sealed_for_another_purpose_is_no_session(app, value):
    sealer = app.state.console.sealer
    if value == "pending":
        value = sealer.seal("pending", asdict(officer(time.time())))
    client = client_with(app, None)
    client.cookies.set("serambi_petugas_0", value, path="/petugas")
    assert client.get("/petugas/").status_code == 303


def test_tokens_too_large_for_one_cookie_are_split_and_read_back():
    sealer = Sealer("a-secret")
    session = officer(
        time.time(), access_token=secrets.token_urlsafe(4000), id_token=secrets.token_urlsafe(2000)
    )
    cookies = session_cookies(sealer, session)
    used = {name: value for name, value in cookies.items() if value}
    assert len(used) == 3 and all(len(value) <= 3500 for value in used.values())
    assert read_session(sealer, used) == session
    assert read_session(Sealer("another-secret"), used) is None


def test_roles_come_from_the_access_tokens_claim_as_the_services_read_them():
    claims = {
        "sub": "f3a1",
        "preferred_username": "pimpinan",
        "exp": 1,
        "realm_access": {"roles": ["supervisor", "offline_access", "uma_authorization"]},
    }
    session = new_session(Tokens("at", 1.0, "rt", "it", claims), now=100.0)
    assert (session.roles, session.username, session.started, session.seen) == (
        ["supervisor"],
        "pimpinan",
        100.0,
        100.0,
    )
    assert new_session(Tokens("at", 1.0, None, None, {**claims, "roles": ["desk", "admin"]}), 0).roles == [
        "admin",
        "desk",
    ]


def test_an_officer_with_no_serambi_role_gets_the_403_page(app):
    now = time.time()
    answer = client_with(app, officer(now, roles=[])).get("/petugas/")
    assert answer.status_code == 403 and "belum diberi peran" in answer.text


def test_an_access_token_about_to_expire_is_refreshed_and_a_refused_refresh_signs_out(app, monkeypatch):
    now = time.time()
    provider = app.state.console.provider
    calls = []

    async def refresh(refresh_token, id_token):
        calls.append(refresh_token)
        return Tokens("at-2", now + 300, "rt-2", id_token, {"sub": "f3a1", "roles": ["complaint_officer"]})

    monkeypatch.setattr(provider, "refresh", refresh)
    answer = client_with(app, officer(now, access_expires=now + 10)).get("/petugas/")
    renewed = read_session(
        app.state.console.sealer, {"serambi_petugas_0": answer.cookies["serambi_petugas_0"]}
    )
    assert answer.status_code == 200 and calls == ["rt"]
    assert (renewed.access_token, renewed.refresh_token) == ("at-2", "rt-2")

    async def refused(refresh_token, id_token):
        raise SignInFailed("refresh: invalid_grant")

    monkeypatch.setattr(provider, "refresh", refused)  # with the access token expired already
    ended = officer(now, access_expires=now - 1, refresh_token="rt-spent")  # not the one just refreshed
    assert client_with(app, ended).get("/petugas/").status_code == 303


@pytest.mark.parametrize(
    ("target", "kept"),
    [
        ("/petugas/pengaduan/?status=open", True),
        ("/petugas/", True),
        ("https://evil.example/petugas/", False),
        ("//evil.example/petugas/", False),
        ("/lacak/", False),
        ("/petugas/masuk/kembali?code=x", False),
        ("/petugas/\\evil", False),
    ],
)
def test_the_page_to_return_to_after_sign_in_stays_inside_the_console(target, kept):
    assert (safe_next(target) == target) is kept


def test_production_refuses_the_development_client_and_a_loopback_provider():
    assert DEV_OIDC_CLIENT_SECRET == DEV_CLIENT_SECRET  # the development provider's client
    with pytest.raises(ValidationError, match="SERAMBI_OIDC_CLIENT_SECRET"):
        ConsoleSettings(
            environment="production",
            oidc_issuer="https://sso.example.go.id/realms/serambi",
            public_base_url="https://layanan.example.go.id",
        )
    with pytest.raises(ValidationError, match="SERAMBI_OIDC_ISSUER"):
        ConsoleSettings(
            environment="production",
            oidc_client_secret="s3cr3t",
            public_base_url="https://layanan.example.go.id",
        )
    settings = ConsoleSettings(
        environment="production",
        oidc_client_secret="s3cr3t",
        oidc_issuer="https://sso.example.go.id/realms/serambi",
        public_base_url="https://layanan.example.go.id",
    )
    assert (settings.idle_seconds, settings.absolute_seconds) == (30 * MINUTE, 10 * HOUR)


def test_the_development_provider_refuses_to_start_in_production(monkeypatch, capsys):
    monkeypatch.setenv("SERAMBI_ENVIRONMENT", "production")
    assert devidp_main.main(["--port", "0"]) == 2
    assert "refused in production" in capsys.readouterr().err
