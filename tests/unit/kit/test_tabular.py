"""Report tables: one table gives typed JSON, a BOM'd CSV, a real XLSX with typed cells, and an
accessible SVG bar chart."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from fastapi import HTTPException
from openpyxl import load_workbook
from serambi_kit.tabular import (
    Bar,
    Column,
    Kind,
    Table,
    bar_chart_svg,
    negotiate,
    only_for_csv,
    to_csv,
    to_json,
    to_xlsx,
)

TABLE = Table(
    "terlambat",
    "Jawaban terlambat",
    (
        Column("code", "Kode"),
        Column("count", "Jumlah", Kind.INTEGER),
        Column("hours", "Jam kerja", Kind.DECIMAL),
        Column("rate", "Tepat waktu", Kind.RATIO),
        Column("day", "Tanggal", Kind.DATE),
        Column("at", "Dijawab (WIB)", Kind.DATETIME),
    ),
    [
        {
            "code": "AUD-1 Ça",
            "count": 3,
            "hours": 7.5,
            "rate": 0.8333,
            "day": date(2026, 3, 2),
            "at": datetime(2026, 3, 2, 2, 30, tzinfo=UTC),
        },
        {"code": "AUD-2", "count": 0, "hours": None, "rate": None, "day": None, "at": None},
    ],
)


def test_the_xlsx_holds_numbers_as_numbers_and_dates_as_dates_with_formats():
    book = load_workbook(io.BytesIO(to_xlsx([TABLE])))
    sheet = book["Jawaban terlambat"]
    assert [cell.value for cell in sheet[1]] == [
        "Kode",
        "Jumlah",
        "Jam kerja",
        "Tepat waktu",
        "Tanggal",
        "Dijawab (WIB)",
    ]
    assert sheet["A1"].font.bold and sheet.freeze_panes == "A2"
    code, count, hours, rate, day, at = sheet[2]
    assert code.value == "AUD-1 Ça"
    assert type(count.value) is int and count.value == 3 and count.number_format == "0"
    assert isinstance(hours.value, float) and hours.value == 7.5
    assert isinstance(rate.value, float) and rate.number_format == "0.0%"
    assert isinstance(day.value, datetime) and day.value.date() == date(2026, 3, 2)
    assert day.number_format == "yyyy-mm-dd"
    assert at.value == datetime(2026, 3, 2, 9, 30) and at.number_format == "yyyy-mm-dd hh:mm"  # WIB
    assert all(cell.value is None for cell in sheet[3][2:])


def test_the_csv_is_utf8_with_a_bom_dots_and_iso_dates_in_wib():
    data = to_csv([TABLE])
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").split("\r\n")
    assert lines[0] == "Kode,Jumlah,Jam kerja,Tepat waktu,Tanggal,Dijawab (WIB)"
    assert lines[1] == "AUD-1 Ça,3,7.5,0.8333,2026-03-02,2026-03-02T09:30:00+07:00"
    assert lines[2] == "AUD-2,0,,,,"


def test_several_tables_in_one_csv_are_titled_sections_and_only_picks_one():
    other = Table("ringkas", "Ringkasan", (Column("n", "N", Kind.INTEGER),), [{"n": 1}])
    text = to_csv([TABLE, other]).decode("utf-8-sig")
    assert text.startswith("Jawaban terlambat\r\nKode,") and "\r\n\r\nRingkasan\r\nN\r\n1\r\n" in text
    assert to_csv([TABLE, other], only="ringkas").decode("utf-8-sig") == "N\r\n1\r\n"


def test_json_keeps_numbers_and_writes_dates_in_iso():
    data = to_json(TABLE)
    assert data["columns"][3] == {"key": "rate", "title": "Tepat waktu", "kind": "ratio"}
    assert data["rows"][0] == {
        "code": "AUD-1 Ça",
        "count": 3,
        "hours": 7.5,
        "rate": 0.8333,
        "day": "2026-03-02",
        "at": "2026-03-02T09:30:00+07:00",
    }


def test_a_value_of_the_wrong_kind_is_refused():
    table = Table("x", "X", (Column("n", "N", Kind.INTEGER),), [{"n": "3"}])
    with pytest.raises(TypeError, match="'n'"):
        to_xlsx([table])


def test_the_chart_is_labelled_escaped_and_scaled():
    svg = bar_chart_svg(
        "kanal",
        "Per kanal <bulan>",
        "Batang: jumlah",
        [Bar("Daring", 4, "4 permohonan"), Bar("Meja & surat", 2, "2 permohonan")],
    )
    assert 'role="img"' in svg and 'aria-labelledby="kanal-judul kanal-uraian"' in svg
    assert '<title id="kanal-judul">Per kanal &lt;bulan&gt;</title>' in svg
    assert "Meja &amp; surat" in svg and "<script" not in svg and "style=" not in svg
    assert 'width="340" height="22"' in svg and 'width="170" height="22"' in svg
    assert "Tidak ada data." in bar_chart_svg("k", "T", "D", [])


def test_the_format_comes_from_the_parameter_then_accept():
    assert negotiate("xlsx", "text/csv") == "xlsx"
    assert negotiate(None, "text/csv;q=0.9, */*") == "csv"
    assert negotiate(None, None) == "json"
    with pytest.raises(Exception, match="422"):
        negotiate("pdf", None)


HOSTILE = ['=HYPERLINK("http://x","klik")', "=***", "+62 812", "-1+1", "@SUM(A1)", "\tx", "\rx", "Budi"]
TEXTS = Table(
    "tamu",
    "Buku tamu",
    (Column("name", "Nama"), Column("n", "Jumlah", Kind.INTEGER)),
    [{"name": text, "n": -1} for text in HOSTILE],
)


def test_xlsx_text_cells_are_strings_never_formulas():
    sheet = load_workbook(io.BytesIO(to_xlsx([TEXTS])))["Buku tamu"]
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [cell.value for cell in cells] == [text.replace("\r", "\n") for text in HOSTILE]  # XML's line ends
    assert all(cell.data_type == "s" and cell.quotePrefix for cell in cells)
    assert all(row[1].value == -1 and row[1].data_type == "n" for row in sheet.iter_rows(min_row=2))


def test_csv_text_cells_that_a_spreadsheet_would_run_get_a_leading_quote():
    import csv

    rows = list(csv.reader(io.StringIO(to_csv([TEXTS]).decode("utf-8-sig"), newline="")))
    assert [row[0] for row in rows[1:]] == ["'" + text for text in HOSTILE[:-1]] + ["Budi"]
    assert {row[1] for row in rows[1:]} == {"-1"}  # numbers stay numbers


def test_a_table_of_one_csv_is_refused_with_another_format_naming_it():
    only_for_csv("kanal", "csv")
    only_for_csv(None, "xlsx")
    with pytest.raises(HTTPException) as refused:
        only_for_csv("kanal", "json")
    assert refused.value.status_code == 422 and refused.value.detail[0]["loc"] == ["query", "table"]
