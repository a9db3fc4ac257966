"""The desk's screens as data: the requests' and guests' names in Indonesian, the guest form
turned into intake's guest fields, and intake's rules for a letter's received date."""

from __future__ import annotations

STATUSES = {
    "submitted": "Diajukan",
    "in_review": "Sedang ditinjau",
    "scheduled": "Terjadwal",
    "declined": "Ditolak",
    "held": "Terlaksana",
    "no_show": "Pemohon tidak hadir",
    "cancelled": "Dibatalkan",
    "withdrawn": "Ditarik pemohon",
}
CHANNELS = {"online": "Portal daring", "desk": "Meja informasi", "letter": "Surat"}
INSTITUTION_TYPES = {
    "government_agency": "Instansi pemerintah",
    "local_government": "Pemerintah daerah",
    "other_institution": "Lembaga lain",
}
GUEST_FIELDS = ("name", "institution", "purpose", "request_tracking_code", "kontak", "identity_number")
GUEST_LABELS = {
    "name": "Nama tamu",
    "institution": "Instansi",
    "purpose": "Keperluan",
    "request_tracking_code": "Kode permohonan",
    "arrived_at": "Waktu datang",
    "kontak": "Nomor HP atau email tamu",
    "identity_number": "NIK tamu",
}
GUEST_FIELD_OF = {"email": "kontak", "phone": "kontak"}  # intake's field → the form's
GUEST_RULES = {
    "request_tracking_code": "Kode permohonan hanya huruf, angka, - dan _.",
    "identity_number": "NIK tamu terdiri dari 16 angka.",
    "kontak": "Isi nomor HP (mis. 0812…) atau alamat email yang benar, atau kosongkan.",
}


def guest_body(values: dict[str, str]) -> dict[str, str]:
    """Intake's guest fields from the form's: the guest's phone or email (one field) goes to
    ``phone`` or ``email``. With the NIK they are not stored: intake keeps only their keyed hashes
    so that erasing the person finds this entry."""
    body = {name: value for name, value in values.items() if value and name != "kontak"}
    contact = values.get("kontak", "").strip()
    if contact:
        body["email" if "@" in contact else "phone"] = contact
    return body


RECEIVED = {  # intake's rules for received_at
    "missing": "Isi tanggal surat diterima.",
    "future": "Tanggal diterima tidak boleh di masa depan.",
    "too_old": "Surat yang diterima lebih dari 90 hari lalu tidak dicatat sebagai permohonan baru.",
    "not_allowed": "Tanggal diterima hanya untuk permohonan yang datang lewat surat.",
}
