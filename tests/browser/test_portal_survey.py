"""The satisfaction survey in the portal, in Debian's chromium against the whole stack: a closed
complaint's complainant gets the survey link by e-mail, answers the nine questions (the form
names what is missing first), and a second answer for the same case is refused — from a second
tab holding the form, and when the link is opened again."""

from __future__ import annotations

import re
import time
from email import policy
from email.parser import BytesParser

import httpx
import pytest
from conftest import shot
from playwright.sync_api import Page, expect
from test_portal_flows import no_serious_violation, officer

pytestmark = pytest.mark.slow

ANSWERS = {
    "U1": "Sesuai",
    "U2": "Mudah",
    "U3": "Kurang cepat",
    "U4": "Gratis",
    "U5": "Sesuai",
    "U6": "Sangat kompeten",
    "U7": "Sangat sopan dan ramah",
    "U8": "Dikelola dengan baik",
    "U9": "Baik",
}


def mailed_survey_link(stack, code: str, timeout: float = 30.0) -> str:
    """The survey link of the e-mail inviting the complainant of ``code``."""
    pattern = re.compile(r"https?://[^\s\"<>]+/survei/[A-Za-z0-9_-]{16,128}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in stack.mail_dir.glob("**/*.eml"):
            message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
            if code not in str(message["Subject"]) or "Survei" not in str(message["Subject"]):
                continue
            for part in message.walk():
                if part.get_content_type() == "text/plain" and (found := pattern.search(part.get_content())):
                    return found.group(0)
        time.sleep(0.3)
    raise AssertionError(f"no survey invitation for {code} in {stack.mail_dir}")


def answer_all(page: Page) -> None:
    for code, label in ANSWERS.items():
        page.locator(f"#{code}").get_by_label(label, exact=True).check()


def test_a_closed_complaint_is_surveyed_once_from_the_emailed_link(stack, web, page, browser):
    page.goto(f"{web}/pengaduan")
    page.get_by_label("Nama lengkap").fill("Rina Wulandari")
    page.get_by_label("Email").fill("rina.survei@example.go.id")
    page.get_by_label("Nomor HP").fill("0812 7777 1234")
    page.get_by_label("Ringkasan").fill("Informasi jadwal layanan tidak jelas")
    page.get_by_label("Uraian pengaduan").fill("Jadwal layanan di papan pengumuman berbeda dengan di situs.")
    page.get_by_role("button", name="Kirim pengaduan").click()
    expect(page.get_by_role("heading", name="Pengaduan terkirim")).to_be_visible()
    code = page.locator("#kode-lacak").inner_text().strip()

    api = stack.url("complaints") + f"/api/v1/officer/complaints/{code}"
    for action, role, body in (
        ("classify", "complaint_officer", {"tier": "ringan"}),
        ("assign", "complaint_officer", {"team": "Tim Pengelola Pengaduan"}),
        ("answer", "complaint_team", {"answer": "Jadwal di situs sudah diperbarui."}),
        ("close", "complaint_officer", None),
    ):
        response = httpx.post(f"{api}/{action}", json=body, headers=officer(role), timeout=10)
        assert response.status_code == 200, (action, response.text)

    link = mailed_survey_link(stack, code)
    second = browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID").new_page()
    second.goto(link)  # a second tab with the form, answered after the first
    expect(second.get_by_role("heading", name="Survei Kepuasan Masyarakat")).to_be_visible()

    page.goto(link)
    expect(page.get_by_role("heading", name="Survei Kepuasan Masyarakat")).to_be_visible()
    # the token was exchanged for an HttpOnly cookie: the address bar and history lose it
    token = link.rsplit("/", 1)[1]
    assert page.url.endswith("/survei") and token not in page.url
    [cookie] = [c for c in page.context.cookies() if "serambi_survei" in c["name"]]
    assert cookie["httpOnly"] and cookie["path"] == "/survei" and cookie["sameSite"] == "Lax"
    assert token not in cookie["value"]
    expect(page.locator("main")).to_contain_text("layanan pengaduan")
    expect(page.locator("main")).not_to_contain_text(code)  # the page names no case
    no_serious_violation(page)
    shot(page, "survei-isi")

    page.locator("#U1").get_by_label("Sesuai", exact=True).check()
    page.get_by_role("button", name="Kirim survei").click()
    summary = page.locator(".ringkasan-galat")
    expect(summary).to_be_focused()
    expect(page.locator("#U2-galat")).to_contain_text(
        "U2 (Sistem, mekanisme, dan prosedur): pilih salah satu jawaban"
    )
    expect(page.locator("#U1").get_by_label("Sesuai", exact=True)).to_be_checked()  # kept
    no_serious_violation(page)
    shot(page, "survei-galat")

    answer_all(page)
    page.get_by_label("Usia").select_option("30_39")
    page.get_by_label("Pendidikan terakhir").select_option("s1")
    page.get_by_label("Saran dan masukan").fill("Perbarui jadwal di papan pengumuman setiap pekan.")
    page.get_by_role("button", name="Kirim survei").click()
    expect(page.get_by_role("heading", name="Terima kasih")).to_be_visible()
    expect(page.locator("#pesan")).to_be_focused()
    no_serious_violation(page)
    shot(page, "survei-terima-kasih")

    answer_all(second)
    second.get_by_role("button", name="Kirim survei").click()
    expect(second.get_by_role("heading", name="Survei sudah diisi")).to_be_visible()
    expect(second.locator("#pesan")).to_contain_text("hanya dapat dinilai satu kali")
    no_serious_violation(second)
    shot(second, "survei-sudah-diisi")

    response = page.goto(link)
    assert response is not None and response.status == 409
    expect(page.get_by_role("heading", name="Survei sudah diisi")).to_be_visible()
    unknown = page.goto(link.rsplit("/", 1)[0] + "/" + "x" * 43)
    assert unknown is not None and unknown.status == 404
    expect(page.get_by_role("heading", name="Survei tidak ditemukan")).to_be_visible()
    assert link.rsplit("/", 1)[1] not in (stack.base / "logs" / "web.log").read_text()
    second.context.close()


def test_the_survey_form_works_without_javascript_and_refuses_a_second_answer(stack, web, browser):
    """The same form with JavaScript off (the whole flow is server-rendered)."""
    page = browser.new_context(java_script_enabled=False, locale="id-ID").new_page()
    page.goto(f"{web}/pengaduan")
    page.get_by_label("Nama lengkap").fill("Bayu Pratama")
    page.get_by_label("Email").fill("bayu.survei@example.go.id")
    page.get_by_label("Ringkasan").fill("Ruang tunggu panas")
    page.get_by_label("Uraian pengaduan").fill("Pendingin ruangan di ruang tunggu mati sejak pagi.")
    page.get_by_role("button", name="Kirim pengaduan").click()
    code = page.locator("#kode-lacak").inner_text().strip()
    api = stack.url("complaints") + f"/api/v1/officer/complaints/{code}"
    for action, role, body in (
        ("classify", "complaint_officer", {"tier": "ringan"}),
        ("assign", "complaint_officer", {"team": "Tim Pengelola Pengaduan"}),
        ("answer", "complaint_team", {"answer": "Pendingin sudah diperbaiki."}),
        ("close", "complaint_officer", None),
    ):
        assert httpx.post(f"{api}/{action}", json=body, headers=officer(role), timeout=10).status_code == 200
    link = mailed_survey_link(stack, code)
    again = page.context.new_page()
    again.goto(link)
    page.goto(link)
    assert page.url.endswith("/survei")
    answer_all(page)
    page.get_by_role("button", name="Kirim survei").click()
    expect(page.get_by_role("heading", name="Terima kasih")).to_be_visible()
    answer_all(again)
    again.get_by_role("button", name="Kirim survei").click()
    expect(again.get_by_role("heading", name="Survei sudah diisi")).to_be_visible()
    page.context.close()
