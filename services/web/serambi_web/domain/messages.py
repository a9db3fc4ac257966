"""The services' 4xx errors as Indonesian messages beside their fields, chosen by the errors'
codes (``field``, ``rule``), never by the services' English wording."""

from __future__ import annotations

from typing import Protocol


class Refusal(Protocol):
    """A service's 4xx answer as the back-end client reads it (``adapters.backend.ApiError``):
    the status, the problem's ``errors`` items (``field``, ``rule``, ``message``) and its detail."""

    status: int
    errors: list[dict[str, str]]
    detail: str


LABELS = {
    "requester_name": "Nama",
    "requester_position": "Jabatan",
    "institution": "Nama instansi",
    "institution_type": "Jenis instansi",
    "email": "Email",
    "phone": "Nomor HP",
    "identity_number": "NIK",
    "topic": "Topik",
    "purpose": "Maksud dan tujuan",
    "participants": "Jumlah peserta",
    "proposed_dates": "Usulan tanggal",
    "request_letter": "Surat permohonan",
    "identity_document": "Tanda pengenal",
    "name": "Nama",
    "summary": "Ringkasan",
    "description": "Uraian pengaduan",
    "disclosure": "Identitas pelapor",
    "attachments": "Lampiran",
    "reason": "Alasan",
    "code": "Kode lacak",
    "token": "Kode akses",
}
BY_FIELD = {
    "email": "Isi alamat email yang benar, misalnya nama@contoh.go.id.",
    "phone": "Isi nomor HP Indonesia yang benar, misalnya 0812 3456 7890.",
    "identity_number": "NIK terdiri atas 16 angka.",
    "institution_type": "Pilih jenis instansi.",
    "participants": "Isi jumlah peserta dengan angka 1 sampai 500.",
    "proposed_dates": "Isi tanggal yang benar (paling banyak 10 tanggal).",
    "disclosure": "Pilih salah satu pilihan identitas.",
}
BY_RULE = {
    "missing": "{label} wajib diisi.",
    "string_too_short": "{label} wajib diisi.",
    "string_too_long": "{label} terlalu panjang.",
    "too_large": "{label} terlalu besar. Ukuran paling besar {limit}.",
    "unsupported_type": "{label} harus berupa berkas PDF, PNG atau JPEG.",
    "too_many": "{label} terlalu banyak.",
}
CONTACT = "Isi alamat email atau nomor HP agar kami dapat mengirim kabar."
NAMED = "Pengaduan atas nama perlu nama Anda, atau pilih anonim atau rahasia."
GENERIC = "{label}: isian ini tidak dapat diterima. Periksa kembali."
#: rules over several fields (the error has no ``field``): the field to show the message beside
ACROSS_FIELDS = {"contact_required": ("email", CONTACT), "name_required": ("name", NAMED)}


def field_errors(error: Refusal, limits: dict[str, str] | None = None) -> dict[str, str]:
    """One message per form field (the first the service gave for it). An error without
    per-field items (a 413 of the whole body, say) is shown at the top of the form."""
    found: dict[str, str] = {}
    for item in error.errors or [{"field": "", "rule": "too_large" if error.status == 413 else ""}]:
        field = str(item.get("field", "")).split(".")[0]
        rule = str(item.get("rule", ""))
        if not field:
            field, text = ACROSS_FIELDS.get(rule, ("", GENERIC.format(label="Formulir")))
        else:
            text = _message(field, rule, (limits or {}).get(field, ""))
        found.setdefault(field, text)
    return found


def too_large(field: str, limit: str) -> dict[str, str]:
    """The service's message for a file above ``limit``, given before the file is sent."""
    return {field: _message(field, "too_large", limit)}


def _message(field: str, rule: str, limit: str) -> str:
    label = LABELS.get(field, field)
    if rule in BY_RULE and (rule != "missing" or field not in BY_FIELD):
        return BY_RULE[rule].format(label=label, limit=limit or "yang diizinkan")
    return BY_FIELD.get(field) or GENERIC.format(label=label)
