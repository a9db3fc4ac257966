"""The downloads' tables (CSV / XLSX through ``serambi_kit.tabular``): the guest book export and
the satisfaction survey's report."""

from __future__ import annotations

from typing import Any

from serambi_kit.tabular import Column, Kind, Table


def guest_book(label: str, rows: list[dict[str, Any]]) -> Table:
    return Table(
        "buku-tamu",
        f"Buku tamu {label}",
        (
            Column("day", "Tanggal", Kind.DATE, 12),
            Column("arrived_at", "Datang (WIB)", Kind.DATETIME, 18),
            Column("name", "Nama", width=28),
            Column("institution", "Instansi", width=30),
            Column("purpose", "Keperluan", width=40),
            Column("request_tracking_code", "Kode permohonan", width=24),
            Column("recorded_by", "Dicatat oleh", width=24),
        ),
        rows,
    )


SERVICE_NAMES = {"audiensi": "Fasilitasi audiensi", "pengaduan": "Pengaduan"}
#: the profile's questions and answers as the questionnaire words them (the console's form too)
PROFILE_LABELS: dict[str, tuple[str, dict[str, str]]] = {
    "age_band": (
        "Usia",
        {
            "under_20": "Di bawah 20 tahun",
            "20_29": "20–29 tahun",
            "30_39": "30–39 tahun",
            "40_49": "40–49 tahun",
            "50_59": "50–59 tahun",
            "60_plus": "60 tahun ke atas",
        },
    ),
    "sex": ("Jenis kelamin", {"laki_laki": "Laki-laki", "perempuan": "Perempuan"}),
    "education": (
        "Pendidikan terakhir",
        {
            "sd": "SD",
            "smp": "SMP",
            "sma": "SMA/sederajat",
            "diploma": "D1–D4",
            "s1": "S1",
            "s2": "S2",
            "s3": "S3",
        },
    ),
    "occupation": (
        "Pekerjaan",
        {
            "pns": "PNS",
            "tni": "TNI",
            "polri": "POLRI",
            "swasta": "Pegawai swasta",
            "wirausaha": "Wirausaha",
            "lainnya": "Lainnya",
        },
    ),
}


def survey_tables(report: dict[str, Any]) -> list[Table]:
    """The report (``queries.survey_report``'s JSON, withheld or not) as the downloads' tables: summary,
    elements, profile counts, suggestions. They carry what the JSON carries and nothing more: a
    withheld report's files have the counts, empty figures, no profile, no suggestions."""
    withheld = report.get("withheld", False)
    summary = Table(
        "ringkasan",
        "Ringkasan SKM",
        (
            Column("service", "Layanan", width=20),
            Column("period", "Periode"),
            Column("respondents", "Responden", Kind.INTEGER),
            Column("population", "Populasi (kasus yang diundang)", Kind.INTEGER),
            Column("sample_size", "Sampel minimal (Krejcie-Morgan)", Kind.INTEGER),
            Column("ikm", "IKM", Kind.DECIMAL),
            Column("category", "Mutu pelayanan"),
            Column("category_label", "Kinerja unit pelayanan", width=16),
            Column("note", "Keterangan", width=40),
        ),
        [
            {
                "service": SERVICE_NAMES.get(report["service"], report["service"]),
                "period": report["period"],
                "respondents": report["respondents"],
                "population": report["population"],
                "sample_size": report["sample_size"],
                "ikm": report["ikm"],
                "category": report["category"],
                "category_label": report["category_label"],
                "note": report.get("withheld_reason") if withheld else None,
            }
        ],
    )
    elements = Table(
        "unsur",
        "Nilai per unsur",
        (
            Column("code", "Kode"),
            Column("name", "Unsur", width=40),
            Column("nrr", "NRR", Kind.DECIMAL),
            Column("weighted_nrr", "NRR tertimbang", Kind.DECIMAL),
            Column("priority", "Prioritas perbaikan"),
        ),
        [
            {
                "code": e["code"],
                "name": e["name"],
                "nrr": e["nrr"],
                "weighted_nrr": e["weighted_nrr"],
                "priority": None if withheld or e["nrr"] is None else ("Ya" if e["priority"] else "Tidak"),
            }
            for e in report["elements"]
        ],
    )
    profile = Table(
        "profil",
        "Profil responden",
        (
            Column("question", "Data diri", width=20),
            Column("answer", "Pilihan", width=20),
            Column("count", "Responden", Kind.INTEGER),
        ),
        [
            {
                "question": PROFILE_LABELS.get(field, (field, {}))[0],
                "answer": PROFILE_LABELS.get(field, (field, {}))[1].get(value, value),
                "count": count,
            }
            for field, counts in report["profile"].items()
            for value, count in counts.items()
        ],
    )
    suggestions = Table(
        "saran",
        "Saran dan masukan",
        (Column("text", "Saran", width=80),),
        [{"text": text} for text in report["suggestions"]],
    )
    return [summary, elements, profile, suggestions]
