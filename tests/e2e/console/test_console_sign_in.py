"""The officer console signs in through the real development OpenID provider (code + PKCE), and
the services accept the officer's relayed token through the provider's JWKS.

One stack for the module: the provider process (serambi_ops.devidp) on a free port, then
nats-server, SecantusDB, intake and web (serambi_testing.stack) pointed at it. The browser is an
httpx client with a cookie jar, following the provider's login form.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from serambi_ops.devidp.accounts import DEV_PASSWORD
from serambi_testing.stack import LocalStack, local_stack, oidc_env, oidc_provider


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with oidc_provider(tmp_path_factory.mktemp("oidc")) as url:
        yield url


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, provider: str) -> Iterator[LocalStack]:
    env = oidc_env(provider)
    with local_stack(Path(tmp_path_factory.mktemp("console")), ("intake", "web"), env) as running:
        yield running


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=15) as client:
        yield client


def session_cookies(browser: httpx.Client) -> list[str]:
    return [c.name for c in browser.cookies.jar if re.fullmatch(r"serambi_petugas_\d", c.name)]


def sign_in(
    browser: httpx.Client,
    web: str,
    provider: str,
    username: str,
    path: str = "/petugas/",
    password: str = DEV_PASSWORD,
) -> httpx.Response:
    """Open ``path`` signed out, follow to the provider's form, sign in, and come back."""
    answer = browser.get(web + path)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/petugas/masuk?next=")
    answer = browser.get(web + answer.headers["location"])
    authorize = answer.headers["location"]
    query = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(f"{provider}/authorize?")
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    form = browser.get(authorize)
    assert form.status_code == 200 and "Kata sandi" in form.text
    answer = browser.post(authorize, data={"username": username, "password": password})
    if answer.status_code != 302:
        return answer
    callback = answer.headers["location"]
    assert callback.startswith(f"{web}/petugas/masuk/kembali?code=")
    answer = browser.get(callback)
    assert answer.status_code == 303, answer.text
    return browser.get(web + answer.headers["location"])


def test_an_officer_signs_in_and_intake_accepts_the_relayed_token_through_the_jwks(stack, provider, browser):
    web = stack.url("web")
    landing = sign_in(browser, web, provider, "meja")
    assert landing.status_code == 200
    assert "Petugas Meja Informasi" in landing.text and 'href="/petugas/meja/"' in landing.text
    assert 'href="/petugas/pengaduan/"' not in landing.text  # only the areas of the officer's roles
    cookie = next(c for c in browser.cookies.jar if c.name == "serambi_petugas_0")
    assert cookie.path == "/petugas" and cookie.has_nonstandard_attr("HttpOnly")
    area = browser.get(f"{web}/petugas/meja/")
    assert area.status_code == 200
    assert "Belum ada tamu yang dicatat hari ini." in area.text  # intake answered the officer's token
    assert httpx.get(f"{stack.url('intake')}/api/v1/officer/guestbook").status_code == 401


def test_signed_out_every_console_address_leads_to_sign_in_and_back_to_it(stack, provider, browser):
    web = stack.url("web")
    for path in ("/petugas/", "/petugas/pengaduan/", "/petugas/belum-ada?x=1"):
        answer = browser.get(web + path)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/petugas/masuk?next=/petugas/")
    page = sign_in(browser, web, provider, "meja", path="/petugas/meja/")  # this stack runs intake
    assert page.status_code == 200 and str(page.url).endswith("/petugas/meja/")
    assert "Belum ada tamu yang dicatat hari ini." in page.text


def test_an_officer_without_the_areas_role_gets_the_403_page(stack, provider, browser):
    web = stack.url("web")
    sign_in(browser, web, provider, "meja")
    refused = browser.get(f"{web}/petugas/pengaduan/")
    assert refused.status_code == 403
    assert "Akses ditolak" in refused.text and "Pengaduan" in refused.text


def test_a_wrong_password_is_refused_at_the_provider(stack, provider, browser):
    answer = sign_in(browser, stack.url("web"), provider, "jadwal", password="salah")
    assert answer.status_code == 401 and "Nama pengguna atau kata sandi salah" in answer.text


def test_a_return_from_the_provider_that_this_browser_did_not_start_is_refused(stack, browser):
    answer = browser.get(f"{stack.url('web')}/petugas/masuk/kembali?code=abc&state=forged")
    assert answer.status_code == 400 and "Gagal masuk" in answer.text
    assert not session_cookies(browser)


def test_sign_out_ends_the_console_session_and_the_providers(stack, provider, browser):
    web = stack.url("web")
    landing = sign_in(browser, web, provider, "pimpinan")
    again = browser.get(f"{web}/petugas/masuk?next=/petugas/")
    assert browser.get(again.headers["location"]).status_code == 302  # the provider remembers the officer
    csrf = re.search(r'name="csrf" value="([^"]+)"', landing.text).group(1)
    leaving = browser.post(f"{web}/petugas/keluar", data={"csrf": csrf})
    assert leaving.status_code == 200
    end_session = unescape(re.search(r'content="0;url=([^"]+)"', leaving.text).group(1))
    assert end_session.startswith(f"{provider}/logout?") and "id_token_hint=" in end_session
    assert not session_cookies(browser)
    back = browser.get(end_session)
    assert back.status_code == 302 and back.headers["location"] == f"{web}/petugas/keluar/selesai"
    assert "Anda telah keluar" in browser.get(back.headers["location"]).text
    assert browser.get(f"{web}/petugas/").status_code == 303
    authorize = browser.get(f"{web}/petugas/masuk?next=/petugas/").headers["location"]
    form = browser.get(authorize)
    assert form.status_code == 200 and "Kata sandi" in form.text  # signed out at the provider too
