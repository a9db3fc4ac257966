"""Every form's error paths, the pages' accessibility and safety, and the forms without JavaScript."""

from __future__ import annotations

import socket
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from conftest import PHONE, shot
from playwright.sync_api import Page, Route, expect
from serambi_testing import localstack
from serambi_web.main import create_app
from serambi_web.settings import WebSettings
from starlette.testclient import TestClient
from test_portal_flows import fill_request, no_serious_violation

PAGES = ("/", "/audiensi", "/pengaduan", "/lacak", "/lupa-tautan", "/lacak/audiensi/AUD-2026-000001")


def test_the_request_form_names_each_wrong_field_in_indonesian_and_keeps_what_was_typed(web, page, files):
    page.goto(f"{web}/audiensi")
    page.get_by_label("Nama lengkap").fill("Siti Aminah")
    page.get_by_label("NIK").fill("1234")
    page.get_by_label("Nomor HP").fill("12345")
    page.get_by_label("Jumlah peserta").fill("900")
    page.get_by_role("button", name="Kirim permohonan").click()
    summary = page.locator(".ringkasan-galat")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    for field, words in (
        ("requester_position", "Jabatan wajib diisi"),
        ("identity_number", "16 angka"),
        ("phone", "nomor HP Indonesia"),
        ("participants", "1 sampai 500"),
        ("institution_type", "Pilih jenis instansi"),
        ("topic", "Topik wajib diisi"),
    ):
        expect(page.locator(f"#{field}-galat")).to_contain_text(words)
        expect(page.locator(f"#{field}")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Nama lengkap")).to_have_value("Siti Aminah")
    expect(page.get_by_label("NIK")).to_have_value("1234")
    shot(page, "audiensi-galat")

    fill_request(page, files)
    page.get_by_label("NIK").fill("")
    page.get_by_label("Nomor HP").fill("")
    page.get_by_label("Email").fill("")
    page.get_by_label("Surat permohonan fasilitasi rapat/audiensi").set_input_files(files["text"])
    page.evaluate("document.getElementById('request_letter').setCustomValidity('')")
    page.get_by_role("button", name="Kirim permohonan").click()
    expect(page.locator("#email-galat")).to_contain_text("email atau nomor HP")

    page.get_by_label("Email").fill("siti@example.go.id")
    page.get_by_label("Surat permohonan fasilitasi rapat/audiensi").set_input_files(files["text"])
    page.get_by_label("Tanda pengenal / identitas").set_input_files(files["id"])
    page.locator("form").evaluate("form => form.submit()")  # past the script's own check
    expect(page.locator("#request_letter-galat")).to_contain_text("PDF, PNG atau JPEG")
    expect(page.get_by_label("Topik")).to_have_value("Hilirisasi komoditas daerah")


def test_the_request_form_warns_about_a_file_too_large_before_sending_it(web, page, files):
    page.goto(f"{web}/audiensi")
    page.get_by_label("Surat permohonan fasilitasi rapat/audiensi").set_input_files(files["too_large"])
    expect(page.locator("#request_letter-periksa")).to_contain_text("terlalu besar")
    described = page.locator("#request_letter").get_attribute("aria-describedby") or ""
    assert "request_letter-periksa" in described.split() and "request_letter-petunjuk" in described.split()
    page.get_by_label("Surat permohonan fasilitasi rapat/audiensi").set_input_files(files["letter"])
    assert "request_letter-periksa" not in (
        page.locator("#request_letter").get_attribute("aria-describedby") or ""
    )


def test_the_server_refuses_a_file_too_large_that_the_script_let_through_and_keeps_the_text(web, page, files):
    page.goto(f"{web}/audiensi")
    fill_request(page, files)
    page.get_by_label("Surat permohonan fasilitasi rapat/audiensi").set_input_files(files["too_large"])
    page.locator("form").evaluate("form => form.submit()")  # past the script's own check
    expect(page.locator("#request_letter-galat")).to_contain_text("terlalu besar")
    expect(page.get_by_label("Topik")).to_have_value("Hilirisasi komoditas daerah")
    no_serious_violation(page)


def test_the_complaint_form_asks_a_named_complainant_for_a_name_and_refuses_a_file_that_is_no_image(
    web, page, files
):
    page.goto(f"{web}/pengaduan")
    page.get_by_label("Ringkasan").fill("Petugas tidak ramah")
    page.get_by_role("button", name="Kirim pengaduan").click()
    expect(page.locator("#description-galat")).to_contain_text("wajib diisi")
    expect(page.get_by_label("Ringkasan")).to_have_value("Petugas tidak ramah")
    page.get_by_label("Uraian pengaduan").fill("Petugas loket membentak saya.")
    page.get_by_role("button", name="Kirim pengaduan").click()
    expect(page.locator("#name-galat")).to_be_visible()
    shot(page, "pengaduan-galat")
    page.get_by_label("Rahasia").check()
    page.get_by_label("Lampiran foto atau dokumen").set_input_files(files["text"])
    page.locator("form").evaluate("form => form.submit()")
    expect(page.locator("#attachments-galat")).to_contain_text("PDF, PNG atau JPEG")
    expect(page.get_by_label("Rahasia")).to_be_checked()


def test_the_tracking_and_lost_link_forms_explain_what_is_missing(web, page):
    for path, button in (("/lacak", "Lacak"), ("/lupa-tautan", "Kirim ulang tautan")):
        page.goto(f"{web}{path}")
        page.get_by_role("button", name=button).click()
        expect(page.locator("#code-galat")).to_contain_text("kode lacak")
    page.goto(f"{web}/lacak")
    page.get_by_role("button", name="Lacak").click()
    expect(page.locator("#token-galat")).to_contain_text("kode akses")


def test_a_form_posted_without_its_csrf_token_or_from_another_site_is_refused(web):
    with httpx.Client(base_url=web) as client:
        client.get("/pengaduan")
        for form in ({"summary": "x", "description": "y"}, {"csrf": "forged", "summary": "x"}):
            response = client.post("/pengaduan", data=form)
            assert response.status_code == 403 and "Formulir kedaluwarsa" in response.text


def test_every_page_is_strict_about_scripts_referrers_and_size(web):
    with httpx.Client(base_url=web) as client:
        for path in PAGES:
            response = client.get(path)
            assert response.status_code == 200
            csp = response.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["referrer-policy"] == "no-referrer"
            assert "<script>" not in response.text and " style=" not in response.text
            assets = sum(
                len(client.get(asset).content)
                for asset in ("/static/serambi.css", "/static/formulir.js", "/static/lacak.js")
            )
            assert len(response.content) + assets < 150_000
        missing = client.get("/tidak-ada")
        assert missing.status_code == 404 and "Halaman tidak ditemukan" in missing.text


@pytest.mark.parametrize("path", PAGES)
def test_each_page_has_no_serious_or_critical_accessibility_violation(web, page, path):
    page.goto(f"{web}{path}")
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], results.generate_report()
    shot(page, "halaman" + path.replace("/", "-").rstrip("-"))


def test_each_page_with_errors_has_no_serious_or_critical_accessibility_violation(web, page):
    for path, button in (
        ("/audiensi", "Kirim permohonan"),
        ("/pengaduan", "Kirim pengaduan"),
        ("/lacak", "Lacak"),
    ):
        page.goto(f"{web}{path}")
        page.get_by_role("button", name=button).click()
        expect(page.locator(".ringkasan-galat")).to_be_visible()
        results = Axe().run(page)
        serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == [], results.generate_report()


def test_both_forms_work_without_javascript_even_with_the_largest_allowed_documents(browser, web, files):
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    page.goto(f"{web}/audiensi")
    fill_request(page, files)
    page.get_by_label("Surat permohonan fasilitasi rapat/audiensi").set_input_files(files["largest"])
    page.get_by_role("button", name="Kirim permohonan").click()
    expect(page.get_by_role("heading", name="Permohonan audiensi terkirim")).to_be_visible()
    code = page.locator("#kode-lacak").inner_text().strip()
    token = page.locator("#kode-akses").inner_text().strip()
    page.get_by_role("link", name="Buka halaman lacak").click()  # the fragment needs the script:
    page.get_by_label("Kode akses").fill(token)  # without it the person types it
    page.get_by_role("button", name="Buka").click()
    expect(page.get_by_role("heading", name=f"Permohonan audiensi {code}")).to_be_visible()
    shot(page, "tanpa-js-lacak")

    page.goto(f"{web}/pengaduan")
    page.get_by_label("Nama lengkap").fill("Budi Santoso")
    page.get_by_label("Email").fill("budi@example.id")
    page.get_by_label("Ringkasan").fill("Layanan lambat")
    page.get_by_label("Uraian pengaduan").fill("Permohonan saya belum dijawab.")
    page.get_by_label("Lampiran foto atau dokumen").set_input_files([files["photo"], files["letter"]])
    page.get_by_role("button", name="Kirim pengaduan").click()
    expect(page.get_by_role("heading", name="Pengaduan terkirim")).to_be_visible()
    context.close()


def error_pages(web: str) -> dict[int, str]:
    """The portal's error pages as it serves them: 403, 404 and 413 from the running portal; 429
    and 503 from one in this process (a rate limit of one, services that do not answer)."""
    pages = {}
    with httpx.Client(base_url=web) as client:
        client.get("/pengaduan")
        pages[403] = client.post("/pengaduan", data={"csrf": "forged"}).text
        pages[404] = client.get("/tidak-ada").text
    address = urlsplit(web)
    with socket.create_connection((address.hostname, address.port), timeout=10) as raw:
        raw.sendall(
            b"POST /audiensi HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\nConnection: close\r\n\r\n"
        )
        answer = b""
        while chunk := raw.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413"), answer[:100]
    pages[413] = answer.split(b"\r\n\r\n", 1)[1].decode()
    dead = f"http://127.0.0.1:{localstack.free_port()}"
    settings = WebSettings(
        intake_url=dead,
        complaints_url=dead,
        scheduling_url=dead,
        rate_limits={"submissions": 20, "lookups": 120, "link_resends": 1},
    )
    with TestClient(create_app(settings)) as local:
        csrf = local.get("/lupa-tautan").text.split('name="csrf" value="')[1].split('"')[0]
        form = {"csrf": csrf, "kind": "audiensi", "code": "AUD-2026-000001"}
        unavailable = local.post("/lupa-tautan", data=form)
        throttled = local.post("/lupa-tautan", data=form)
    assert (unavailable.status_code, throttled.status_code) == (503, 429)
    pages[503], pages[429] = unavailable.text, throttled.text
    return pages


def serve(html: str, status: int) -> Callable[[Route], None]:
    def handler(route: Route) -> None:
        route.fulfill(status=status, body=html, content_type="text/html; charset=utf-8")

    return handler


def test_each_error_page_says_what_to_do_and_has_no_serious_accessibility_violation(web, page: Page):
    titles = {
        403: "Formulir kedaluwarsa",
        404: "Halaman tidak ditemukan",
        413: "Berkas terlalu besar",
        429: "Terlalu banyak permintaan",
        503: "coba lagi",
    }
    for status, html in error_pages(web).items():
        # served at the portal's own address, so that its stylesheet applies as it would
        page.route(f"{web}/uji-galat-{status}", serve(html, status))
        page.goto(f"{web}/uji-galat-{status}")
        expect(page.get_by_role("alert")).to_contain_text(titles[status])
        no_serious_violation(page)
        shot(page, f"galat-{status}")
