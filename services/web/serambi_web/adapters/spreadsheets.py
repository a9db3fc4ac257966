"""The supervisor's recap as a file: the rows ``domain/pimpinan.rows`` shapes, as CSV or as an
XLSX workbook (openpyxl)."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from ..domain.pimpinan import COLUMNS


def to_csv(header: list[str], table: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(table)
    return out.getvalue()


def to_xlsx(header: list[str], table: list[list[Any]], month: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = f"Rekap {month}"
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table:
        sheet.append(row)
    for index, width in enumerate((10, 30, 10, 30, *[14] * len(COLUMNS)), start=1):
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
