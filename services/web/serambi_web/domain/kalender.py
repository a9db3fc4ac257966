"""The admin's working-calendar screen as data: the year's changed days in words (kind and
source), the revision form checked into scheduling's body, and scheduling's refusals by their
codes."""

from __future__ import annotations

from datetime import date
from typing import Any

from .views import DAYS, MONTHS

ACTIONS = {
    "add": "Tambah hari libur atau cuti bersama",
    "remove": "Jadikan hari kerja kembali",
    "move": "Pindahkan hari libur ke tanggal lain",
}
FIELDS = ("action", "day", "to", "holiday_name", "decree")
REFUSALS = {  # (field, rule) from scheduling → what the officer reads
    ("date", "not_a_holiday"): (
        "day",
        "Tanggal itu bukan hari libur atau cuti bersama: tidak ada yang "
        "dapat dijadikan hari kerja atau dipindah.",
    ),
    ("date", "weekend"): ("day", "Tanggal itu hari Sabtu atau Minggu: sudah bukan hari kerja."),
    ("to", "missing"): ("to", "Isi tanggal tujuan pemindahan."),
    ("to", "same_day"): ("to", "Tanggal tujuan sama dengan tanggal asalnya."),
    ("to", "not_a_working_day"): ("to", "Tanggal tujuan bukan hari kerja. Pilih hari kerja."),
    ("to", "only_for_move"): ("to", "Tanggal tujuan hanya diisi untuk pemindahan."),
    ("name", "missing"): ("holiday_name", "Isi nama hari libur atau cuti bersama."),
    ("decree", "missing"): ("decree", "Isi dasar perubahan, misalnya nomor SKB 3 Menteri."),
}


def day_text(day: date) -> str:
    return f"{DAYS[day.weekday()]}, {day.day} {MONTHS[day.month - 1]} {day.year}"


def calendar_rows(days: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for entry in days:
        day = date.fromisoformat(entry["date"])
        kind = (
            "hari kerja (diubah)"
            if not entry["non_working"]
            else (
                "cuti bersama"
                if "cuti bersama" in f"{entry['name']} {entry['reference']}".lower()
                else "libur"
            )
        )
        source = (
            "revisi kalender"
            if "[revisi " in entry["reference"]
            else "berkas penyesuaian"
            if entry["source"] == "override"
            else "bawaan"
        )
        rows.append(
            {
                "date": day,
                "text": day_text(day),
                "name": entry["name"],
                "kind": kind,
                "source": source,
                "reference": entry["reference"],
            }
        )
    return rows


def revision_body(values: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The API body, or what the officer must fix first (the service checks the rest)."""
    errors: dict[str, str] = {}
    if values["action"] not in ACTIONS:
        errors["action"] = "Pilih jenis perubahan."
    body: dict[str, Any] = {"action": values["action"], "decree": values["decree"]}
    for name, label in (("day", "tanggal"), ("to", "tanggal tujuan")):
        if not values[name]:
            continue
        try:
            body[name] = date.fromisoformat(values[name]).isoformat()
        except ValueError:
            errors[name] = f"Isi {label} yang benar, misalnya 2026-12-28."
    if "day" not in body and "day" not in errors:
        errors["day"] = "Isi tanggalnya."
    if not values["decree"]:
        errors["decree"] = REFUSALS[("decree", "missing")][1]
    if values["holiday_name"]:
        body["holiday_name"] = values["holiday_name"]
    return body, errors
