"""The console's supervisor (Pimpinan) and admin screens in Debian's chromium, signed in through
the development OpenID provider, against the real complaints and scheduling services.

A complaint recorded as received ten days ago with the 3-working-hour tier is past due the
moment it is recorded: the complaints service breaches it, and ``pimpinan`` sees it among the
breaches and downloads the month's recap. ``admin`` registers a room and a host and sees them.
Screenshots go to $SERAMBI_SHOTS (default /tmp/web-shots).
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import shot
from console_support import DESKTOP, TABLET, no_serious_violations, signed_in
from openpyxl import load_workbook
from playwright.sync_api import expect
from serambi_calendar import WIB
from serambi_testing.stack import LocalStack, local_stack, oidc_env

pytestmark = pytest.mark.slow  # a long browser flow: `make test-slow`, which CI also runs


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory, provider: str) -> Iterator[LocalStack]:
    env = oidc_env(provider)
    services = ("intake", "complaints", "scheduling", "web")
    with local_stack(Path(tmp_path_factory.mktemp("console-pimpinan")), services, env) as running:
        yield running


@pytest.fixture(scope="module")
def past_due(console, browser) -> dict[str, str]:
    """A complaint received ten days ago at 09.00 WIB, tier ringan: past its deadline at once."""
    web = console.url("web")
    received = (datetime.now(WIB) - timedelta(days=10)).replace(hour=9, minute=0)
    context, page = signed_in(browser, web, "aduan", "/petugas/pengaduan/baru")
    page.get_by_label("Kanal").select_option("telephone")
    page.get_by_label("Waktu diterima (WIB)").fill(received.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Anonim").check()
    page.get_by_label("Ringkasan").fill("Antrean loket layanan tidak dilayani")
    page.get_by_label("Uraian pengaduan").fill("Loket layanan tutup pada jam kerja tanpa pemberitahuan.")
    page.get_by_label("Tingkat (jika sudah diketahui)").select_option("ringan")
    page.get_by_role("button", name="Catat pengaduan").click()
    code = page.locator("#kode-lacak").inner_text().strip()
    context.close()
    return {"code": code, "month": received.strftime("%Y-%m")}


def test_the_supervisor_sees_the_breach_of_a_past_due_complaint_and_downloads_the_recap_csv(
    console, browser, past_due
):
    web, code = console.url("web"), past_due["code"]
    context, page = signed_in(browser, web, "pimpinan", "/petugas/pimpinan/")
    deadline = time.monotonic() + 20
    while page.get_by_role("row").filter(has_text=code).count() == 0:  # the breach, then the read model
        assert time.monotonic() < deadline, page.locator("main").inner_text()
        time.sleep(0.5)
        page.reload()
    row = page.get_by_role("row").filter(has_text=code)
    expect(row).to_contain_text("Terlambat")
    assert page.get_by_role("link", name=code).count() == 0  # the case page is the complaint roles'
    shot(page, "petugas-pimpinan-pelanggaran")

    page.goto(f"{web}/petugas/pimpinan/rekap?bulan={past_due['month']}")
    assert page.locator("svg[role=img]").count() == 3
    shot(page, "petugas-pimpinan-rekap")
    with page.expect_download() as download:
        page.get_by_role("link", name=f"Rekap {past_due['month']} (CSV)").click()
    assert download.value.suggested_filename == f"rekap-{past_due['month']}.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8-sig"))))
    total = next(r for r in rows if r["Bagian"] == "Pengaduan" and r["Dimensi"] == "Jumlah")
    assert int(total["Diterima"]) >= 1 and int(total["Melewati tenggat"]) >= 1
    ringan = next(r for r in rows if r["Dimensi"] == "Tingkat" and r["Nilai"] == "Ringan")
    assert int(ringan["Melewati tenggat"]) >= 1
    assert any(r["Bagian"].startswith("Audiensi") for r in rows)  # scheduling's report answered
    with page.expect_download() as workbook:
        page.get_by_role("link", name=f"Rekap {past_due['month']} (XLSX)").click()
    assert Path(workbook.value.path()).read_bytes()[:2] == b"PK"
    context.close()


def test_the_supervisor_reads_the_reports_page_with_charts_and_downloads_a_typed_xlsx(
    console, browser, past_due
):
    web, month = console.url("web"), past_due["month"]
    context, page = signed_in(browser, web, "pimpinan", f"/petugas/pimpinan/laporan?bulan={month}")
    deadline = time.monotonic() + 20
    while "tidak tersedia" in page.locator("main").inner_text():  # every section from its service
        assert time.monotonic() < deadline, page.locator("main").inner_text()
        time.sleep(0.5)
        page.reload()
    assert page.locator("svg[role=img]").count() == 5  # audiences 2, complaints 2, guest book 1
    no_serious_violations(page, "laporan")
    shot(page, "petugas-pimpinan-laporan")
    with page.expect_download() as workbook:
        page.get_by_role("link", name=f"Laporan pengaduan {month} (XLSX)").click()
    assert workbook.value.suggested_filename == f"pengaduan-{month}.xlsx"
    sheet = load_workbook(io.BytesIO(Path(workbook.value.path()).read_bytes())).worksheets[0]
    total = next(row for row in sheet.iter_rows(min_row=2) if row[1].value == "Jumlah")
    assert type(total[3].value) is int and total[3].value >= 1  # received, a number cell
    with page.expect_download() as audiences:
        page.get_by_role("link", name=f"Laporan audiensi {month} (CSV)").click()
    assert Path(audiences.value.path()).read_bytes().startswith(b"\xef\xbb\xbf")
    context.close()


def test_the_admin_registers_a_room_and_a_host_and_sees_them(console, browser):
    web = console.url("web")
    context, page = signed_in(browser, web, "admin", "/petugas/admin/")
    page.get_by_label("Kode ruang (huruf, angka, - atau _)").fill("aula-lt2")
    page.get_by_label("Nama ruang").fill("Aula Lantai 2")
    page.get_by_label("Kapasitas (orang)").fill("40")
    page.get_by_label("Lokasi").fill("Gedung Utama, Lantai 2")
    page.get_by_role("button", name="Daftarkan ruang").click()
    page.get_by_role("status").filter(has_text="Ruang telah didaftarkan.").wait_for()
    page.get_by_label("Kode pejabat (huruf, angka, - atau _)").fill("kabag-umum")
    page.get_by_label("Nama pejabat").fill("Siti Rahmawati")
    page.get_by_label("Jabatan").fill("Kepala Bagian Umum")
    page.get_by_role("button", name="Daftarkan pejabat").click()
    page.get_by_role("status").filter(has_text="Pejabat telah didaftarkan.").wait_for()
    assert page.get_by_role("row").filter(has_text="Aula Lantai 2").count() == 1
    assert page.get_by_role("row").filter(has_text="Siti Rahmawati").count() == 1
    shot(page, "petugas-admin-ruang")

    page.get_by_label("Kode ruang (huruf, angka, - atau _)").fill("aula-lt2")  # taken: refused in words
    page.get_by_label("Nama ruang").fill("Aula lain")
    page.get_by_label("Kapasitas (orang)").fill("10")
    page.get_by_label("Lokasi").fill("Lantai 3")
    page.get_by_role("button", name="Daftarkan ruang").click()
    page.get_by_role("alert").filter(has_text="Kode ruang itu sudah terdaftar.").wait_for()
    no_serious_violations(page, "admin refused")
    context.close()


def test_every_supervisor_and_admin_screen_passes_axe_and_others_get_403(console, browser, past_due):
    web = console.url("web")
    for viewport in (DESKTOP, TABLET):
        context, page = signed_in(browser, web, "admin", "/petugas/admin/", viewport)
        for path in (
            "/petugas/admin/",
            "/petugas/admin/kalender",
            "/petugas/admin/kalender?tahun=2026",
            "/petugas/admin/pemeliharaan",
            "/petugas/pimpinan/",
            "/petugas/pimpinan/?semua=1",
            f"/petugas/pimpinan/rekap?bulan={past_due['month']}",
            "/petugas/pimpinan/rekap?bulan=2031-13",
            f"/petugas/pimpinan/laporan?bulan={past_due['month']}",
            "/petugas/pimpinan/laporan?bulan=2031-13",
        ):
            page.goto(web + path)
            no_serious_violations(page, path)
        if viewport is TABLET:
            page.goto(f"{web}/petugas/admin/kalender?tahun=2026")
            shot(page, "petugas-admin-kalender-tablet")
            page.goto(f"{web}/petugas/pimpinan/rekap?bulan={past_due['month']}")
            shot(page, "petugas-pimpinan-rekap-tablet")
        context.close()
    context, page = signed_in(browser, web, "pimpinan", "/petugas/pimpinan/rekap")
    assert page.goto(f"{web}/petugas/admin/").status == 403
    context.close()
    context, page = signed_in(browser, web, "aduan", "/petugas/")
    assert page.goto(f"{web}/petugas/pimpinan/").status == 403
    assert page.goto(f"{web}/petugas/pimpinan/rekap.csv").status == 403
    context.close()
