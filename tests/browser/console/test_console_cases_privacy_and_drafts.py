"""The console's "kasus saya" paged over the API's assignee filter, the complainant's identity
behind an audited "tampilkan", and a form in progress kept across a session that ended, in
Debian's chromium against the real complaints service, web and the development provider.

The session is ended the way 30 idle minutes would end it: the test reseals the officer's
session cookie (it knows this stack's SERAMBI_SESSION_SECRET) with a last use 31 minutes ago.
Screenshots go to $SERAMBI_SHOTS (default /tmp/web-shots).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import httpx
import nats
import pytest
from conftest import shot
from console_support import TABLET, no_serious_violations, signed_in
from playwright.sync_api import BrowserContext, Page, expect
from serambi_contracts.audit import PersonalDataAccessed
from serambi_kit.auth import issue_dev_token
from serambi_kit.eventstore import read_stream
from serambi_kit.settings import ServiceSettings
from serambi_testing.stack import LocalStack, local_stack, oidc_env
from serambi_web.adapters.session import COOKIE, Sealer, read_session, session_cookies

pytestmark = pytest.mark.slow  # a long browser flow: `make test-slow`, which CI also runs

SECRET = "console-drafts-test-secret-0123456789abcdef"
ANSWER = (
    "Yth. Bapak Budi, lampu jalan di Jalan Merdeka telah diperbaiki oleh Dinas Perhubungan "
    "pada hari Senin. Terima kasih atas laporan Anda."
)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory, provider: str) -> Iterator[LocalStack]:
    env = {**oidc_env(provider), "SERAMBI_SESSION_SECRET": SECRET}
    with local_stack(Path(tmp_path_factory.mktemp("console-drafts")), ("complaints", "web"), env) as running:
        yield running


def api(
    console: LocalStack, method: str, path: str, role: str = "complaint_officer", **kwargs
) -> httpx.Response:
    token = issue_dev_token(ServiceSettings(), [role], subject="script")
    return httpx.request(
        method,
        f"{console.url('complaints')}/api/v1/officer{path}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
        **kwargs,
    )


def recorded(console: LocalStack, **body) -> str:
    body = {
        "channel": "telephone",
        "tier": "normatif",
        "disclosure": "named",
        "name": "Budi Santoso",
        "phone": "0812 3456 7890",
        "summary": "Lampu jalan padam",
        "description": "Jalan gelap.",
        **body,
    }
    answer = api(console, "POST", "/complaints", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()["tracking_code"]


def assigned(console: LocalStack, code: str, assignee: str) -> None:
    answer = api(
        console,
        "POST",
        f"/complaints/{code}/assign",
        json={"team": "Tim Pengelola Pengaduan", "assignee": assignee},
    )
    assert answer.status_code == 200, answer.text


def eventually(check, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the read model did not follow"
        time.sleep(0.2)


def audit_of(console: LocalStack, code: str) -> list:
    async def read() -> list:
        nc = await nats.connect(console.env["SERAMBI_NATS_URL"])
        try:
            return [r.event async for r in read_stream(nc, "COMPLAINTS", f"complaints.access.{code}.*")]
        finally:
            await nc.drain()

    with ThreadPoolExecutor(1) as thread:  # Playwright's loop runs in this one
        events = thread.submit(asyncio.run, read()).result()
    return [event for event in events if isinstance(event, PersonalDataAccessed)]


def end_session_idle(context: BrowserContext, web: str, at_provider_too: bool) -> None:
    """What 31 minutes without a click do to the session: its last use moves back (resealed).
    ``at_provider_too``: the provider's own session ended as well, so it asks for the password."""
    if at_provider_too:
        context.clear_cookies(name="serambi_devidp")
    sealer = Sealer(SECRET)
    cookies = {c["name"]: c for c in context.cookies(f"{web}/petugas/")}
    session = read_session(sealer, {name: c["value"] for name, c in cookies.items()})
    assert session is not None and f"{COOKIE}_0" in cookies
    resealed = session_cookies(sealer, replace(session, seen=time.time() - 31 * 60))
    context.add_cookies(
        [
            {**cookies[f"{COOKIE}_0"], "name": name, "value": value}
            for name, value in resealed.items()
            if value
        ]
    )


def sign_in_on_provider(page: Page, username: str) -> None:
    expect(page.get_by_role("heading", name="Masuk ke Serambi")).to_be_visible()
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill("serambi-dev")
    page.get_by_role("button", name="Masuk").click()


def test_my_cases_page_through_the_cases_assigned_to_the_member_only(console, browser):
    web = console.url("web")
    mine = [recorded(console, summary=f"Kasus tim nomor {n:02d}") for n in range(27)]
    others = recorded(console, summary="Kasus anggota lain")
    for code in mine:
        assigned(console, code, "tim")
    assigned(console, others, "anggota-lain")
    eventually(
        lambda: (
            api(
                console, "GET", "/complaints", "complaint_team", params={"assignee": "tim", "open": "true"}
            ).json()["total"]
            == 27
        )
    )

    context, page = signed_in(browser, web, "tim", "/petugas/pengaduan/saya")
    expect(page.get_by_text("paling mendesak di atas: 27 pengaduan")).to_be_visible()
    assert page.locator("table.antrean tbody tr").count() == 25
    expect(page.get_by_role("navigation", name="Halaman kasus saya")).to_contain_text("Halaman 1 dari 2")
    no_serious_violations(page, "saya, page 1")
    shot(page, "petugas-pengaduan-saya")
    page.get_by_role("link", name="Berikutnya").click()
    expect(page).to_have_url(f"{web}/petugas/pengaduan/saya?halaman=2")
    rows = page.locator("table.antrean tbody tr")
    expect(rows).to_have_count(2)
    shown = set(page.locator("table.antrean tbody th a").all_inner_texts())
    page.goto(f"{web}/petugas/pengaduan/saya")
    shown |= set(page.locator("table.antrean tbody th a").all_inner_texts())
    assert shown == set(mine) and others not in page.content()
    page.set_viewport_size(TABLET)
    no_serious_violations(page, "saya, tablet")
    context.close()


def test_the_case_page_shows_the_identity_masked_unaudited_and_tampilkan_shows_it_audited(console, browser):
    web = console.url("web")
    code = recorded(console, email="budi.santoso@example.id")
    eventually(lambda: api(console, "GET", f"/complaints/{code}").status_code == 200)
    context, page = signed_in(browser, web, "aduan", f"/petugas/pengaduan/{code}")
    expect(page.locator("#status")).to_have_text("Diklasifikasi")
    page.reload()
    samaran = page.locator("#identitas-samaran")
    expect(samaran).to_contain_text("B*** S***")
    expect(samaran).to_contain_text("b***@example.id")
    content = page.content()
    assert "Budi Santoso" not in content and "budi.santoso@example.id" not in content
    assert "6281234567890" not in content
    no_serious_violations(page, "case, masked")
    shot(page, "petugas-pengaduan-kasus-samaran")
    time.sleep(1)  # an audit append would be in the stream well before this
    assert audit_of(console, code) == []  # two views of the case page: no one's identity shown

    page.get_by_role("button", name="Tampilkan identitas pelapor").click()
    identity = page.locator("#identitas")
    expect(identity).to_contain_text("Budi Santoso")
    expect(identity).to_contain_text("budi.santoso@example.id")
    expect(identity).to_contain_text("+6281234567890")
    expect(page.get_by_text("telah dicatat dalam jejak audit atas nama Anda")).to_be_visible()
    no_serious_violations(page, "case, identity shown")
    shot(page, "petugas-pengaduan-kasus-identitas")
    [audit] = audit_of(console, code)
    assert (audit.officer, audit.fields, audit.purpose) == (
        "aduan",
        ["name", "email", "phone"],
        "complainant identity",
    )
    context.close()


def test_a_form_in_progress_comes_back_filled_after_the_session_ended_and_signing_in_again(console, browser):
    web = console.url("web")
    context, page = signed_in(browser, web, "aduan", "/petugas/pengaduan/baru")
    page.get_by_label("Kanal").select_option("whatsapp")
    page.get_by_label("Nama pelapor").fill("Sari Dewi")
    page.get_by_label("Nomor HP pelapor").fill("0813 1111 2222")
    page.get_by_label("Ringkasan").fill("Trotoar rusak di depan pasar")
    page.get_by_label("Uraian pengaduan").fill("Trotoar berlubang sejak bulan lalu; dua pejalan kaki jatuh.")
    end_session_idle(context, web, at_provider_too=True)
    onward = re.compile(r"/petugas/masuk\?next=")
    page.route(onward, lambda route: route.fulfill(status=204))  # hold the page's refresh, to look at it
    page.get_by_role("button", name="Catat pengaduan").click()
    expect(page.get_by_role("heading", name="Sesi Anda telah berakhir")).to_be_visible()
    expect(page.get_by_text("Isiannya disimpan sementara")).to_be_visible()
    no_serious_violations(page, "sesi berakhir")
    shot(page, "petugas-sesi-berakhir")
    page.unroute(onward)
    page.get_by_role("link", name="Masuk kembali").click()  # what the refresh does by itself

    sign_in_on_provider(page, "aduan")  # the session was over: sign in again …
    page.wait_for_url(f"{web}/petugas/pengaduan/baru")  # … and back on the form, not sent
    notice = page.locator("#isian-dipulihkan")
    expect(notice).to_contain_text("Formulir Anda belum terkirim.")
    expect(notice).to_contain_text("tekan tombol kirimnya sekali lagi")
    expect(page.get_by_label("Kanal")).to_have_value("whatsapp")
    expect(page.get_by_label("Nama pelapor")).to_have_value("Sari Dewi")
    expect(page.get_by_label("Nomor HP pelapor")).to_have_value("0813 1111 2222")
    expect(page.get_by_label("Ringkasan")).to_have_value("Trotoar rusak di depan pasar")
    expect(page.get_by_label("Uraian pengaduan")).to_have_value(
        "Trotoar berlubang sejak bulan lalu; dua pejalan kaki jatuh."
    )
    no_serious_violations(page, "baru, restored")
    shot(page, "petugas-pengaduan-baru-dipulihkan")
    queue = api(console, "GET", "/complaints", params={"channel": "whatsapp", "size": 100}).json()
    assert not [row for row in queue["items"] if row["summary"] == "Trotoar rusak di depan pasar"]

    page.get_by_role("button", name="Catat pengaduan").click()  # the officer sends it, once
    expect(page.get_by_role("heading", name="Pengaduan tercatat")).to_be_visible()
    page.goto(f"{web}/petugas/pengaduan/baru")  # the draft was shown once
    expect(page.get_by_label("Ringkasan")).to_have_value("")
    assert page.locator("#isian-dipulihkan").count() == 0
    context.close()


def test_an_answer_typed_on_a_case_page_comes_back_when_the_provider_signs_in_at_once(console, browser):
    web = console.url("web")
    code = recorded(console)
    assigned(console, code, "tim")
    eventually(lambda: api(console, "GET", f"/complaints/{code}").json()["status"] == "assigned")
    context, page = signed_in(browser, web, "tim", f"/petugas/pengaduan/{code}", TABLET)
    page.get_by_label("Jawaban untuk pelapor").fill(ANSWER)
    end_session_idle(context, web, at_provider_too=False)
    page.get_by_role("button", name="Kirim jawaban").click()  # the provider still knows the
    page.wait_for_url(f"{web}/petugas/pengaduan/{code}")  # officer: through sign-in at once
    expect(page.locator("#isian-dipulihkan")).to_contain_text("belum terkirim")
    expect(page.get_by_label("Jawaban untuk pelapor")).to_have_value(ANSWER)
    expect(page.locator("#status")).to_have_text("Ditugaskan")  # nothing was sent
    no_serious_violations(page, "case, restored answer")
    shot(page, "petugas-pengaduan-jawab-dipulihkan-tablet")
    page.get_by_role("button", name="Kirim jawaban").click()
    expect(page.get_by_role("status")).to_contain_text("Jawaban telah dicatat")
    context.close()
