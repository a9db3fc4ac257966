"""The citizen's paths through the portal in a real browser: request, complaint, tracking."""

from __future__ import annotations

import json
import re
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from axe_playwright_python.sync_playwright import Axe
from conftest import mailed_link, shot
from playwright.sync_api import Page, expect
from serambi_kit.auth import issue_dev_token
from serambi_kit.settings import ServiceSettings


def fill_request(
    page: Page, files: dict, *, email: str = "siti.aminah@example.go.id", phone: str = ""
) -> None:
    page.get_by_label("Nama lengkap").fill("Siti Aminah")
    page.get_by_label("Jabatan").fill("Sekretaris Dinas")
    page.get_by_label("Nama instansi atau lembaga").fill("Dinas Perindustrian Kota Singkawang")
    page.get_by_label("Jenis instansi").select_option("local_government")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Nomor HP").fill(phone)
    page.get_by_label("Topik").fill("Hilirisasi komoditas daerah")
    page.get_by_label("Maksud dan tujuan").fill("Audiensi program hilirisasi komoditas daerah.")
    page.get_by_label("Jumlah peserta").fill("3")
    page.get_by_label("Surat permohonan fasilitasi rapat/audiensi").set_input_files(files["letter"])
    page.get_by_label("Tanda pengenal / identitas").set_input_files(files["id"])


def wait_for_text(page: Page, selector: str, text: str, timeout: float = 20.0) -> None:
    """Reload until the read model has caught up (projections are asynchronous)."""
    deadline = time.monotonic() + timeout
    while page.locator(selector).inner_text().strip() != text:
        assert time.monotonic() < deadline, page.locator(selector).inner_text()
        time.sleep(0.4)
        page.reload()


def proposable_days() -> list[date]:
    """Three weekdays about four weeks ahead: inside scheduling's window for proposed dates (a
    year: a date further ahead is ignored and the request goes to the officers, "Sedang
    ditinjau"), and not all three a holiday."""
    day = datetime.now(ZoneInfo("Asia/Pontianak")).date() + timedelta(days=28)
    found = []
    while len(found) < 3:
        if day.weekday() < 4:
            found.append(day)
        day += timedelta(days=1)
    return found


def no_serious_violation(page: Page) -> None:
    """An axe-core scan of the page as it is: no serious or critical violation."""
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], results.generate_report()


def officer(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_dev_token(ServiceSettings(), [role], subject=f'{role}-1')}"}


def test_a_request_sent_with_two_files_is_followed_from_the_emailed_link_until_it_is_scheduled(
    stack, web, page, files, browser
):
    page.goto(f"{web}/audiensi")
    fill_request(page, files)
    for number, day in enumerate(proposable_days(), start=1):
        page.get_by_label(f"Tanggal usulan {number}").fill(day.isoformat())
    shot(page, "audiensi-isi")
    page.get_by_role("button", name="Kirim permohonan").click()
    expect(page.get_by_role("heading", name="Permohonan audiensi terkirim")).to_be_visible()
    code = page.locator("#kode-lacak").inner_text().strip()
    token = page.locator("#kode-akses").inner_text().strip()
    expect(page.locator(".kotak-berhasil")).to_be_focused()  # announced after the post
    no_serious_violation(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # the 43 characters wrap
    page.get_by_role("button", name="Salin kode akses").click()
    expect(page.locator("#kode-akses-salin")).not_to_be_empty()
    shot(page, "audiensi-terkirim")

    link = mailed_link(stack, code, "audiensi")
    assert link.startswith(web) and link.endswith(f"#t={token}")
    reader = browser.new_context(viewport={"width": 360, "height": 780})
    tracking = reader.new_page()
    tracking.goto(link)
    expect(tracking.get_by_role("heading", name=f"Permohonan audiensi {code}")).to_be_visible()
    assert "#t=" not in tracking.url and token not in tracking.url
    again = reader.new_page()  # the e-mailed link again, now with a session: the case page itself
    again.goto(link)
    expect(again.get_by_role("heading", name=f"Permohonan audiensi {code}")).to_be_visible()
    assert again.evaluate("window.location.hash") == ""  # lacak.js ran before "load"
    assert "#t=" not in again.url
    no_serious_violation(again)
    again.close()
    tracking.goto(link)  # and in the same tab, where only the fragment changes
    expect(tracking).not_to_have_url(re.compile("#t="))
    wait_for_text(tracking, "#status", "Terjadwal")
    expect(tracking.locator("#jadwal-mulai")).to_contain_text("WIB")
    shot(tracking, "lacak-audiensi-terjadwal")
    cookie = next(c for c in reader.cookies() if c["name"] == "serambi_lacak")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == f"/lacak/audiensi/{code}"
    assert token not in cookie["value"]
    letter = tracking.get_by_role("link", name=re.compile("Unduh surat jawaban"))
    deadline = time.monotonic() + 20  # the letter is linked once scheduling has written it
    while not letter.count():
        assert time.monotonic() < deadline, "no answer letter linked on the scheduled request"
        time.sleep(0.4)
        tracking.reload()
    with tracking.expect_download() as download:
        letter.first.click()
    assert download.value.path().read_bytes().startswith(b"%PDF")

    tracking.get_by_text("Tarik permohonan", exact=True).click()
    tracking.get_by_label("Alasan").fill("Jadwal kami berubah.")
    tracking.get_by_role("button", name="Ya, tarik permohonan ini").click()
    expect(tracking.get_by_role("status")).to_contain_text("telah ditarik")
    expect(tracking.locator("#pesan")).to_be_focused()
    wait_for_text(tracking, "#status", "Ditarik oleh pemohon")
    reader.close()
    assert token not in (stack.base / "logs" / "web.log").read_text()


def test_an_anonymous_complaint_with_a_photo_is_tracked_answered_and_disputed_from_the_page(
    stack, web, page, files
):
    page.goto(f"{web}/pengaduan")
    page.get_by_label("Anonim").check()
    page.get_by_label("Ringkasan").fill("Antrean loket terlalu lama")
    page.get_by_label("Uraian pengaduan").fill("Saya menunggu dua jam di loket informasi tanpa kepastian.")
    page.get_by_label("Lampiran foto atau dokumen").set_input_files(files["photo"])
    page.get_by_role("button", name="Kirim pengaduan").click()
    expect(page.get_by_role("heading", name="Pengaduan terkirim")).to_be_visible()
    code = page.locator("#kode-lacak").inner_text().strip()
    page.reload()  # the browser posts the form again, with the same Idempotency-Key
    expect(page.get_by_role("heading", name="Pengaduan terkirim")).to_be_visible()
    assert page.locator("#kode-lacak").inner_text().strip() == code
    page.get_by_role("link", name="Buka halaman lacak").click()
    expect(page.get_by_role("heading", name=f"Pengaduan {code}")).to_be_visible()
    expect(page.locator("#status")).to_have_text("Diterima")
    no_serious_violation(page)
    shot(page, "lacak-pengaduan-diterima")

    api = stack.url("complaints") + f"/api/v1/officer/complaints/{code}"
    for action, role, body in (
        ("classify", "complaint_officer", {"tier": "normatif"}),
        ("assign", "complaint_officer", {"team": "Tim Pengelola Pengaduan"}),
        ("answer", "complaint_team", {"answer": "Loket kini dibuka pukul 07.30."}),
    ):
        response = httpx.post(f"{api}/{action}", json=body, headers=officer(role), timeout=10)
        assert response.status_code == 200, response.text
    wait_for_text(page, "#status", "Sudah dijawab")
    expect(page.locator("#jawaban")).to_have_text("Loket kini dibuka pukul 07.30.")
    page.get_by_role("button", name="Kirim sanggahan").click()
    expect(page.locator("#reason-galat")).to_contain_text("alasan")
    page.get_by_label("Alasan sanggahan").fill("Kemarin loket masih dibuka pukul 09.00.")
    page.get_by_role("button", name="Kirim sanggahan").click()
    expect(page.get_by_role("status")).to_contain_text("Sanggahan Anda diterima")
    expect(page.locator("#pesan")).to_be_focused()
    no_serious_violation(page)
    wait_for_text(page, "#status", "Ditangani kembali (sanggahan)")
    shot(page, "lacak-pengaduan-disanggah")


def test_a_wrong_token_opens_nothing_and_a_lost_link_is_answered_alike_for_any_code(stack, web, page, files):
    page.goto(f"{web}/audiensi")
    fill_request(page, files, email="lupa.tautan@example.go.id")
    page.get_by_role("button", name="Kirim permohonan").click()
    code = page.locator("#kode-lacak").inner_text().strip()

    page.goto(f"{web}/lacak/audiensi/{code}#t={'x' * 43}")
    expect(page.locator("#token-galat")).to_contain_text("tidak cocok")
    assert page.context.cookies() and not any(c["name"] == "serambi_lacak" for c in page.context.cookies())
    page.goto(f"{web}/lacak")
    page.get_by_label("Kode lacak").fill("AUD-1999-999999")
    page.get_by_label("Kode akses").fill("y" * 43)
    page.get_by_role("button", name="Lacak").click()
    expect(page.locator("#token-galat")).to_contain_text("tidak cocok")
    shot(page, "lacak-salah")

    answers = []
    for asked in (code, "AUD-1999-999999"):
        page.goto(f"{web}/lupa-tautan")
        page.get_by_label("Kode lacak").fill(asked)
        page.get_by_role("button", name="Kirim ulang tautan").click()
        answers.append(page.locator("#jawaban-lupa").inner_text())
    assert answers[0] == answers[1]
    no_serious_violation(page)
    shot(page, "lupa-terkirim")
    link = mailed_link(stack, code, "audiensi", after=1)  # the acknowledgement, then the re-send
    page.goto(link)
    expect(page.get_by_role("heading", name=f"Permohonan audiensi {code}")).to_be_visible()


def texted_link(stack, number: str, code: str, timeout: float = 20.0) -> str:
    """The tracking link in an SMS the sink received for ``number``. A long notice goes as parts
    that each read on their own (``(1/2) …``, split between words), so the link is whole in one."""
    pattern = re.compile(rf"https?://[^\s\"<>]+/lacak/audiensi/{re.escape(code)}#t=[A-Za-z0-9_-]+")
    log = stack.base / "sms" / "sms.jsonl"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        records = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        for record in records:
            if record["body"].get("to") == number and (found := pattern.search(record["body"]["text"])):
                return found.group(0)
        time.sleep(0.3)
    raise AssertionError(f"no SMS to {number} with a link to audiensi/{code} in {log}")


def test_a_request_with_only_a_phone_number_is_opened_from_the_link_in_its_sms(
    stack, web, page, files, browser
):
    page.goto(f"{web}/audiensi")
    fill_request(page, files, email="", phone="0813 4567 8901")
    page.get_by_role("button", name="Kirim permohonan").click()
    expect(page.get_by_role("heading", name="Permohonan audiensi terkirim")).to_be_visible()
    code = page.locator("#kode-lacak").inner_text().strip()
    token = page.locator("#kode-akses").inner_text().strip()

    link = texted_link(stack, "+6281345678901", code)
    assert link.startswith(web) and link.endswith(f"#t={token}")
    phone = browser.new_context(viewport={"width": 360, "height": 780})  # a phone's browser
    tracking = phone.new_page()
    tracking.goto(link)
    expect(tracking.get_by_role("heading", name=f"Permohonan audiensi {code}")).to_be_visible()
    expect(tracking).not_to_have_url(re.compile("#t="))
    assert token not in tracking.url
    no_serious_violation(tracking)
    shot(tracking, "lacak-dari-sms")
    phone.close()
