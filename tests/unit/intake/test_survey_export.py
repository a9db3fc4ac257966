"""The SKM report as downloads (``exports.survey_tables`` through ``serambi_kit.tabular``): typed XLSX
cells, the profile in the questionnaire's Indonesian words, and a withheld report's files
withholding exactly what its JSON withholds."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from serambi_intake.api import exports
from serambi_intake.domain import survey
from serambi_kit import tabular


def report(rows: list[str], profile: dict | None = None, suggestions: list[str] | None = None) -> dict:
    """What ``queries.survey_report`` returns for these answers (the shape, without the database)."""
    figures = survey.compute(dict(zip(survey.CODES, map(int, row), strict=True)) for row in rows)
    shown = {
        "service": "pengaduan",
        "period": "2026-S1",
        "population": 50,
        "population_basis": "…",
        "sample_size": survey.sample_size(50),
        **survey.figures_json(figures),
        "channels": {"online": len(rows), "paper": 0},
        "profile": profile or {},
        "suggestions": suggestions or [],
        "min_respondents": survey.MIN_RESPONDENTS,
        "withheld": False,
    }
    return survey.withheld(shown) if 0 < figures.respondents < survey.MIN_RESPONDENTS else shown


FULL = report(
    ["444444444", "443434323", "333333333", "444444444", "343434343"],
    {"sex": {"perempuan": 3, "laki_laki": 1}, "education": {"diploma": 2}},
    ['=HYPERLINK("x") papan jadwal', "Ruang tunggu sejuk."],
)
FEW = report(["444444444", "111111111"], {"sex": {"perempuan": 2}}, ["Saran seseorang."])


def sheets(tables: list[tabular.Table]) -> dict[str, list[tuple]]:
    book = load_workbook(io.BytesIO(tabular.to_xlsx(tables)))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


def test_the_workbook_has_the_four_tables_with_numbers_as_numbers():
    book = sheets(exports.survey_tables(FULL))
    assert list(book) == ["Ringkasan SKM", "Nilai per unsur", "Profil responden", "Saran dan masukan"]
    header, row = book["Ringkasan SKM"]
    assert header[:6] == (
        "Layanan",
        "Periode",
        "Responden",
        "Populasi (kasus yang diundang)",
        "Sampel minimal (Krejcie-Morgan)",
        "IKM",
    )
    assert row[:5] == ("Pengaduan", "2026-S1", 5, 50, 44)
    assert isinstance(row[2], int) and isinstance(row[5], float) and row[5] == FULL["ikm"]
    assert row[6:8] == (FULL["category"], FULL["category_label"]) and row[8] is None
    elements = book["Nilai per unsur"]
    assert elements[0] == ("Kode", "Unsur", "NRR", "NRR tertimbang", "Prioritas perbaikan")
    assert [r[0] for r in elements[1:]] == list(survey.CODES) and elements[1][1] == "Persyaratan"
    assert all(isinstance(r[2], float) and isinstance(r[3], float) for r in elements[1:])
    assert {r[0] for r in elements[1:] if r[4] == "Ya"} == set(FULL["priorities"])
    assert {r[4] for r in elements[1:]} == {"Ya", "Tidak"}
    assert book["Profil responden"][1:] == [
        ("Jenis kelamin", "Perempuan", 3),
        ("Jenis kelamin", "Laki-laki", 1),
        ("Pendidikan terakhir", "D1–D4", 2),
    ]
    assert book["Saran dan masukan"] == [
        ("Saran",),
        ('=HYPERLINK("x") papan jadwal',),
        ("Ruang tunggu sejuk.",),
    ]


def test_the_csv_is_the_same_tables_and_a_suggestion_is_never_a_formula():
    text = tabular.to_csv(exports.survey_tables(FULL)).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Ringkasan SKM"] and rows[2][:5] == ["Pengaduan", "2026-S1", "5", "50", "44"]
    assert ['\'=HYPERLINK("x") papan jadwal'] in rows
    only = tabular.to_csv(exports.survey_tables(FULL), only="saran").decode("utf-8-sig").splitlines()
    assert only[0] == "Saran" and len(only) == 3


def test_a_withheld_report_files_withhold_what_its_json_withholds():
    assert FEW["withheld"] and FEW["respondents"] == 2
    book = sheets(exports.survey_tables(FEW))
    (_, row), elements = book["Ringkasan SKM"], book["Nilai per unsur"][1:]
    assert row[:5] == ("Pengaduan", "2026-S1", 2, 50, 44)  # the counts stay, as in the JSON
    assert row[5:8] == (None, None, None) and str(survey.MIN_RESPONDENTS) in row[8]
    assert len(elements) == 9 and all(r[2:] == (None, None, None) for r in elements)
    assert book["Profil responden"] == [("Data diri", "Pilihan", "Responden")]  # header only
    assert book["Saran dan masukan"] == [("Saran",)]
    text = tabular.to_csv(exports.survey_tables(FEW)).decode("utf-8-sig")
    assert "Saran seseorang" not in text and "Perempuan" not in text and "4.0" not in text


def test_no_answers_yet_is_empty_figures_not_withheld():
    empty = report([])
    assert not empty["withheld"]
    row = sheets(exports.survey_tables(empty))["Ringkasan SKM"][1]
    assert row[2] == 0 and row[5] is None and row[8] is None
