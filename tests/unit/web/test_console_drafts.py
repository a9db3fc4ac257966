"""A console form posted after the session ended: its text is kept sealed through sign-in and
comes back, once, on its page for the same officer (api/petugas/drafts.py)."""

from __future__ import annotations

import re
import time
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from serambi_web.adapters.session import OfficerSession, session_cookies
from serambi_web.api.petugas import drafts
from serambi_web.main import create_app

MINUTE, HOUR = 60, 3600
DESCRIPTION = "Sudah seminggu lampu jalan padam di Jalan Merdeka, mohon segera diperbaiki."


@pytest.fixture(scope="module")
def app():
    return create_app()


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


def browser(app, session: OfficerSession | None) -> tuple[TestClient, str]:
    """A client with ``session`` and this browser's form token."""
    client = TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)
    if session is not None:
        for name, value in session_cookies(app.state.console.sealer, session).items():
            if value:
                client.cookies.set(name, value, path="/petugas")
    secrets = app.state.runtime.secrets
    client.cookies.set(secrets.csrf_cookie, "nonce-of-this-browser", path="/")
    return client, secrets.csrf_token("nonce-of-this-browser")


def kept(app, answer) -> drafts.Draft | None:
    value = "".join(answer.cookies.get(f"{drafts.COOKIE}_{i}", "") for i in range(drafts.MAX_CHUNKS))
    data = app.state.console.sealer.open(drafts.PURPOSE, value)
    return drafts.Draft(**data) if data else None


def sign_in_target(answer) -> str:
    """Where the "sesi berakhir" page moves on to (a refresh: the strict CSP's form-action would
    stop a form's redirect to the provider)."""
    assert answer.status_code == 200 and "Sesi Anda telah berakhir" in answer.text
    [target] = re.findall(r'<meta http-equiv="refresh" content="0;url=([^"]+)">', answer.text)
    assert f'href="{target}"' in answer.text  # and a link, should the refresh not happen
    return target


def expired_post(app, path: str, data: dict, **kwargs):
    now = time.time()
    client, csrf = browser(app, officer(now, seen=now - 31 * MINUTE))
    return client, client.post(path, data={"csrf": csrf, **data}, **kwargs)


def test_a_form_posted_after_the_idle_timeout_is_kept_sealed_and_the_officer_signs_in_back_to_it(app):
    _, answer = expired_post(
        app,
        "/petugas/pengaduan/baru",
        {"channel": "telephone", "name": "Budi Santoso", "description": DESCRIPTION, "key": "k" * 32},
    )
    assert sign_in_target(answer) == "/petugas/masuk?next=/petugas/pengaduan/baru"
    assert "Isiannya disimpan sementara" in answer.text
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(f"{drafts.COOKIE}_0="))
    attributes = cookie.lower()
    assert "httponly" in attributes and "path=/petugas" in attributes and "samesite=lax" in attributes
    assert "max-age=900" in attributes
    assert "Budi" not in cookie and "lampu" not in cookie  # sealed
    draft = kept(app, answer)
    assert draft.fields == {
        "channel": ["telephone"],
        "name": ["Budi Santoso"],
        "description": [DESCRIPTION],
        "key": ["k" * 32],
    }  # never the CSRF token
    assert (draft.page, draft.action, draft.subject) == (
        "/petugas/pengaduan/baru",
        "/petugas/pengaduan/baru",
        "f3a1",
    )


def test_a_step_on_a_case_page_returns_to_the_case_page_named_by_its_form(app):
    _, answer = expired_post(app, "/petugas/pengaduan/ADU-2026-000001/jawab", {"answer": "Sudah diperbaiki."})
    assert sign_in_target(answer) == "/petugas/masuk?next=/petugas/pengaduan/ADU-2026-000001"
    draft = kept(app, answer)
    assert draft.prefixed() == {"jawab-answer": "Sudah diperbaiki."}


def test_a_post_whose_form_token_is_not_this_browsers_keeps_nothing(app):
    now = time.time()
    client, _ = browser(app, officer(now, seen=now - 31 * MINUTE))
    answer = client.post("/petugas/pengaduan/baru", data={"csrf": "forged", "description": DESCRIPTION})
    assert sign_in_target(answer) == "/petugas/masuk?next=/petugas/pengaduan/baru"
    assert kept(app, answer) is None and "Isiannya disimpan" not in answer.text


def test_files_are_never_kept_and_the_notice_will_say_so(app):
    _, answer = expired_post(
        app,
        "/petugas/meja/permohonan/baru",
        {"requester_name": "Rina"},
        files={"request_letter": ("surat.pdf", b"%PDF-1.4 rahasia", "application/pdf")},
    )
    draft = kept(app, answer)
    assert draft.fields == {"requester_name": ["Rina"]} and draft.had_files
    assert sign_in_target(answer) == "/petugas/masuk?next=/petugas/meja/permohonan/baru"


def test_a_draft_too_large_for_two_cookies_leaves_out_its_longest_fields_and_names_them(app):
    noise = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(5000))  # hardly compresses
    _, answer = expired_post(
        app, "/petugas/pengaduan/baru", {"summary": "Ringkas", "description": noise, "name": noise[:4000]}
    )
    draft = kept(app, answer)
    assert draft.fields == {"summary": ["Ringkas"]} and draft.dropped == ["description", "name"]
    assert sum(len(v) for k, v in answer.cookies.items() if k.startswith(drafts.COOKIE)) <= 2 * 3500


def test_a_route_that_keeps_no_form_and_a_signed_out_get_make_no_draft(app):
    client, csrf = browser(app, None)
    assert kept(app, client.get("/petugas/pengaduan/baru")) is None
    assert kept(app, client.post("/petugas/keluar", data={"csrf": csrf})) is None


def restoring(app, session: OfficerSession, answer) -> TestClient:
    client, _ = browser(app, session)
    for name, value in answer.cookies.items():
        if name.startswith(drafts.COOKIE):
            client.cookies.set(name, value, path="/petugas")
    return client


def test_after_sign_in_the_form_comes_back_filled_once_with_a_notice_that_it_was_not_sent(app):
    _, posted = expired_post(
        app,
        "/petugas/pengaduan/baru",
        {"channel": "telephone", "name": "Budi Santoso", "description": DESCRIPTION},
    )
    client = restoring(app, officer(time.time()), posted)
    page = client.get("/petugas/pengaduan/baru")
    assert page.status_code == 200
    assert "Formulir Anda belum terkirim." in page.text and "tekan tombol kirimnya sekali lagi" in page.text
    assert DESCRIPTION in page.text and 'value="Budi Santoso"' in page.text
    assert '<option value="telephone" selected>' in page.text
    assert f'{drafts.COOKIE}_0=""' in page.headers["set-cookie"]  # shown once
    client.cookies.delete(f"{drafts.COOKIE}_0", path="/petugas")
    again = client.get("/petugas/pengaduan/baru")
    assert DESCRIPTION not in again.text and "belum terkirim" not in again.text


def test_another_officer_signing_in_never_sees_the_draft(app):
    _, posted = expired_post(app, "/petugas/pengaduan/baru", {"description": DESCRIPTION})
    client = restoring(app, officer(time.time(), subject="someone-else", username="lain"), posted)
    page = client.get("/petugas/pengaduan/baru")
    assert page.status_code == 200 and DESCRIPTION not in page.text and "belum terkirim" not in page.text
    assert f'{drafts.COOKIE}_0=""' in page.headers["set-cookie"]  # and it is gone


def test_a_draft_older_than_15_minutes_is_dropped(app, monkeypatch):
    _, posted = expired_post(app, "/petugas/pengaduan/baru", {"description": DESCRIPTION})
    later = time.time() + 16 * MINUTE
    monkeypatch.setattr(drafts.time, "time", lambda: later)
    client = restoring(app, officer(later), posted)
    page = client.get("/petugas/pengaduan/baru")
    assert DESCRIPTION not in page.text and "belum terkirim" not in page.text


def test_a_post_without_any_session_keeps_nothing_since_whose_it_was_is_unknown(app):
    """Past the absolute timeout the browser has dropped the session cookie: on a shared desk
    computer, whoever signs in next must not be shown the text."""
    client, csrf = browser(app, None)
    answer = client.post("/petugas/pengaduan/baru", data={"csrf": csrf, "description": DESCRIPTION})
    assert answer.status_code == 200 and "Sesi Anda telah berakhir" in answer.text
    assert kept(app, answer) is None
