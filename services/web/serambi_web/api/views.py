"""How the pages show things: instants in WIB, statuses and steps in Indonesian."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.templating import Jinja2Templates

WIB = ZoneInfo("Asia/Pontianak")
DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
          "Oktober", "November", "Desember")
STATUS = {
    # audience requests
    "submitted": "Diterima, menunggu jadwal", "in_review": "Sedang ditinjau",
    "scheduled": "Terjadwal", "declined": "Tidak dapat difasilitasi", "held": "Telah dilaksanakan",
    "cancelled": "Dibatalkan", "withdrawn": "Ditarik oleh pemohon",
    # complaints
    "received": "Diterima", "classified": "Sedang diklasifikasi", "assigned": "Sedang ditangani",
    "answered": "Sudah dijawab", "closed": "Selesai", "reopened": "Ditangani kembali (sanggahan)",
}
STEPS = {
    "submitted": "Permohonan diterima", "scheduled": "Dijadwalkan", "rescheduled": "Jadwal diubah",
    "declined": "Tidak dapat difasilitasi", "held": "Audiensi dilaksanakan", "cancelled": "Dibatalkan",
    "withdrawn": "Ditarik oleh pemohon", "received": "Pengaduan diterima",
    "classified": "Diklasifikasi", "assigned": "Diteruskan ke tim pengelola",
    "paused": "Menunggu keterangan Anda",
    "resumed": "Penanganan dilanjutkan", "answered": "Dijawab", "closed": "Selesai",
    "reopened": "Dibuka kembali", "deadline_moved": "Batas waktu disesuaikan",
}
TIERS = {
    "ringan": "Ringan (3 jam kerja)", "normatif": "Bersifat normatif (5 hari kerja)",
    "tidak_berkadar_pengawasan": "Tidak berkadar pengawasan (14 hari kerja)",
    "berkadar_pengawasan": "Berkadar pengawasan (60 hari kerja)",
}
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
            return value
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}" if isinstance(value, date) else "-"


def durasi(value: Any) -> str:
    """An ISO 8601 working-time duration as ``2 hari kerja 3 jam``."""
    match = _DURATION.match(value or "") if isinstance(value, str) else None
    if not match:
        return "-"
    days, hours, minutes = (int(part or 0) for part in match.groups())
    hours_text = (f"{hours} jam" if days else f"{hours} jam kerja") if hours else ""
    parts = [f"{days} hari kerja" if days else "", hours_text,
             f"{minutes} menit" if minutes and not days else ""]
    return " ".join(part for part in parts if part) or "kurang dari 1 menit"


def templates() -> Jinja2Templates:
    found = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
    env = found.env
    env.auto_reload = False  # packaged templates: no stat of each file on every render
    env.filters.update(wib=wib, tanggal=tanggal, durasi=durasi)
    env.globals.update(STATUS=STATUS, STEPS=STEPS, TIERS=TIERS)
    return found
