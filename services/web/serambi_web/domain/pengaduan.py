"""What the complaint screens show: Indonesian names, urgency, and the API's refusals in words.

Urgency is the share of the running clock's working time already used, against the SLA
policy's warning thresholds (``SERAMBI_SLA_CLOCKS`` / ``SERAMBI_SLA_WARNINGS``, the same
settings the complaints service reads). A clock in working days is counted with the standard
profile's average working day, so a level may change a little earlier or later than the
service's own warning; the service's deadline and remaining time are shown as it gives them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from serambi_calendar import STANDARD, ClockKind, SettingsError, SlaPolicy, policy_from_env

from .messages import BY_RULE, GENERIC, Refusal

CHANNELS = {
    "face_to_face": "Tatap muka (loket)",
    "complaint_box": "Kotak pengaduan",
    "whatsapp": "WhatsApp",
    "telephone": "Telepon",
    "fax": "Faksimile",
    "email": "Email",
    "sp4n_lapor": "SP4N-LAPOR!",
    "online": "Portal daring",
}
OFFICER_CHANNELS = {key: name for key, name in CHANNELS.items() if key != "online"}
TIERS = {
    "ringan": "Ringan (3 jam kerja)",
    "normatif": "Normatif (5 hari kerja)",
    "tidak_berkadar_pengawasan": "Tidak berkadar pengawasan (14 hari kerja)",
    "berkadar_pengawasan": "Berkadar pengawasan (60 hari kerja)",
}
CLOCKS = {"triage": "Klasifikasi awal", **{key: name.split(" (")[0] for key, name in TIERS.items()}}
STATUSES = {
    "received": "Diterima",
    "classified": "Diklasifikasi",
    "assigned": "Ditugaskan",
    "answered": "Dijawab",
    "closed": "Ditutup",
    "reopened": "Dibuka kembali",
}
STATUS_CHOICES = {"semua": "Semua, termasuk yang selesai", **STATUSES}
DISCLOSURES = {"named": "Atas nama", "anonymous": "Anonim", "confidential": "Rahasia"}
STEPS = {
    "received": "Pengaduan diterima",
    "classified": "Diklasifikasi",
    "assigned": "Ditugaskan",
    "answered": "Dijawab",
    "closed": "Ditutup",
    "reopened": "Dibuka kembali",
    "paused": "Waktu dihentikan",
    "resumed": "Waktu dilanjutkan",
    "warning": "Peringatan tenggat",
    "breached": "Tenggat terlewati",
    "escalated": "Dieskalasi",
    "deadline_moved": "Tenggat berubah",
    "note": "Catatan tambahan",
}
NOTE_SOURCES = {  # who a note came from, after "Catatan tambahan"
    "complainant": " dari pelapor",
    "third_party": " dari pihak lain (bukan alamat pelapor)",
    "officer": " dari petugas",
}
NOTE_FILTERS = {"baru": "Ada catatan baru (belum ditanggapi petugas)"}
LEVELS = {  # css class, words (colour is never the only cue)
    "lewat": "Terlambat",
    "w3": "Hampir habis",
    "w2": "Mendesak",
    "w1": "Perlu perhatian",
    "aman": "Sesuai waktu",
    "henti": "Dihentikan sementara",
    "selesai": "Selesai",
}


@cache
def policy() -> SlaPolicy:
    try:
        return policy_from_env()
    except SettingsError:
        return SlaPolicy()  # the complaints service refuses to start with it; show the defaults


def _working_seconds(clock: str) -> float | None:
    try:
        spec = policy().spec(clock)
    except (KeyError, ValueError, SettingsError):
        return None
    if spec.kind is ClockKind.HOURS:
        return spec.amount * 3600.0
    days = [sum(end - start for start, end in spans) for spans in STANDARD.week if spans]
    return spec.amount * sum(days) / len(days)


@dataclass(frozen=True)
class Urgency:
    level: str
    used_percent: int | None

    @property
    def words(self) -> str:
        return LEVELS[self.level]


def urgency(row: dict[str, Any]) -> Urgency:
    """The row's level: late (breached or past due) first, then the highest warning reached."""
    if row.get("status") in ("answered", "closed"):
        return Urgency("selesai", None)
    if row.get("breached") or row.get("overdue"):
        return Urgency("lewat", 100)
    remaining, total = row.get("working_seconds_remaining"), _working_seconds(row.get("clock") or "")
    used = None if remaining is None or not total else min(100, max(0, round(100 * (1 - remaining / total))))
    if row.get("paused"):
        return Urgency("henti", used)
    reached = [p for p in policy().warnings if used is not None and used >= p]
    if not reached:
        return Urgency("aman", used)
    rank = len(reached) - len(policy().warnings) + 3  # the highest threshold is w3
    return Urgency(f"w{max(rank, 1)}", used)


def duration(iso: str | None) -> str:
    """``PT5H30M`` → ``5 jam 30 menit kerja``; a negative one is overdue by that much."""
    if not iso:
        return "—"
    match = re.fullmatch(r"(-?)PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?", iso)
    if not match:
        return iso
    sign, hours, minutes = match.group(1), int(match.group(2) or 0), int(match.group(3) or 0)
    parts = [f"{hours} jam"] if hours else []
    if minutes or not hours:
        parts.append(f"{minutes} menit")
    text = " ".join(parts) + " kerja"
    return f"lewat {text}" if sign else text


MEDIA = {  # an attachment's type (the service's, found by content) as the case page names it
    "application/pdf": "Dokumen PDF",
    "image/png": "Gambar PNG",
    "image/jpeg": "Foto JPEG",
    "audio/mp4": "Rekaman suara M4A",
    "audio/ogg": "Rekaman suara OGG",
}


def media(media_type: str | None) -> str:
    return MEDIA.get(media_type or "", "Berkas")


def size(count: int | None) -> str:
    """``12345`` → ``12,3 KB`` (decimal units, a decimal comma)."""
    if count is None:
        return "—"
    if count < 1000:
        return f"{count} byte"
    value, unit = (count / 1_000_000, "MB") if count >= 999_950 else (count / 1000, "KB")
    return f"{value:.1f} {unit}".replace(".", ",")


MONTHS = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")


def when(value: str | None) -> str:
    """An API instant (WIB, ISO 8601) as ``4 Mar 2031 14.05 WIB``."""
    if not value:
        return "—"
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return value
    return f"{at.day} {MONTHS[at.month - 1]} {at.year} {at:%H.%M} WIB"


FIELDS = {
    "channel": "Kanal",
    "received_at": "Waktu diterima",
    "disclosure": "Identitas pelapor",
    "name": "Nama",
    "email": "Email",
    "phone": "Nomor HP",
    "summary": "Ringkasan",
    "description": "Uraian pengaduan",
    "tier": "Tingkat",
    "external_ref": "Nomor LAPOR!",
    "team": "Tim",
    "assignee": "Anggota tim",
    "answer": "Jawaban",
    "reason": "Alasan",
}
RULES = {
    "received_at_in_future": "Waktu diterima tidak boleh di masa depan. Isi waktu pengaduan diterima.",
    "received_at_too_old": "Waktu diterima terlalu lama. Pengaduan selama itu tidak dicatat sebagai baru.",
}
REFUSALS = (  # the complaints service's 409 wording → what the officer reads
    (r"already classified as (\w+)", "Pengaduan ini sudah berkategori {0}."),
    (
        r"classify complaint .* before assigning",
        "Klasifikasikan pengaduan dulu: tingkatnya menentukan tenggat.",
    ),
    (r"already assigned to", "Pengaduan ini sudah ditugaskan ke tim itu."),
    (r"before answering", "Tugaskan pengaduan ke tim pengelola sebelum menjawabnya."),
    (r"cannot close .* not answered", "Pengaduan hanya dapat ditutup setelah dijawab."),
    (r"already paused", "Waktu penanganan sudah dihentikan sementara."),
    (r"is not paused", "Waktu penanganan tidak sedang dihentikan."),
    (r"cannot \w+ complaint \S+: it is (\w+)", "Langkah ini tidak dapat dilakukan: pengaduan berstatus {0}."),
)


def refusal(error: Refusal) -> tuple[str, dict[str, str]]:
    """The API's refusal as (message for the page, messages per form field)."""
    if error.status == 403:
        return "Peran Anda tidak mengizinkan langkah ini.", {}
    if error.status == 404:
        return "Pengaduan tidak ditemukan.", {}
    if error.status == 409:
        for pattern, text in REFUSALS:
            if found := re.search(pattern, error.detail):
                names = [TIERS.get(g, STATUSES.get(g, g)).split(" (")[0].lower() for g in found.groups()]
                return text.format(*names), {}
        return "Langkah ini tidak dapat dilakukan pada keadaan pengaduan sekarang.", {}
    fields: dict[str, str] = {}
    for item in error.errors:
        field = str(item.get("field", "")).split(".")[0]
        rule, label = str(item.get("rule", "")), FIELDS.get(field, "Formulir")
        if rule in RULES:
            text = RULES[rule]
        elif rule in BY_RULE:
            text = BY_RULE[rule].format(label=label, limit="yang diizinkan")
        elif "named complaint" in str(item.get("message", "")):
            field, text = "name", "Pengaduan atas nama perlu nama dan email atau nomor HP pelapor."
        elif "LAPOR! id" in str(item.get("message", "")):
            field, text = "external_ref", "Pengaduan dari SP4N-LAPOR! perlu nomor LAPOR!-nya."
        else:
            text = GENERIC.format(label=label)
        fields.setdefault(field, text)
    return "Isian belum dapat diterima. Periksa kembali.", fields


DONE = {
    "klasifikasi": "Pengaduan telah diklasifikasikan.",
    "tugaskan": "Pengaduan telah ditugaskan.",
    "tunda": "Waktu penanganan dihentikan sementara.",
    "lanjutkan": "Waktu penanganan dilanjutkan.",
    "jawab": "Jawaban telah dicatat dan dikirim kepada pelapor.",
    "tutup": "Pengaduan telah ditutup.",
}


def shows_step(case: dict[str, Any], step: str) -> bool:
    """Whether the case as read already shows ``step`` (the read model follows the events a
    moment later)."""
    return {
        "klasifikasi": bool(case.get("tier")),
        "tugaskan": bool(case.get("team")),
        "tunda": bool(case.get("paused")),
        "lanjutkan": not case.get("paused"),
        "jawab": case.get("status") in ("answered", "closed"),
        "tutup": case.get("status") == "closed",
    }.get(step, True)


def note_from(entry: dict[str, Any]) -> str:
    """Who a timeline note came from, as the case page says it after *Catatan tambahan*."""
    return NOTE_SOURCES.get(str(entry.get("source") or ""), "")
