"""Report tables, one way for every service: typed columns and rows → JSON-ready data, CSV bytes,
a real XLSX workbook, and a small accessible SVG bar chart for the console.

A report is one or more ``Table``s. Each column has a ``Kind``; a cell is ``None`` (empty) or a
value of its column's kind:

==========  =======================  ==================  ===================================
kind        Python value             CSV                 XLSX cell
==========  =======================  ==================  ===================================
text        str                      as is (see below)   string, always (never a formula)
integer     int                      ``12``              number, format ``0``
decimal     int / float              ``1.5`` (dot)       number, format ``0.00``
ratio       float in 0..1            ``0.8333`` (dot)    number, format ``0.0%``
date        date                     ``2026-03-02``      date, format ``yyyy-mm-dd``
datetime    aware datetime           ISO 8601 in WIB     date-time in WIB, ``yyyy-mm-dd hh:mm``
==========  =======================  ==================  ===================================

Choices, made once here:

- CSV is UTF-8 **with a byte-order mark** and CRLF line ends (RFC 4180): Excel on Windows reads
  a BOM-less file as the machine's code page and garbles names with accents; every other reader
  skips the BOM. Numbers keep the dot as decimal separator and ratios stay ratios (0..1), so the
  file is data for programs — people who want formatted figures take the XLSX.
- Several tables in one CSV: each starts with a one-cell row holding its title, then its header
  and rows, tables separated by an empty row. ``only=`` picks one table for a plain CSV.
- Text is never a formula (CWE-1236, "CSV injection"): a CSV text cell starting with ``=``,
  ``+``, ``-``, ``@``, TAB or CR gets a leading ``'`` (what OWASP advises; spreadsheets then show
  it as text), and every XLSX text cell is written with the string type and the quote prefix, so
  a guest's institution ``=HYPERLINK(...)`` or a masked ``=***`` stays the text it is.
- XLSX has no time zones: date-times are written as wall-clock WIB (Asia/Pontianak, UTC+7, no
  daylight saving), and the column title says so (``… (WIB)``, the caller's words). The header
  row is bold and frozen; each table is its own sheet.
- JSON: ``to_json`` gives ``{"name", "title", "columns": [{key, title, kind}], "rows": [{key:
  value}]}`` with dates and date-times as ISO 8601 strings (date-times in WIB, with offset).

``bar_chart_svg`` draws horizontal bars with their labels and values as text, a ``<title>`` and
``<desc>`` referenced by ``aria-labelledby``, presentation attributes only (no script, no inline
style: the console's strict CSP holds), so the chart reads without colour or a pointer.
``respond`` turns tables into a download (CSV / XLSX) with the kit's download headers, and
``negotiate`` reads the wanted format from ``format=`` or ``Accept``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from html import escape
from typing import Any

from fastapi import HTTPException
from fastapi.responses import Response
from serambi_calendar import WIB

from .downloads import download_headers

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("json", "csv", "xlsx")
_ACCEPT = {"text/csv": "csv", XLSX_TYPE: "xlsx", "application/json": "json"}


class Kind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    RATIO = "ratio"
    DATE = "date"
    DATETIME = "datetime"


_NUMBER_FORMATS = {
    Kind.INTEGER: "0",
    Kind.DECIMAL: "0.00",
    Kind.RATIO: "0.0%",
    Kind.DATE: "yyyy-mm-dd",
    Kind.DATETIME: "yyyy-mm-dd hh:mm",
}


@dataclass(frozen=True)
class Column:
    key: str
    title: str  # what a person reads (Bahasa Indonesia), the CSV/XLSX heading
    kind: Kind = Kind.TEXT
    width: int | None = None  # XLSX column width in characters (default from the title)


@dataclass(frozen=True)
class Table:
    name: str  # machine name: the JSON key, the CSV ``only=`` value, [A-Za-z0-9_-]
    title: str  # the sheet's / section's title (a sheet title is cut to 31 characters)
    columns: tuple[Column, ...]
    rows: list[Mapping[str, Any]] = field(default_factory=list)  # by column key

    def values(self, row: Mapping[str, Any]) -> list[Any]:
        return [_checked(column, row.get(column.key)) for column in self.columns]


def _checked(column: Column, value: Any) -> Any:
    """The value as its kind wants it (a wrong type is a programming error: ``TypeError``)."""
    if value is None:
        return None
    kind = column.kind
    ok = {
        Kind.TEXT: isinstance(value, str),
        Kind.INTEGER: isinstance(value, int) and not isinstance(value, bool),
        Kind.DECIMAL: isinstance(value, int | float) and not isinstance(value, bool),
        Kind.RATIO: isinstance(value, int | float) and not isinstance(value, bool),
        Kind.DATE: isinstance(value, date) and not isinstance(value, datetime),
        Kind.DATETIME: isinstance(value, datetime) and value.tzinfo is not None,
    }[kind]
    if not ok:
        raise TypeError(f"column {column.key!r} ({kind}) cannot hold {value!r}")
    return value


def _text(kind: Kind, value: Any) -> str:
    if value is None:
        return ""
    if kind is Kind.DATETIME:
        when: datetime = value  # checked (_checked)
        return when.astimezone(WIB).isoformat(timespec="seconds")
    if kind is Kind.DATE:
        day: date = value
        return day.isoformat()
    if kind is Kind.RATIO:
        return f"{value:.4f}"
    return str(value)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(kind: Kind, value: Any) -> str:
    """A CSV cell: text that a spreadsheet would run as a formula gets a leading ``'``."""
    text = _text(kind, value)
    if kind is Kind.TEXT and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def to_json(table: Table) -> dict[str, Any]:
    """The table as JSON-ready data (dates as ISO 8601 strings, numbers as numbers)."""

    def cell(column: Column, value: Any) -> Any:
        if value is None or column.kind not in (Kind.DATE, Kind.DATETIME):
            return value
        return _text(column.kind, value)

    return {
        "name": table.name,
        "title": table.title,
        "columns": [{"key": c.key, "title": c.title, "kind": c.kind.value} for c in table.columns],
        "rows": [
            {c.key: cell(c, v) for c, v in zip(table.columns, table.values(row), strict=True)}
            for row in table.rows
        ],
    }


def to_csv(tables: Sequence[Table], only: str | None = None) -> bytes:
    """UTF-8 with BOM, CRLF; one table plain, several as titled sections (module docstring)."""
    chosen = [table for table in tables if only is None or table.name == only]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for index, table in enumerate(chosen):
        if len(chosen) > 1:
            if index:
                writer.writerow([])
            writer.writerow([table.title])
        writer.writerow([column.title for column in table.columns])
        for row in table.rows:
            values = zip(table.columns, table.values(row), strict=True)
            writer.writerow([_csv_text(c.kind, v) for c, v in values])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(tables: Sequence[Table]) -> bytes:
    """A workbook with one sheet per table: typed cells, number formats, bold frozen header."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    for table in tables:
        title = _sheet_title(table.title, used)
        sheet = book.create_sheet(title)
        for index, column in enumerate(table.columns, start=1):
            _text_cell(sheet.cell(1, index), column.title).font = Font(bold=True)
        for number, row in enumerate(table.rows, start=2):
            values = table.values(row)
            for index, (column, value) in enumerate(zip(table.columns, values, strict=True), start=1):
                cell = sheet.cell(number, index)
                if value is None:
                    continue
                if column.kind is Kind.TEXT:
                    _text_cell(cell, value)
                    continue
                cell.value = _xlsx_value(column.kind, value)
                cell.number_format = _NUMBER_FORMATS[column.kind]
        for index, column in enumerate(table.columns, start=1):
            letter = sheet.cell(1, index).column_letter
            sheet.column_dimensions[letter].width = column.width or max(10, min(40, len(column.title) + 2))
        sheet.freeze_panes = "A2"
    if not tables:
        book.create_sheet("Kosong")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _text_cell(cell: Any, text: str) -> Any:
    """A string cell that no spreadsheet evaluates: openpyxl would store ``=…`` as a formula, so
    the type is set after the value, and the quote prefix marks it as text when edited."""
    cell.value = text
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def _xlsx_value(kind: Kind, value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(WIB).replace(tzinfo=None)
    return value


def _sheet_title(title: str, used: set[str]) -> str:
    base = "".join("-" if ch in "[]:*?/\\" else ch for ch in title)[:31] or "Tabel"
    name, n = base, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


# -- serving -----------------------------------------------------------------------------------
def negotiate(format_param: str | None, accept: str | None) -> str:
    """``json``, ``csv`` or ``xlsx``: ``format=`` wins, else the first known type in ``Accept``,
    else JSON. An unknown ``format`` is a 422 naming the parameter."""
    if format_param:
        if format_param not in FORMATS:
            raise HTTPException(
                422,
                detail=[
                    {
                        "loc": ["query", "format"],
                        "type": "enum",
                        "msg": f"format must be one of {', '.join(FORMATS)}",
                    }
                ],
            )
        return format_param
    for part in (accept or "").split(","):
        wanted = _ACCEPT.get(part.split(";")[0].strip().lower())
        if wanted:
            return wanted
    return "json"


def only_for_csv(table: str | None, fmt: str) -> None:
    """``table=`` picks one table of a CSV; with another format it is a 422 naming it."""
    if table is not None and fmt != "csv":
        raise HTTPException(
            422,
            detail=[{"loc": ["query", "table"], "type": "csv_only", "msg": "table is for format=csv only"}],
        )


def respond(tables: Sequence[Table], fmt: str, stem: str, only: str | None = None) -> Response:
    """A CSV or XLSX download of ``tables`` named ``<stem>.csv`` / ``<stem>.xlsx``."""
    if fmt == "csv":
        return Response(to_csv(tables, only), media_type=CSV_TYPE, headers=download_headers(f"{stem}.csv"))
    if fmt == "xlsx":
        return Response(to_xlsx(tables), media_type=XLSX_TYPE, headers=download_headers(f"{stem}.xlsx"))
    raise ValueError(f"not a file format: {fmt!r}")


# -- charts ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as a person reads it, drawn after the bar (e.g. "83,3% dari 12")


BAR_HEIGHT, GAP, LABEL_WIDTH, PLOT_WIDTH, VALUE_WIDTH = 22, 10, 200, 340, 130


def bar_chart_svg(
    ident: str, title: str, description: str, bars: Sequence[Bar], scale: float | None = None
) -> str:
    """A horizontal bar chart as inline SVG markup (escaped; safe to embed). ``scale`` is the
    value of a full-width bar (default: the largest value). ``ident`` ([A-Za-z0-9_-]) makes the
    ids of ``<title>``/``<desc>`` unique on the page."""
    top = scale if scale is not None else max((bar.value for bar in bars), default=0.0)
    height = max(1, len(bars)) * (BAR_HEIGHT + GAP) + GAP
    width = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH
    ident = "".join(ch for ch in ident if ch.isalnum() or ch in "-_") or "grafik"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="grafik" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="{ident}-judul {ident}-uraian">',
        f'<title id="{ident}-judul">{escape(title)}</title>',
        f'<desc id="{ident}-uraian">{escape(description)}</desc>',
    ]
    if not bars:
        parts.append(f'<text x="0" y="{BAR_HEIGHT}" fill="#1a1a1a" font-size="14">Tidak ada data.</text>')
    for index, bar in enumerate(bars):
        y = GAP + index * (BAR_HEIGHT + GAP)
        length = round(PLOT_WIDTH * min(max(bar.value, 0.0), top) / top) if top > 0 else 0
        middle = y + BAR_HEIGHT // 2 + 5
        parts += [
            f'<text x="{LABEL_WIDTH - 8}" y="{middle}" text-anchor="end" fill="#1a1a1a" '
            f'font-size="14">{escape(bar.label)}</text>',
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR_HEIGHT}" fill="#0b5394"/>',
            f'<text x="{LABEL_WIDTH + length + 6}" y="{middle}" fill="#1a1a1a" '
            f'font-size="14">{escape(bar.text)}</text>',
        ]
    parts.append("</svg>")
    return "".join(parts)
