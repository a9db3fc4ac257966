"""The admin's working calendar, dead-letter list and personal-data erasure in Debian's chromium,
signed in through the development OpenID provider, against the real intake, scheduling,
complaints, notifier and portal (serambi_testing.stack).

A cuti bersama added in the calendar form on the next working day moves the answer deadline of a
waiting audience request (the requester's tracking page shows it), and intake counts new
requests with it.

Dead letters are written into two services' own databases as their consumers would (the kit's
``DeadLetter`` record, for a consumer no replica runs, so a redrive stays marked); ``admin``
pages through both services' records together and redrives one. A requester's personal data is
then erased by NIK through the form and its confirmation, and their tracking link stops working.
``jadwal`` gets the 403 page on both screens.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from conftest import shot
from console_support import TABLET, no_serious_violations, signed_in
from playwright.sync_api import expect
from pymongo import MongoClient
from serambi_calendar import WIB, Clock, LiveCalendar, SlaPolicy, load_overrides
from serambi_kit.deadletters import DeadLetter
from serambi_ops.commands.demo import submit_request
from serambi_testing.stack import LocalStack, local_stack, oidc_env, sample_request

pytestmark = pytest.mark.slow  # a long browser flow: `make test-slow`, which CI also runs

NIK = "6171012301900002"


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory, provider: str) -> Iterator[LocalStack]:
    env = {**oidc_env(provider), "SERAMBI_CALENDAR_REFRESH_SECONDS": "1"}
    services = ("intake", "scheduling", "complaints", "notifier", "web")
    with local_stack(Path(tmp_path_factory.mktemp("console-admin")), services, env) as running:
        yield running


@pytest.fixture(scope="module")
def letters(console) -> dict[str, list[str]]:
    """20 dead letters in intake's database and 6 in the notifier's, one minute apart, newest
    the notifier's; returns their ids per service, newest first."""
    client = MongoClient(console.env["SERAMBI_MONGO_URL"], tz_aware=True)
    now = datetime.now(UTC)
    ids: dict[str, list[str]] = {"intake": [], "notifier": []}
    try:
        for n in range(26):
            service = "notifier" if n < 6 else "intake"
            letter = DeadLetter(
                f"{service}-retired",
                service.upper(),
                f"{service}.case.C{n:02d}.Something",
                500 + n,
                5,
                f"KeyError: 'contact' tidak ada (uji {n:02d})",
                {"ce-type": f"id.go.kalbarprov.ekonomi.{service}.Something.v1"},
                b"{}",
            )
            document = {**letter.document(), "recorded_at": now - timedelta(minutes=n)}
            client[f"serambi_{service}"]["dead_letters"].insert_one(document)
            ids[service].append(document["_id"])
    finally:
        client.close()
    return ids


def test_the_admin_pages_through_every_services_dead_letters_and_redrives_one(console, browser, letters):
    web = console.url("web")
    context, page = signed_in(browser, web, "admin", "/petugas/admin/dead-letter")
    expect(page.get_by_role("heading", name="Dead letter: pesan yang gagal diproses")).to_be_visible()
    expect(page.get_by_text("Penerimaan permohonan (intake): 20 terbuka")).to_be_visible()
    expect(page.get_by_text("Pemberitahuan (notifier): 6 terbuka")).to_be_visible()
    rows = page.locator("table.antrean tbody tr")
    expect(rows).to_have_count(25)
    expect(rows.first).to_contain_text("KeyError: 'contact' tidak ada (uji 00)")  # the newest, notifier's
    expect(rows.first).to_contain_text("Pemberitahuan")
    expect(rows.nth(6)).to_contain_text("Penerimaan permohonan")
    shot(page, "petugas-admin-dead-letter")
    no_serious_violations(page, "dead-letter")

    page.get_by_role("link", name="Berikutnya ›").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("(uji 25)")  # the oldest
    expect(page.get_by_role("link", name="Berikutnya ›")).to_have_count(0)
    page.get_by_role("link", name="‹ Terbaru").click()

    target = letters["intake"][0]  # uji 06
    page.get_by_role("button", name=f"Kirim ulang {target}").click()
    expect(page.get_by_role("status")).to_contain_text("Dead letter ditandai untuk diproses ulang")
    expect(page.get_by_text("Penerimaan permohonan (intake): 19 terbuka")).to_be_visible()
    expect(page.get_by_role("button", name=f"Kirim ulang {target}")).to_have_count(0)
    page.get_by_label("Keadaan").select_option("redrive")
    page.get_by_label("Layanan").select_option("intake")
    page.get_by_role("button", name="Tampilkan").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("(uji 06)")
    expect(rows.first).to_contain_text("Menunggu diproses ulang")
    no_serious_violations(page, "dead-letter, redrive")

    page.set_viewport_size(TABLET)
    page.goto(f"{web}/petugas/admin/dead-letter")
    shot(page, "petugas-admin-dead-letter-tablet")
    no_serious_violations(page, "dead-letter, tablet")
    assert page.goto(f"{web}/petugas/admin/pemeliharaan").url.endswith("/petugas/admin/dead-letter")
    context.close()


def test_the_admin_erases_a_requester_by_nik_after_a_confirmation_and_their_link_stops_working(
    console, browser
):
    marker = f"hapus{int(time.time())}"
    body = {**sample_request(marker)}
    body["requester"] = {**body["requester"], "identity_number": NIK}
    answer = submit_request(console.url("intake"), body)
    assert answer.status_code == 201, answer.text
    code, token = answer.json()["tracking_code"], answer.json()["access_token"]
    track = f"{console.url('intake')}/api/v1/requests/{code}"
    assert httpx.get(track, headers={"X-Access-Token": token}).status_code == 200

    web = console.url("web")
    context, page = signed_in(browser, web, "admin", "/petugas/admin/penghapusan")
    page.get_by_role("button", name="Periksa sebelum menghapus").click()  # nothing filled
    expect(page.get_by_role("alert")).to_contain_text("Isi sedikitnya satu pengenal")
    expect(page.get_by_role("alert")).to_contain_text("Isi nomor register")
    no_serious_violations(page, "penghapusan with errors")
    page.get_by_label("NIK").fill("12345")
    page.get_by_label("Nomor register").fill("REG-PDP/2026/021")
    page.get_by_role("button", name="Periksa sebelum menghapus").click()
    expect(page.locator("#nik-galat")).to_contain_text("NIK terdiri atas 16 angka.")
    page.get_by_label("NIK").fill(NIK)
    page.get_by_role("button", name="Periksa sebelum menghapus").click()

    expect(page.get_by_role("heading", name="Konfirmasi penghapusan data pribadi")).to_be_visible()
    expect(page.locator("main dl")).to_contain_text("6171********0002")
    assert NIK not in page.locator("main dl").inner_text()
    shot(page, "petugas-admin-penghapusan-konfirmasi")
    no_serious_violations(page, "penghapusan, confirmation")
    page.get_by_role("button", name="Hapus data pribadi").click()  # not confirmed: the browser stops it
    expect(page.get_by_role("heading", name="Konfirmasi penghapusan data pribadi")).to_be_visible()
    page.locator("#yakin").evaluate("box => box.required = false")  # without the browser's check
    page.get_by_role("button", name="Hapus data pribadi").click()
    expect(page.get_by_role("alert")).to_contain_text("Centang pernyataan ini")
    no_serious_violations(page, "penghapusan, confirmation refused")
    assert httpx.get(track, headers={"X-Access-Token": token}).status_code == 200  # nothing erased yet
    page.get_by_label("Saya telah memastikan identitas pemohon").check()
    page.get_by_role("button", name="Hapus data pribadi").click()

    expect(page.get_by_role("status")).to_contain_text("Data pribadi telah dihapus.")
    expect(page.locator("main")).to_contain_text("REG-PDP/2026/021")
    assert page.locator(".kunci-data li").count() >= 1
    shot(page, "petugas-admin-penghapusan-selesai")
    no_serious_violations(page, "penghapusan, done")
    deadline = time.monotonic() + 15  # intake's key cache lasts a few seconds in the test stack
    while httpx.get(track, headers={"X-Access-Token": token}).status_code == 200:
        assert time.monotonic() < deadline, "the requester's link still answers"
        time.sleep(0.5)
    page.goto(f"{web}/petugas/admin/penghapusan")
    shot(page, "petugas-admin-penghapusan")
    no_serious_violations(page, "penghapusan")
    context.close()


def test_an_officer_without_the_admin_role_gets_the_403_page_on_both_screens(console, browser):
    web = console.url("web")
    context, page = signed_in(browser, web, "jadwal", "/petugas/")
    assert page.goto(f"{web}/petugas/admin/dead-letter").status == 403
    assert page.goto(f"{web}/petugas/admin/penghapusan").status == 403
    context.close()


@dataclass
class Revised:  # what LiveCalendar.revise reads of WorkingDayRevised
    revision: int
    action: str
    day: date
    holiday_name: str
    decree: str
    to: date | None = None


def next_sunday() -> date:
    day = date.today() + timedelta(days=7)
    return day + timedelta(days=(6 - day.weekday()))


def test_the_admin_adds_a_cuti_bersama_and_open_deadlines_and_new_requests_count_with_it(console, browser):
    body = {**sample_request(f"kalender{int(time.time())}"), "proposed_dates": next_sunday().isoformat()}
    answer = submit_request(console.url("intake"), body)  # only a Sunday proposed: referred, undecided
    assert answer.status_code == 201, answer.text
    code, token = answer.json()["tracking_code"], answer.json()["access_token"]
    told = datetime.fromisoformat(answer.json()["answer_due_at"])
    live = LiveCalendar(load_overrides(), years=[date.today().year, date.today().year + 1])
    holiday = datetime.now(WIB).date() + timedelta(days=1)
    while not live.working_periods(holiday):
        holiday += timedelta(days=1)
    assert holiday <= told.astimezone(WIB).date()  # inside the three working days

    web = console.url("web")
    context, page = signed_in(browser, web, "admin", f"/petugas/admin/kalender?tahun={holiday.year}")
    expect(page.get_by_role("heading", name=f"Kalender kerja {holiday.year}")).to_be_visible()
    page.get_by_label("Jenis perubahan").select_option("remove")  # the day is a working day: refused
    page.get_by_label("Tanggal", exact=True).fill(holiday.isoformat())
    page.get_by_label("Dasar perubahan").fill("SKB 3 Menteri, revisi uji")
    page.get_by_role("button", name="Simpan revisi kalender").click()
    expect(page.get_by_role("alert")).to_contain_text("bukan hari libur atau cuti bersama")
    no_serious_violations(page, "kalender, refused")

    page.get_by_label("Jenis perubahan").select_option("add")
    page.get_by_label("Nama hari libur atau cuti bersama").fill("Cuti bersama (uji)")
    page.get_by_role("button", name="Simpan revisi kalender").click()
    expect(page.get_by_role("status")).to_contain_text("Revisi kalender 1 disimpan. Tenggat 1 audiensi")
    row = page.get_by_role("row").filter(has_text="Cuti bersama (uji)")
    expect(row.first).to_contain_text("revisi kalender")
    expect(page.locator("main")).to_contain_text("+ revisi 1")
    shot(page, "petugas-admin-kalender-revisi")
    no_serious_violations(page, "kalender, revised")
    context.close()

    live.revise([Revised(1, "add", holiday, "Cuti bersama (uji)", "SKB 3 Menteri, revisi uji")])
    policy = SlaPolicy()
    track = f"{console.url('intake')}/api/v1/requests/{code}"
    deadline = time.monotonic() + 20
    while (view := httpx.get(track, headers={"X-Access-Token": token}).json())[
        "answer_due_at"
    ] == answer.json()["answer_due_at"]:
        assert time.monotonic() < deadline, view
        time.sleep(0.5)
    moved = datetime.fromisoformat(view["answer_due_at"])
    assert moved > told and "deadline_moved" in [step["step"] for step in view["timeline"]]

    time.sleep(2)  # intake reads the revision within its refresh interval (1 s here)
    later = submit_request(console.url("intake"), {**body, "topic": "Uji kalender baru"}).json()
    submitted = datetime.fromisoformat(later["answer_due_at"])
    expected = Clock("audience_answer", datetime.now(UTC)).deadline(live, policy)
    assert submitted.astimezone(UTC) == expected, (submitted, expected)

    reader = browser.new_context(viewport={"width": 360, "height": 780}, locale="id-ID")
    tracking = reader.new_page()
    tracking.goto(f"{web}/lacak/audiensi/{code}#t={token}")
    expect(tracking.locator("main")).to_contain_text("Batas waktu disesuaikan")
    no_serious_violations(tracking, "lacak, deadline moved")
    shot(tracking, "lacak-audiensi-batas-disesuaikan")
    reader.close()
