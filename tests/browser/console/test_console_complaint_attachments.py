"""A complaint's attachments in the console, in Debian's chromium against the real complaints
service and web, signed in through the development provider: an audio note of the phone call
and a photo recorded with a telephone complaint, listed on the case page and downloaded (the
same bytes, the service's audit naming the officer); a file whose content is of no accepted
type refused beside the file input in Indonesian; the form without JavaScript; axe on each page.
Screenshots go to $SERAMBI_SHOTS (default /tmp/web-shots).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nats
import pytest
from conftest import SAMPLE_PNG, shot
from console_support import DESKTOP, TABLET, no_serious_violations, signed_in
from playwright.sync_api import Page, expect
from serambi_contracts.audit import PersonalDataAccessed
from serambi_kit.eventstore import read_stream
from serambi_ops.devidp.accounts import DEV_PASSWORD
from serambi_testing.stack import LocalStack, local_stack, oidc_env

pytestmark = pytest.mark.slow  # a long browser flow: `make test-slow`, which CI also runs

# an Ogg page header (capture pattern, version, "first page", granule, serial, sequence, CRC,
# one segment) with a Vorbis identification header: what the service's sniffing calls audio/ogg
OGG = (
    b"OggS\x00\x02"
    + bytes(8)
    + b"\x01\x00\x00\x00"
    + bytes(8)
    + b"\x01\x1e"
    + b"\x01vorbis\x00\x00\x00\x00\x01\x44\xac\x00\x00"
    + bytes(12)
    + b"\xb8\x01"
)
LABEL = "Foto, dokumen atau rekaman suara"


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory, provider: str) -> Iterator[LocalStack]:
    env = oidc_env(provider)
    with local_stack(
        Path(tmp_path_factory.mktemp("console-lampiran")), ("complaints", "web"), env
    ) as running:
        yield running


@pytest.fixture(scope="module")
def chosen(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("lampiran")
    made = {
        "audio": ("rekaman-telepon.ogg", OGG),
        "photo": ("foto-lampu.png", SAMPLE_PNG),
        "text_as_png": ("catatan.png", b"ini hanya teks, bukan gambar"),
        "text": ("catatan.txt", b"ini hanya teks"),
    }
    paths = {}
    for key, (name, data) in made.items():
        paths[key] = directory / name
        paths[key].write_bytes(data)
    return paths


def fill_phone_complaint(page: Page, summary: str) -> None:
    page.get_by_label("Kanal").select_option("telephone")
    page.get_by_label("Waktu diterima (WIB)").fill(
        time.strftime("%Y-%m-%dT%H:%M", time.gmtime(time.time() + 7 * 3600 - 900))
    )  # a quarter of an hour ago, in WIB
    page.get_by_label("Nama pelapor").fill("Siti Rahma")
    page.get_by_label("Nomor HP pelapor").fill("0813 1111 2222")
    page.get_by_label("Ringkasan").fill(summary)
    page.get_by_label("Uraian pengaduan").fill("Pelapor menelepon: tiang lampu miring di depan sekolah.")


def audit_of(console: LocalStack, code: str) -> list[PersonalDataAccessed]:
    async def read() -> list:
        nc = await nats.connect(console.env["SERAMBI_NATS_URL"])
        try:
            return [r.event async for r in read_stream(nc, "COMPLAINTS", f"complaints.access.{code}.*")]
        finally:
            await nc.drain()

    with ThreadPoolExecutor(1) as thread:  # Playwright's loop runs in this one
        events = thread.submit(asyncio.run, read()).result()
    return [event for event in events if isinstance(event, PersonalDataAccessed)]


def test_an_officer_records_a_phone_complaint_with_an_audio_note_and_a_photo_and_downloads_one(
    console, browser, chosen
):
    web = console.url("web")
    context, page = signed_in(browser, web, "aduan", "/petugas/pengaduan/baru")
    no_serious_violations(page, "baru")
    fill_phone_complaint(page, "Tiang lampu miring di depan sekolah")
    page.get_by_label(LABEL).set_input_files([chosen["audio"], chosen["photo"]])
    expect(page.locator("#attachments-periksa")).to_be_hidden()  # the script finds nothing wrong
    shot(page, "petugas-pengaduan-baru-lampiran")
    page.get_by_role("button", name="Catat pengaduan").click()
    expect(page.get_by_role("heading", name="Pengaduan tercatat")).to_be_visible()
    code = page.locator("#kode-lacak").inner_text().strip()

    page.get_by_role("link", name=f"Buka kasus {code}").click()
    items = page.locator("ul.lampiran li")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text(f"Lampiran 1: Rekaman suara OGG, {len(OGG)} byte")
    expect(items.nth(1)).to_contain_text(f"Lampiran 2: Gambar PNG, {len(SAMPLE_PNG)} byte")
    no_serious_violations(page, "kasus with attachments")
    shot(page, "petugas-pengaduan-kasus-lampiran")

    with page.expect_download() as started:
        page.get_by_role("link", name="Unduh lampiran 1").click()
    download = started.value
    assert Path(download.path()).read_bytes() == OGG
    assert download.suggested_filename == f"{code}-lampiran-1.ogg"
    answer = context.request.get(
        web + page.get_by_role("link", name="Unduh lampiran 2").get_attribute("href")
    )
    assert answer.status == 200 and answer.body() == SAMPLE_PNG
    headers = answer.headers
    assert headers["content-disposition"] == f'attachment; filename="{code}-lampiran-2.png"'
    assert headers["content-type"] == "image/png" and headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert "no-store" in headers["cache-control"]
    downloads = [event for event in audit_of(console, code) if event.fields == ["attachment"]]
    assert sorted(event.purpose for event in downloads) == ["attachment 1 download", "attachment 2 download"]
    assert {event.officer for event in downloads} == {"aduan"}  # the relayed token's own officer

    page.set_viewport_size(TABLET)
    shot(page, "petugas-pengaduan-kasus-lampiran-tablet")
    no_serious_violations(page, "kasus with attachments, tablet")
    context.close()


def test_a_file_of_no_accepted_type_is_refused_beside_the_file_input_with_the_typed_text_kept(
    console, browser, chosen
):
    web = console.url("web")
    context, page = signed_in(browser, web, "aduan", "/petugas/pengaduan/baru", DESKTOP)
    fill_phone_complaint(page, "Lampiran salah jenis")
    files = page.get_by_label(LABEL)
    files.set_input_files(chosen["text"])  # the script's hint, at once, by the name
    expect(page.locator("#attachments-periksa")).to_have_text(
        "catatan.txt: harus berupa berkas PDF, PNG, JPEG, atau rekaman suara M4A atau OGG."
    )

    # a name the script lets through: the service reads the content and refuses it (415)
    files.set_input_files([chosen["audio"], chosen["text_as_png"]])
    expect(page.locator("#attachments-periksa")).to_be_hidden()
    page.get_by_role("button", name="Catat pengaduan").click()
    expect(page.get_by_role("heading", name="Pengaduan belum tercatat")).to_be_visible()
    error = page.locator("#attachments-galat")
    expect(error).to_contain_text(
        "Lampiran ke-2 (catatan.png) bukan berkas yang diterima. Pilih berkas PDF, "
        "PNG, JPEG, atau rekaman suara M4A atau OGG."
    )
    expect(page.get_by_label(LABEL)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Ringkasan")).to_have_value("Lampiran salah jenis")
    expect(page.get_by_label("Nama pelapor")).to_have_value("Siti Rahma")
    expect(page.get_by_label("Kanal")).to_have_value("telephone")
    expect(page.get_by_text("pilih ulang berkasnya")).to_be_visible()
    no_serious_violations(page, "baru with a refused file")
    shot(page, "petugas-pengaduan-baru-lampiran-ditolak")
    expect(page.get_by_role("link", name="Lampiran ke-2 (catatan.png)")).to_have_attribute(
        "href", "#attachments"
    )
    context.close()


def test_the_form_with_its_files_works_without_javascript(console, browser, chosen):
    web = console.url("web")
    context = browser.new_context(viewport=DESKTOP, locale="id-ID", java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{web}/petugas/pengaduan/baru")
    page.get_by_label("Nama pengguna").fill("aduan")
    page.get_by_label("Kata sandi").fill(DEV_PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(f"{web}/petugas/pengaduan/baru")
    fill_phone_complaint(page, "Tanpa JavaScript")
    page.get_by_label(LABEL).set_input_files([chosen["photo"], chosen["audio"]])
    page.get_by_role("button", name="Catat pengaduan").click()
    expect(page.get_by_role("heading", name="Pengaduan tercatat")).to_be_visible()
    page.get_by_role("link", name="Buka kasus").click()
    expect(page.locator("ul.lampiran li")).to_have_count(2)
    expect(page.locator("ul.lampiran li").nth(0)).to_contain_text("Gambar PNG")
    context.close()
