"""What the scheduler's screens show: Indonesian names, the week, and scheduling's refusals in words.

Scheduling answers a refused slot with its rule (``room_overlap``, ``working_time`` …) and an
English sentence; the back-end client keeps the sentence (``ApiError.detail``), so the refusals
are recognised by their wording, as the complaint screens do.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from serambi_calendar import DAY_NAMES, WIB

from .messages import Refusal
from .pengaduan import MONTHS, when

__all__ = ["MONTHS", "when"]

STATUSES = {
    "requested": "Diajukan",
    "proposed": "Diusulkan (menunggu konfirmasi)",
    "referred": "Dirujuk ke petugas",
    "scheduled": "Terjadwal",
    "declined": "Ditolak",
    "held": "Terlaksana",
    "no_show": "Pemohon tidak hadir",
    "cancelled": "Dibatalkan",
    "pending": "Sedang dipindah",
}
UNDECIDED = ("requested", "proposed", "referred")
QUEUE_VIEWS = {
    "pending": "Semua yang belum diputuskan",
    "at_risk": "Mendekati tenggat",
    "breached": "Melewati tenggat",
}
QUEUE_LEVELS = {"pending": "Sesuai waktu", "at_risk": "Mendekati tenggat", "breached": "Melewati tenggat"}
STEPS = {
    "requested": "Permohonan diterima",
    "proposed": "Jadwal diusulkan",
    "referred": "Dirujuk ke petugas",
    "scheduled": "Dijadwalkan",
    "rescheduled": "Dijadwalkan ulang",
    "declined": "Ditolak",
    "held": "Terlaksana",
    "no_show": "Pemohon tidak hadir",
    "cancelled": "Dibatalkan",
    "sla_warning": "Peringatan tenggat",
    "sla_breached": "Tenggat terlewati",
    "deadline_moved": "Tenggat berubah",
    "reminded": "Pengingat dikirim kepada pemohon",
}
DAYS = DAY_NAMES
DONE = {
    "jadwalkan": "Audiensi telah dijadwalkan. Surat jawaban dikirim kepada pemohon.",
    "konfirmasi": "Usulan jadwal telah dikonfirmasi. Surat jawaban dikirim kepada pemohon.",
    "jadwal-ulang": "Audiensi telah dijadwalkan ulang. Undangan baru dikirim kepada pemohon.",
    "tolak": "Permohonan telah ditolak. Surat jawaban dikirim kepada pemohon.",
    "batalkan": "Audiensi telah dibatalkan.",
    "tidak-hadir": "Audiensi dicatat tidak terlaksana: pemohon tidak hadir. Pemohon menerima pemberitahuan.",
    "terlaksana": "Audiensi dicatat telah terlaksana.",
}
LETTER_ERASED = (
    "Surat jawaban ini telah dihapus bersama data pribadi pemohon (penghapusan data pribadi), "
    "sehingga tidak dapat diunduh lagi."
)
SHOWN_AFTER = {  # console step → the status the read model shows once it follows
    "jadwalkan": "scheduled",
    "konfirmasi": "scheduled",
    "jadwal-ulang": "scheduled",
    "tolak": "declined",
    "batalkan": "cancelled",
    "tidak-hadir": "no_show",
    "terlaksana": "held",
}
FIELDS = {
    "room_id": "Ruang",
    "host_id": "Pejabat penerima",
    "starts_at": "Waktu mulai",
    "ends_at": "Waktu selesai",
    "reason": "Alasan",
    "notes": "Catatan",
    "held_at": "Waktu terlaksana",
}
KINDS = {"room": "Ruang", "host": "Pejabat"}


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def day_name(day: date) -> str:
    return f"{DAYS[day.weekday()]}, {day.day} {MONTHS[day.month - 1]} {day.year}"


def audience_day(schedule: dict[str, Any] | None) -> date | None:
    """The audience's WIB day (its schedule's ``starts_at`` is in WIB), or None without one."""
    try:
        return datetime.fromisoformat(schedule["starts_at"]).date() if schedule else None
    except (KeyError, TypeError, ValueError):
        return None


def hours(booking: dict[str, Any]) -> str:
    """``09.00–10.00`` from a booking's WIB instants."""
    try:
        start, end = (datetime.fromisoformat(booking[k]) for k in ("starts_at", "ends_at"))
    except (KeyError, TypeError, ValueError):
        return "—"
    return f"{start:%H.%M}–{end:%H.%M}"


def slot(schedule: dict[str, Any] | None) -> str:
    if not schedule:
        return "Belum ada jadwal"
    start = datetime.fromisoformat(schedule["starts_at"])
    return (
        f"{day_name(start.date())}, {hours(schedule)} WIB · {schedule.get('room') or schedule['room_id']}"
        f" · {schedule.get('host') or schedule['host_id']}"
    )


REFUSALS = (  # scheduling's wording → what the officer reads; {0}… are the groups
    (
        r"the (room|host) (\S+) is booked .*?buffer (?:of )?(\d+)",
        "Jadwal bentrok: {0} {1} sudah dipakai audiensi lain pada waktu itu (termasuk jeda {2} menit "
        "sebelum dan sesudahnya). Pemesanan ganda tidak diizinkan. Pilih waktu lain atau {0} lain.",
    ),
    (r"starts in the past", "Waktu mulai sudah lewat. Pilih waktu yang akan datang."),
    (r"must end after it starts", "Waktu selesai harus sesudah waktu mulai."),
    (r"is not a working day(?: \((.+)\))?", "Tanggal itu bukan hari kerja{0}. Pilih hari kerja."),
    (
        r"is not inside one working period of \S+ \((.+) WIB\)",
        "Waktu itu di luar jam kerja. Jam kerja hari itu: {0} WIB (tidak boleh melewati jam istirahat).",
    ),
    (r"^no room", "Ruang itu tidak dikenal."),
    (r"^no host", "Pejabat itu tidak dikenal."),
    (r"is not in use", "Ruang itu sedang tidak digunakan."),
    (r"is not receiving audiences", "Pejabat itu sedang tidak menerima audiensi."),
    (r"seats (\d+), the request has (\d+)", "Ruang itu hanya memuat {0} orang, peserta audiensi {1} orang."),
    (r"is on leave (\S+)\.\.(\S+)", "Pejabat itu sedang cuti ({0} sampai {1})."),
    (r"is not available then", "Pejabat itu tidak tersedia pada waktu itu (di luar jadwal mingguannya)."),
    (
        r"cannot be marked (?:held|a no-show) before its day \((\S+) WIB\)",
        "Audiensi belum dimulai: hasil audiensi (terlaksana atau pemohon tidak hadir) baru dapat "
        "dicatat mulai hari pelaksanaannya, {0}.",
    ),
    (r"cannot be marked held in the future", "Audiensi belum dapat dicatat terlaksana sebelum waktunya."),
    (r"cannot have been held before", "Waktu terlaksana tidak boleh sebelum jadwal audiensi dimulai."),
    (
        r"cannot be marked a no-show before it starts",
        "Audiensi belum dimulai: pemohon baru dapat dicatat tidak hadir setelah jadwalnya tiba.",
    ),
    (r"holds no (?:booked )?slot to move", "Audiensi ini belum memiliki jadwal yang dapat dipindah."),
    (r"has no proposal to confirm", "Audiensi ini tidak memiliki usulan jadwal untuk dikonfirmasi."),
    (r"cannot .* audience \S+: it is (\w+)", "Langkah ini tidak dapat dilakukan: audiensi berstatus {0}."),
)


def _word(group: str | None, names: dict[str, str]) -> str:
    if group is None:
        return ""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", group):
        return day_name(date.fromisoformat(group))
    if group in KINDS:
        return KINDS[group].lower()
    if group in STATUSES:
        return STATUSES[group].lower()
    return names.get(group, group)


def refusal(error: Refusal, names: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
    """Scheduling's refusal as (message for the page, messages per form field); ``names``
    shows rooms and hosts by name instead of id."""
    if error.status == 403:
        return "Peran Anda tidak mengizinkan langkah ini.", {}
    if error.status == 404 and not re.search(r"^no (room|host)", error.detail):
        return "Audiensi tidak ditemukan.", {}
    for pattern, text in REFUSALS:
        if found := re.search(pattern, error.detail):
            groups = [_word(group, names or {}) for group in found.groups()]
            if "working day" in pattern:
                groups = [f" ({groups[0]})" if groups[0] else ""]
            return text.format(*groups), {}
    fields: dict[str, str] = {}
    for item in error.errors:
        field = str(item.get("field", "")).split(".")[-1]
        label = FIELDS.get(field, "Isian")
        if "phone number or a NIK" in str(item.get("message", "")):  # a reason printed in the letter
            fields.setdefault(
                field,
                f"{label}: jangan menuliskan alamat email, nomor HP, atau NIK. "
                "Alasan ini dimuat dalam surat jawaban dan dicatat tanpa disegel.",
            )
        fields.setdefault(field, f"{label}: isian ini tidak dapat diterima. Periksa kembali.")
    return "Langkah ini tidak dapat dilakukan. Periksa kembali isian Anda.", fields


SLOT_FIELDS = ("room_id", "host_id", "tanggal", "mulai", "selesai")
ACTIONS = {  # console step → (API step, form fields)
    "jadwalkan": ("slot", SLOT_FIELDS),
    "jadwal-ulang": ("reschedule", (*SLOT_FIELDS, "reason")),
    "konfirmasi": ("confirm", ()),
    "tolak": ("decline", ("reason",)),
    "batalkan": ("cancel", ("reason",)),
    "tidak-hadir": ("no-show", ("notes",)),
    "terlaksana": ("held", ("notes",)),
}


def step_body(step: str, values: dict[str, str]) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The API body from the form, or the fields the officer must fix first."""
    errors: dict[str, str] = {}
    body: dict[str, Any] = {}
    if "tanggal" in values:
        for name, label in (
            ("room_id", "Pilih ruang."),
            ("host_id", "Pilih pejabat penerima."),
            ("tanggal", "Isi tanggal audiensi."),
            ("mulai", "Isi jam mulai."),
        ):
            if not values[name]:
                errors[name] = label
        try:
            start = datetime.fromisoformat(f"{values['tanggal']}T{values['mulai']}").replace(tzinfo=WIB)
            body |= {
                "room_id": values["room_id"],
                "host_id": values["host_id"],
                "starts_at": start.isoformat(),
            }
            if values["selesai"]:
                body["ends_at"] = (
                    datetime.fromisoformat(f"{values['tanggal']}T{values['selesai']}")
                    .replace(tzinfo=WIB)
                    .isoformat()
                )
        except ValueError:
            errors.setdefault("tanggal", "Isi tanggal dan jam yang benar, misalnya 2031-03-04 pukul 09.00.")
    if "reason" in values:
        if not values["reason"]:
            errors["reason"] = "Tuliskan alasannya: alasan ini disampaikan kepada pemohon."
        body["reason"] = values["reason"]
    if values.get("notes"):
        body["notes"] = values["notes"]
    return (None if errors else body or None), errors
