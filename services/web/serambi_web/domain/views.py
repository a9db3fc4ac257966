"""How the pages show things: instants in WIB, statuses and steps in Indonesian."""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Any

from serambi_calendar import DAY_NAMES, MONTH_NAMES, WIB

DAYS = DAY_NAMES
MONTHS = MONTH_NAMES
STATUS = {
    # audience requests
    "submitted": "Diterima, menunggu peninjauan",
    "in_review": "Sedang ditinjau",
    "scheduled": "Terjadwal",
    "declined": "Tidak dapat difasilitasi",
    "held": "Telah dilaksanakan",
    "no_show": "Tidak terlaksana: pemohon tidak hadir",
    "cancelled": "Dibatalkan",
    "withdrawn": "Ditarik oleh pemohon",
    # complaints
    "received": "Diterima",
    "classified": "Sudah diklasifikasi",
    "assigned": "Sedang ditangani",
    "answered": "Sudah dijawab",
    "closed": "Selesai",
    "reopened": "Ditangani kembali (sanggahan)",
}
STEPS = {
    "submitted": "Permohonan diterima",
    "scheduled": "Dijadwalkan",
    "rescheduled": "Jadwal diubah",
    "declined": "Tidak dapat difasilitasi",
    "held": "Audiensi dilaksanakan",
    "no_show": "Pemohon tidak hadir pada jadwal audiensi",
    "cancelled": "Dibatalkan",
    "withdrawn": "Ditarik oleh pemohon",
    "received": "Pengaduan diterima",
    "classified": "Diklasifikasi",
    "assigned": "Diteruskan ke tim pengelola",
    "paused": "Menunggu keterangan Anda",
    "resumed": "Penanganan dilanjutkan",
    "answered": "Dijawab",
    "closed": "Selesai",
    "reopened": "Dibuka kembali",
    "deadline_moved": "Batas waktu disesuaikan",
}
TIERS = {
    "ringan": "Ringan (3 jam kerja)",
    "normatif": "Bersifat normatif (5 hari kerja)",
    "tidak_berkadar_pengawasan": "Tidak berkadar pengawasan (14 hari kerja)",
    "berkadar_pengawasan": "Berkadar pengawasan (60 hari kerja)",
}
#: the bureau's working day (07.30-16.00 with a break, Monday to Friday): a remaining working
#: time of a day or more is shown in these days
WORKING_DAY_HOURS = 7.5
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:[\d.]+S)?)?$")


def _instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def wib(value: Any, with_day: bool = True) -> str:
    """``Senin, 3 Maret 2025 pukul 09.00 WIB``."""
    instant = _instant(value)
    if instant is None:
        return "-"
    local = instant.astimezone(WIB)
    day = f"{DAYS[local.weekday()]}, " if with_day else ""
    return f"{day}{local.day} {MONTHS[local.month - 1]} {local.year} pukul {local:%H.%M} WIB"


def tanggal(value: Any) -> str:
    """A calendar date: ``3 Maret 2025``."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return str(value)
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}" if isinstance(value, date) else "-"


def durasi(value: Any) -> str:
    """Working time left (ISO 8601, hours not folded into days, e.g. ``PT45H``) as a person
    reads it: a working day or more in days (``sekitar 6 hari kerja``, days of
    ``WORKING_DAY_HOURS``, rounded: the exact deadline is shown beside it), less in hours and minutes
    (``3 jam 15 menit kerja``); overdue as ``lewat batas waktu``."""
    match = _DURATION.match(value or "") if isinstance(value, str) else None
    if not match:
        return "lewat batas waktu" if isinstance(value, str) and value.startswith("-") else "-"
    days, hours, minutes = (int(part or 0) for part in match.groups())
    total_minutes = (days * 24 + hours) * 60 + minutes if days else hours * 60 + minutes
    if total_minutes >= WORKING_DAY_HOURS * 60:
        return f"sekitar {math.floor(total_minutes / (WORKING_DAY_HOURS * 60) + 0.5)} hari kerja"
    hours, minutes = divmod(total_minutes, 60)
    parts = [f"{hours} jam" if hours else "", f"{minutes} menit" if minutes else ""]
    return (" ".join(part for part in parts if part) + " kerja") if any(parts) else "kurang dari 1 menit"
