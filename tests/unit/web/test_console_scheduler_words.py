"""The scheduler's screens put scheduling's refusals and the slot form into words and bodies."""

from __future__ import annotations

from datetime import date

from serambi_web.adapters.backend import ApiError
from serambi_web.domain.penjadwalan import ACTIONS, audience_day, refusal, step_body

NAMES = {"ruang-rapat-biro": "Ruang Rapat Biro", "kepala-biro": "Kepala Biro"}


def test_a_double_booking_of_the_room_is_named_with_the_room_and_the_buffer():
    detail = (
        "the room ruang-rapat-biro is booked from 09:00-10:00 (audience AUD-1), overlapping "
        "09:30-10:30 with its buffer of 15 minutes"
    )
    message, fields = refusal(ApiError(409, [], detail), NAMES)
    assert message.startswith("Jadwal bentrok: ruang Ruang Rapat Biro sudah dipakai")
    assert "jeda 15 menit" in message and "Pemesanan ganda tidak diizinkan" in message
    assert fields == {}


def test_a_host_overlap_found_by_the_rule_check_is_a_double_booking_too():
    detail = "the host kepala-biro is booked at an overlapping time (buffer 15 min)"
    assert refusal(ApiError(409, [], detail), NAMES)[0].startswith("Jadwal bentrok: pejabat Kepala Biro")


def test_slot_rules_and_wrong_states_are_said_in_indonesian():
    cases = {
        "2031-03-08 is not a working day (weekend)": "Tanggal itu bukan hari kerja (weekend). Pilih hari kerja.",
        "2031-03-04 is not a working day": "Tanggal itu bukan hari kerja. Pilih hari kerja.",
        "12:30-13:30 WIB is not inside one working period of 2031-03-04 (07:30-12:00, 13:00-16:00 WIB)": "Waktu itu di luar jam kerja. Jam kerja hari itu: 07:30-12:00, 13:00-16:00 WIB "
        "(tidak boleh melewati jam istirahat).",
        "room ruang-rapat-biro seats 20, the request has 30": "Ruang itu hanya memuat 20 orang, peserta audiensi 30 orang.",
        "cannot reschedule audience AUD-1: it is declined, and only a scheduled audience can be": "Langkah ini tidak dapat dilakukan: audiensi berstatus ditolak.",
    }
    for detail, words in cases.items():
        assert refusal(ApiError(422, [], detail), NAMES)[0] == words, detail


def test_an_unknown_audience_and_a_missing_role_are_not_shown_as_form_errors():
    assert refusal(ApiError(404, [], "no audience X"))[0] == "Audiensi tidak ditemukan."
    assert refusal(ApiError(403, [], "forbidden"))[0] == "Peran Anda tidak mengizinkan langkah ini."


def test_the_slot_form_becomes_instants_in_wib_and_missing_fields_are_named():
    body, errors = step_body(
        "jadwal-ulang",
        {
            "room_id": "r",
            "host_id": "h",
            "tanggal": "2031-03-04",
            "mulai": "13:30",
            "selesai": "",
            "reason": "rapat",
        },
    )
    assert errors == {}
    assert body == {
        "room_id": "r",
        "host_id": "h",
        "starts_at": "2031-03-04T13:30:00+07:00",
        "reason": "rapat",
    }
    body, errors = step_body(
        "jadwalkan", {"room_id": "", "host_id": "h", "tanggal": "", "mulai": "", "selesai": ""}
    )
    assert body is None and set(errors) == {"room_id", "tanggal", "mulai"}


def test_a_no_show_is_its_own_step_with_optional_notes_not_a_cancellation():
    assert ACTIONS["tidak-hadir"] == ("no-show", ("notes",))
    assert step_body("tidak-hadir", {"notes": ""}) == (None, {})  # sent as an empty body: {}
    assert step_body("tidak-hadir", {"notes": "tidak ada kabar"}) == ({"notes": "tidak ada kabar"}, {})
    detail = (
        "audience AUD-1 starts at 2031-03-04T09:00:00+07:00: it cannot be marked a no-show before it starts"
    )
    assert refusal(ApiError(409, [], detail))[0].startswith("Audiensi belum dimulai")
    assert step_body("tolak", {"reason": ""})[1] == {
        "reason": "Tuliskan alasannya: alasan ini disampaikan kepada pemohon."
    }


def test_held_or_no_show_before_the_audience_day_is_refused_in_words_naming_the_day():
    for action in ("held", "a no-show"):
        detail = f"audience AUD-1 cannot be marked {action} before its day (2026-02-18 WIB)"
        message, fields = refusal(ApiError(409, [], detail))
        assert message == (
            "Audiensi belum dimulai: hasil audiensi (terlaksana atau pemohon tidak hadir) "
            "baru dapat dicatat mulai hari pelaksanaannya, Rabu, 18 Feb 2026."
        )
        assert fields == {}


def test_the_outcome_buttons_wait_for_the_audience_day():
    assert audience_day({"starts_at": "2026-02-18T09:00:00+07:00"}) == date(2026, 2, 18)
    assert audience_day(None) is None and audience_day({"starts_at": "?"}) is None
