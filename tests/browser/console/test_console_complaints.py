"""The console's complaint screens in Debian's chromium, signed in through the development
OpenID provider's login page, against the real complaints service and portal.

One stack for the module: the provider process on a free port, then nats-server, SecantusDB,
complaints and web (serambi_testing.stack) pointed at it. Screenshots at 1366×768 and on a tablet
go to $SERAMBI_SHOTS (default /tmp/web-shots).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import shot
from console_support import DESKTOP, TABLET, no_serious_violations, signed_in
from playwright.sync_api import Page, expect
from serambi_testing.stack import LocalStack, local_stack, oidc_env

ANSWER = "Lampu jalan di Jalan Merdeka sudah diperbaiki oleh dinas terkait pada hari ini."


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory, provider: str) -> Iterator[LocalStack]:
    env = oidc_env(provider)
    with local_stack(Path(tmp_path_factory.mktemp("console")), ("complaints", "web"), env) as running:
        yield running


@pytest.fixture(scope="module")
def recorded() -> dict[str, str]:
    """What the first test hands to the next ones (code and access token of its complaint)."""
    return {}


def until(page: Page, selector: str, text: str, timeout: float = 15.0) -> None:
    """Reload until the case page shows ``text`` (the read model follows the events)."""
    deadline = time.monotonic() + timeout
    while page.locator(selector).inner_text().strip() != text:
        assert time.monotonic() < deadline, page.locator(selector).inner_text()
        time.sleep(0.3)
        page.reload()


def test_an_officer_records_classifies_and_assigns_a_phone_complaint_the_team_answers_and_the_portal_shows_it(
    console, browser, recorded
):
    web = console.url("web")
    context, page = signed_in(browser, web, "aduan", "/petugas/pengaduan/baru")
    page.get_by_label("Kanal").select_option("telephone")
    expect(page.get_by_label("Waktu diterima (WIB)")).not_to_have_value("")
    page.get_by_label("Waktu diterima (WIB)").fill(
        time.strftime("%Y-%m-%dT%H:%M", time.gmtime(time.time() + 7 * 3600 - 600))
    )  # ten minutes ago, in WIB
    page.get_by_label("Nama pelapor").fill("Budi Santoso")
    page.get_by_label("Nomor HP pelapor").fill("0812 3456 7890")
    page.get_by_label("Ringkasan").fill("Lampu jalan padam di Jalan Merdeka")
    page.get_by_label("Uraian pengaduan").fill("Sudah seminggu lampu jalan padam, jalan gelap di malam hari.")
    shot(page, "petugas-pengaduan-baru")
    page.get_by_role("button", name="Catat pengaduan").click()
    expect(page.get_by_role("heading", name="Pengaduan tercatat")).to_be_visible()
    code = page.locator("#kode-lacak").inner_text().strip()
    recorded.update(code=code, token=page.locator("#kode-akses").inner_text().strip())

    page.get_by_role("link", name=f"Buka kasus {code}").click()
    expect(page.locator("#status")).to_have_text("Diterima")
    assert "Budi Santoso" not in page.content()  # identity only behind "tampilkan"
    assert page.get_by_role("button", name="Kirim jawaban").count() == 0  # answering is the team's
    page.get_by_label("Tingkat").select_option("normatif")
    page.get_by_role("button", name="Simpan tingkat").click()
    expect(page.get_by_role("status")).to_contain_text("Pengaduan telah diklasifikasikan.")
    until(page, "#tingkat", "Normatif (5 hari kerja)")

    page.get_by_role("button", name="Simpan tingkat").click()  # the same tier again: the API refuses
    expect(page.get_by_role("alert")).to_contain_text("Pengaduan ini sudah berkategori normatif.")

    page.get_by_label("Tim", exact=True).fill("Tim Pengelola Pengaduan")
    page.get_by_label("Anggota tim").fill("tim")
    page.get_by_role("button", name="Tugaskan").click()
    expect(page.get_by_role("status")).to_contain_text("Pengaduan telah ditugaskan.")
    until(page, "#tim-kasus", "Tim Pengelola Pengaduan (tim)")
    shot(page, "petugas-pengaduan-kasus")
    page.get_by_role("button", name="Tampilkan identitas pelapor").click()
    expect(page.locator("#identitas")).to_contain_text("Budi Santoso")

    page.goto(f"{web}/petugas/pengaduan/?kanal=telephone")
    row = page.get_by_role("row").filter(has_text=code)
    expect(row).to_contain_text("Sesuai waktu")
    expect(row).to_contain_text("Normatif")
    shot(page, "petugas-pengaduan-antrean")
    page.set_viewport_size(TABLET)
    shot(page, "petugas-pengaduan-antrean-tablet")
    context.close()

    context, page = signed_in(browser, web, "tim", "/petugas/pengaduan/saya", TABLET)
    page.get_by_role("link", name=code).click()
    page.get_by_label("Jawaban untuk pelapor").fill(ANSWER)
    shot(page, "petugas-pengaduan-jawab-tablet")
    page.get_by_role("button", name="Kirim jawaban").click()
    expect(page.get_by_role("status")).to_contain_text("Jawaban telah dicatat dan dikirim kepada pelapor.")
    until(page, "#status", "Dijawab")
    context.close()

    reader = browser.new_context(viewport=DESKTOP)
    tracking = reader.new_page()
    tracking.goto(f"{web}/lacak/pengaduan/{code}#t={recorded['token']}")
    expect(tracking.get_by_text(ANSWER)).to_be_visible()
    shot(tracking, "petugas-pengaduan-portal-jawaban")
    reader.close()


def test_every_complaint_screen_passes_axe_at_both_sizes(console, browser, recorded):
    web = console.url("web")
    code = recorded.get("code")
    assert code, "the flow test records the complaint these screens show"
    for viewport in (DESKTOP, TABLET):
        context, page = signed_in(browser, web, "aduan", "/petugas/pengaduan/", viewport)
        for path in (
            "/petugas/",
            "/petugas/pengaduan/",
            "/petugas/pengaduan/?tenggat=bukan-tanggal",
            "/petugas/pengaduan/baru",
            f"/petugas/pengaduan/{code}",
        ):
            page.goto(web + path)
            no_serious_violations(page, path)
        page.goto(f"{web}/petugas/pengaduan/baru")
        page.get_by_role("button", name="Catat pengaduan").click()  # nothing filled: the errors
        expect(page.get_by_role("alert")).to_contain_text("Pilih kanal")
        no_serious_violations(page, "baru with errors")
        context.close()
    context, page = signed_in(browser, web, "tim", "/petugas/pengaduan/saya", TABLET)
    expect(page.get_by_role("heading", name="Kasus saya")).to_be_visible()  # the answered case has left it
    no_serious_violations(page, "saya")
    context.close()


def test_an_officer_without_a_complaint_role_gets_the_403_page_and_a_team_member_cannot_record(
    console, browser
):
    web = console.url("web")
    context, page = signed_in(browser, web, "meja", "/petugas/")
    answer = page.goto(f"{web}/petugas/pengaduan/")
    assert answer.status == 403
    expect(page.get_by_role("heading", name="Akses ditolak")).to_be_visible()
    no_serious_violations(page, "403")
    shot(page, "petugas-terlarang")
    context.close()
    context, page = signed_in(browser, web, "tim", "/petugas/pengaduan/")
    assert page.get_by_role("link", name="Catat pengaduan").count() == 0
    assert page.goto(f"{web}/petugas/pengaduan/baru").status == 403
    context.close()
