"""The console's desk and scheduler screens in Debian's chromium, signed in through the development
OpenID provider, against the real intake, scheduling, notifier and portal.

One stack for the module (serambi_testing.stack, seeded with one room and one host). ``meja`` records
a guest and submits a walk-in request for day D; a second request for D comes through intake's
public API; both are booked on D. ``jadwal`` moves the second onto the first (the double booking
is refused in words), then to the afternoon, and the requester gets the new invitation (.eml).
A third audience whose slot has passed is marked a no-show: the requester's tracking page says
so, and the requester is told it did not take place (not that it was cancelled).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from conftest import SAMPLE_PDF, SAMPLE_PNG, shot
from console_support import TABLET, no_serious_violations, signed_in
from playwright.sync_api import Page, expect
from serambi_calendar import WIB, calendar_from_env
from serambi_contracts import AggregateRef
from serambi_contracts.scheduling import AudienceRescheduled, AudienceScheduled
from serambi_kit.eventstore import JetStreamEventStore, execute
from serambi_ops.commands.demo import submit_request
from serambi_testing.stack import LocalStack, local_stack, oidc_env, sample_request


def audience_day() -> date:
    """A working day two to four weeks ahead whose working time holds 09:00-10:30 and 13:30-14:30."""
    calendar = calendar_from_env({})
    day = date.today() + timedelta(days=14)
    while True:
        periods = [
            (a.astimezone(WIB).time(), b.astimezone(WIB).time()) for a, b in calendar.working_periods(day)
        ]
        morning = any(
            a <= datetime.strptime("09:00", "%H:%M").time()
            and b >= datetime.strptime("10:30", "%H:%M").time()
            for a, b in periods
        )
        afternoon = any(
            a <= datetime.strptime("13:30", "%H:%M").time()
            and b >= datetime.strptime("14:30", "%H:%M").time()
            for a, b in periods
        )
        if morning and afternoon:
            return day
        day += timedelta(days=1)


DAY = audience_day()


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory, provider: str) -> Iterator[LocalStack]:
    env = oidc_env(provider)
    services = ("intake", "scheduling", "notifier", "web")
    with local_stack(Path(tmp_path_factory.mktemp("desk")), services, env) as running:
        yield running


@pytest.fixture(scope="module")
def recorded() -> dict[str, str]:
    return {}


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("scans")
    (directory / "surat.pdf").write_bytes(SAMPLE_PDF)
    (directory / "ktp.png").write_bytes(SAMPLE_PNG)
    return {"letter": directory / "surat.pdf", "id": directory / "ktp.png"}


def until_status(page: Page, text: str, timeout: float = 20.0) -> None:
    """Reload until the audience page shows ``text`` (the read models follow the events)."""
    deadline = time.monotonic() + timeout
    while page.locator("#status").count() == 0 or page.locator("#status").inner_text().strip() != text:
        assert time.monotonic() < deadline, page.content()[:2000]
        time.sleep(0.5)
        page.reload()


def row_after_reloads(page: Page, text: str, timeout: float = 15.0):
    """The table row holding ``text``, reloading while the read model behind the page lags."""
    row = page.get_by_role("row").filter(has_text=text)
    deadline = time.monotonic() + timeout
    while row.count() == 0 and time.monotonic() < deadline:
        time.sleep(0.5)
        page.reload()
    return row


def mail_with_subject(stack: LocalStack, subject: str, to: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in stack.mail_dir.glob("**/*.eml"):
            message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
            if str(message["subject"]).startswith(subject) and to in str(message["to"]):
                return
        time.sleep(0.3)
    raise AssertionError(f"no e-mail '{subject}' to {to} in {stack.mail_dir}")


def test_the_desk_registers_a_guest_and_submits_a_walk_in_request_with_a_printable_receipt(
    console, browser, recorded, scans
):
    web = console.url("web")
    context, page = signed_in(browser, web, "meja", "/petugas/meja/")
    page.get_by_role("button", name="Catat tamu").click()  # nothing filled: the errors
    expect(page.get_by_role("alert")).to_contain_text("Nama tamu wajib diisi.")
    no_serious_violations(page, "tamu with errors")
    page.get_by_label("Nama tamu").fill("Rahmat Hidayat")
    page.get_by_label("Instansi", exact=True).fill("Dinas Koperasi Kabupaten Sambas")
    page.get_by_label("Keperluan").fill("Mengajukan audiensi")
    page.get_by_role("button", name="Catat tamu").click()
    expect(page.get_by_role("status")).to_contain_text("Tamu telah dicatat di buku tamu.")
    expect(row_after_reloads(page, "Dinas Koperasi Kabupaten Sambas")).to_contain_text("Mengajukan audiensi")
    assert "Rahmat Hidayat" not in page.content()  # masked in the list
    shot(page, "petugas-meja-tamu")
    no_serious_violations(page, "tamu")

    page.get_by_role("link", name="Ajukan permohonan").click()
    no_serious_violations(page, "baru")
    page.get_by_label("Nama lengkap").fill("Rahmat Hidayat")
    page.get_by_label("Jabatan").fill("Kepala Bidang")
    page.get_by_label("Nama instansi atau lembaga").fill("Dinas Koperasi Kabupaten Sambas")
    page.get_by_label("Jenis instansi").select_option("local_government")
    page.get_by_label("Email").fill("rahmat@example.go.id")
    page.get_by_label("Topik").fill("Koperasi produsen lada")
    page.get_by_label("Maksud dan tujuan").fill("Membahas dukungan pemasaran lada Sambas.")
    page.get_by_label("Jumlah peserta").fill("4")
    page.get_by_label("Tanggal usulan 1").fill(DAY.isoformat())
    page.get_by_label("Surat permohonan").set_input_files(scans["letter"])
    page.get_by_label("Tanda pengenal pemohon").set_input_files(scans["id"])
    page.get_by_role("button", name="Kirim permohonan").click()
    expect(page.get_by_role("heading", name="Tanda terima permohonan audiensi")).to_be_visible()
    code = page.locator("#kode-lacak").inner_text().strip()
    assert page.locator("#kode-akses").inner_text().strip()
    recorded["first"] = code
    shot(page, "petugas-meja-tanda-terima")
    page.emulate_media(media="print")
    expect(page.locator("header.kepala")).to_be_hidden()  # the receipt prints without the console
    shot(page, "petugas-meja-tanda-terima-cetak")
    page.emulate_media(media="screen")
    no_serious_violations(page, "tanda-terima")

    page.get_by_role("link", name="Catat pemohon di buku tamu").click()
    expect(page.get_by_label("Kode permohonan")).to_have_value(code)
    page.get_by_label("Nama tamu").fill("Rahmat Hidayat")
    page.get_by_label("Instansi", exact=True).fill("Dinas Koperasi Kabupaten Sambas")
    page.get_by_label("Keperluan").fill("Menyerahkan surat permohonan")
    page.get_by_role("button", name="Catat tamu").click()
    expect(row_after_reloads(page, code)).to_contain_text("Menyerahkan surat permohonan")

    page.goto(f"{web}/petugas/meja/permohonan?instansi=Dinas Koperasi Kabupaten Sambas")
    expect(row_after_reloads(page, code)).to_contain_text("Meja informasi")
    shot(page, "petugas-meja-permohonan")
    no_serious_violations(page, "permohonan")
    page.set_viewport_size(TABLET)
    page.goto(f"{web}/petugas/meja/permohonan?dari=bukan-tanggal")
    expect(page.locator("#dari-galat")).to_contain_text("Isi tanggal yang benar")
    no_serious_violations(page, "permohonan with errors, tablet")
    page.goto(f"{web}/petugas/meja/")
    shot(page, "petugas-meja-tamu-tablet")
    no_serious_violations(page, "tamu, tablet")
    assert page.goto(f"{web}/petugas/penjadwalan/").status == 403  # the desk does not schedule
    context.close()


def test_the_scheduler_sees_the_double_booking_refused_then_reschedules_and_the_requester_gets_the_invitation(
    console, browser, recorded
):
    web = console.url("web")
    first = recorded.get("first")
    assert first, "the desk test submits the first request"
    marker = f"jadwal{int(time.time())}"
    body = {**sample_request(marker), "proposed_dates": DAY.isoformat()}
    answer = submit_request(console.url("intake"), body)
    assert answer.status_code == 201, answer.text
    second = answer.json()["tracking_code"]

    context, page = signed_in(browser, web, "jadwal", f"/petugas/penjadwalan/audiensi/{first}")
    until_status(page, "Terjadwal")
    page.goto(f"{web}/petugas/penjadwalan/audiensi/{second}")
    until_status(page, "Terjadwal")
    no_serious_violations(page, "audiensi")

    form = page.locator("form[action$='/jadwal-ulang']")
    form.get_by_label("Tanggal").fill(DAY.isoformat())
    form.get_by_label("Jam mulai (WIB)").fill("09:30")  # over the other audience of the day
    form.get_by_label("Alasan penjadwalan ulang").fill("Pejabat penerima ada rapat mendadak.")
    form.get_by_role("button", name="Jadwalkan ulang").click()
    expect(page.get_by_role("alert")).to_contain_text("Jadwal bentrok")
    expect(page.get_by_role("alert")).to_contain_text("Pemesanan ganda tidak diizinkan")
    shot(page, "petugas-penjadwalan-bentrok")
    no_serious_violations(page, "audiensi, refusal")

    form = page.locator("form[action$='/jadwal-ulang']")
    expect(form.get_by_label("Alasan penjadwalan ulang")).to_have_value(
        "Pejabat penerima ada rapat mendadak."
    )
    form.get_by_label("Jam mulai (WIB)").fill("13:30")
    form.get_by_role("button", name="Jadwalkan ulang").click()
    expect(page.get_by_role("status")).to_contain_text("Audiensi telah dijadwalkan ulang.")
    deadline = time.monotonic() + 20
    while "13.30" not in page.locator("#jadwal").inner_text():
        assert time.monotonic() < deadline, page.locator("#jadwal").inner_text()
        time.sleep(0.5)
        page.reload()
    mail_with_subject(console, f"Perubahan jadwal audiensi {second}", body["requester"]["email"])

    with page.expect_download() as download:
        page.get_by_role("link", name="Unduh surat jawaban (PDF)").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")

    page.goto(f"{web}/petugas/penjadwalan/?minggu={DAY.isoformat()}")
    expect(page.get_by_role("link", name="13.30–14.30")).to_have_count(2)  # the room's and the host's rows
    shot(page, "petugas-penjadwalan-minggu")
    no_serious_violations(page, "minggu")
    page.goto(f"{web}/petugas/penjadwalan/antrean")
    expect(page.get_by_role("heading", name="Permohonan yang menunggu keputusan")).to_be_visible()
    shot(page, "petugas-penjadwalan-antrean")
    no_serious_violations(page, "antrean")
    page.set_viewport_size(TABLET)
    page.goto(f"{web}/petugas/penjadwalan/?minggu={DAY.isoformat()}")
    shot(page, "petugas-penjadwalan-minggu-tablet")
    no_serious_violations(page, "minggu, tablet")
    page.goto(f"{web}/petugas/penjadwalan/audiensi/{second}")
    shot(page, "petugas-penjadwalan-audiensi-tablet")
    no_serious_violations(page, "audiensi, tablet")
    context.close()


def moved_into_the_past(stack: LocalStack, code: str) -> datetime:
    """Moves a scheduled audience's slot to yesterday by appending AudienceRescheduled to its
    stream — no officer can book a past slot, and a no-show needs one. In a thread of its own:
    Playwright's sync API holds this thread's event loop."""
    starts = datetime.combine(date.today() - timedelta(days=1), datetime.min.time().replace(hour=9), WIB)

    def decide(history: list) -> list:
        last = [e for e in history if isinstance(e, AudienceScheduled | AudienceRescheduled)][-1]
        return [
            AudienceRescheduled(
                audience_id=code,
                request_tracking_code=code,
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                room=last.room,
                host=last.host,
                room_id=last.room_id,
                host_id=last.host_id,
                location=last.location,
                booking_id=last.booking_id,
                previous_starts_at=last.starts_at,
                previous_ends_at=last.ends_at,
                reason="(uji) jadwal yang sudah lewat",
                rescheduled_by="test",
            )
        ]

    async def append() -> None:
        import nats

        nc = await nats.connect(stack.env["SERAMBI_NATS_URL"])
        try:
            await execute(
                JetStreamEventStore(nc, "/serambi/test"), AggregateRef("scheduling", "audience", code), decide
            )
        finally:
            await nc.drain()

    failure: list[BaseException] = []
    thread = threading.Thread(target=lambda: _run(append, failure))
    thread.start()
    thread.join(30)
    assert not failure, failure
    return starts


def _run(coroutine, failure: list[BaseException]) -> None:
    try:
        asyncio.run(coroutine())
    except BaseException as exc:  # noqa: BLE001 — reported to the test's thread
        failure.append(exc)


def no_mail_with_subject(stack: LocalStack, subject: str, to: str) -> None:
    for path in stack.mail_dir.glob("**/*.eml"):
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        assert not (str(message["subject"]).startswith(subject) and to in str(message["to"])), path


def test_the_scheduler_marks_a_no_show_and_the_requesters_tracking_page_says_so(console, browser):
    web = console.url("web")
    marker = f"absen{int(time.time())}"
    body = {**sample_request(marker), "proposed_dates": DAY.isoformat()}
    answer = submit_request(console.url("intake"), body)
    assert answer.status_code == 201, answer.text
    code, token = answer.json()["tracking_code"], answer.json()["access_token"]

    context, page = signed_in(browser, web, "jadwal", f"/petugas/penjadwalan/audiensi/{code}")
    until_status(page, "Terjadwal")
    # the slot is still ahead: no outcome can be recorded before the audience's day
    expect(page.locator("#hasil-audiensi")).to_contain_text("dapat dicatat mulai hari pelaksanaannya")
    expect(page.get_by_role("button", name="Tandai tidak hadir")).to_have_count(0)
    expect(page.get_by_role("button", name="Tandai terlaksana")).to_have_count(0)
    no_serious_violations(page, "audiensi, outcome not yet")

    starts = moved_into_the_past(console, code)
    deadline = time.monotonic() + 20
    while f"{starts.day} " not in page.locator("#jadwal").inner_text():
        assert time.monotonic() < deadline, page.locator("#jadwal").inner_text()
        time.sleep(0.5)
        page.goto(f"{web}/petugas/penjadwalan/audiensi/{code}")
    form = page.locator("form[action$='/tidak-hadir']")
    form.get_by_label("Catatan").fill("Tidak ada kabar dari pemohon.")
    form.get_by_role("button", name="Tandai tidak hadir").click()
    expect(page.get_by_role("status")).to_contain_text("pemohon tidak hadir")
    until_status(page, "Pemohon tidak hadir")
    expect(page.locator(".linimasa")).to_contain_text("Pemohon tidak hadir")
    expect(page.get_by_role("button", name="Tandai tidak hadir")).to_have_count(0)  # final
    shot(page, "petugas-penjadwalan-tidak-hadir")
    no_serious_violations(page, "audiensi, no-show")
    context.close()

    mail_with_subject(console, f"Audiensi {code} tidak terlaksana", body["requester"]["email"])
    no_mail_with_subject(console, f"Pembatalan audiensi {code}", body["requester"]["email"])

    reader = browser.new_context(viewport={"width": 360, "height": 780}, locale="id-ID")
    tracking = reader.new_page()
    tracking.goto(f"{web}/lacak/audiensi/{code}#t={token}")
    deadline = time.monotonic() + 20
    while "pemohon tidak hadir" not in tracking.locator("#status").inner_text():
        assert time.monotonic() < deadline, tracking.locator("#status").inner_text()
        time.sleep(0.5)
        tracking.reload()
    expect(tracking.locator("#status")).to_have_text("Tidak terlaksana: pemohon tidak hadir")
    expect(tracking.locator("#jadwal-mulai")).to_contain_text(f"{starts.day} ")
    assert "Tidak ada kabar" not in tracking.content()
    shot(tracking, "lacak-audiensi-tidak-hadir")
    no_serious_violations(tracking, "lacak, no-show")
    reader.close()
