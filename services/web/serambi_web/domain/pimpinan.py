"""What the supervisor's recap shows: Indonesian names, bar charts as SVG geometry, and the same
figures as rows for the CSV and XLSX downloads (written by ``adapters/spreadsheets.py``).

Charts are drawn by the template from ``Bar`` geometry with presentation attributes only (no
inline style or script, so the strict CSP holds); every chart has a title, a description and
the table of its figures next to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import pengaduan as t

TIERS = {**{key: name.split(" (")[0] for key, name in t.TIERS.items()}, "unclassified": "Belum diklasifikasi"}
DIMENSIONS = {"tier": ("Tingkat", TIERS), "channel": ("Kanal", t.CHANNELS), "status": ("Status", t.STATUSES)}
COLUMNS = (  # figure → heading (the downloads' columns, after Bagian, Dimensi, Nilai)
    ("received", "Diterima"),
    ("answered", "Dijawab"),
    ("on_time", "Tepat waktu"),
    ("on_time_rate", "Tingkat tepat waktu (%)"),
    ("breached", "Melewati tenggat"),
    ("breaches", "Pelanggaran tenggat"),
    ("triage_breached", "Lewat tenggat klasifikasi"),
)
BAR_HEIGHT, GAP, LABEL_WIDTH, PLOT_WIDTH, VALUE_WIDTH = 22, 10, 200, 360, 110


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}".replace(".", ",") + "%"


@dataclass(frozen=True)
class Bar:
    label: str
    text: str  # the value in words, drawn after the bar
    y: int
    width: int


@dataclass(frozen=True)
class Chart:
    ident: str
    title: str
    description: str
    bars: list[Bar]

    @property
    def height(self) -> int:
        return len(self.bars) * (BAR_HEIGHT + GAP) + GAP

    @property
    def width(self) -> int:
        return LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH


def _chart(
    ident: str, title: str, description: str, items: list[tuple[str, float, str]], scale: float
) -> Chart:
    bars = [
        Bar(label, text, GAP + index * (BAR_HEIGHT + GAP), round(PLOT_WIDTH * value / scale) if scale else 0)
        for index, (label, value, text) in enumerate(items)
    ]
    return Chart(ident, title, description, bars)


def rate_chart(report: dict[str, Any], dimension: str) -> Chart:
    heading, names = DIMENSIONS[dimension]
    items = [
        (
            names.get(key, key),
            (f["on_time_rate"] or 0.0) * 100,
            f"{percent(f['on_time_rate'])} dari {f['answered']}",
        )
        for key, f in report[dimension].items()
        if f["received"]
    ]
    return _chart(
        f"tepat-{dimension}",
        f"Tingkat tepat waktu per {heading.lower()}",
        f"Batang: persentase pengaduan yang dijawab tepat waktu dari yang sudah dijawab, per "
        f"{heading.lower()}. Hanya {heading.lower()} yang menerima pengaduan bulan ini. "
        "Angkanya ada di tabel berikut.",
        items,
        100.0,
    )


def volume_chart(report: dict[str, Any]) -> Chart:
    rows = [
        (t.CHANNELS.get(key, key), f["received"], f"{f['received']} diterima")
        for key, f in report["channel"].items()
        if f["received"]
    ]
    top = max((value for _, value, _ in rows), default=0)
    return _chart(
        "volume-kanal",
        "Jumlah pengaduan per kanal",
        "Batang: jumlah pengaduan yang diterima bulan ini per kanal. Angkanya ada di tabel berikut.",
        rows,
        float(top),
    )


def rows(report: dict[str, Any], audiences: dict[str, Any] | None) -> tuple[list[str], list[list[Any]]]:
    """The recap as one table: the complaints' figures per dimension value, the total, then the
    audiences' (their columns named in the row's own cells)."""
    header = ["Bulan", "Bagian", "Dimensi", "Nilai", *(name for _, name in COLUMNS)]
    out: list[list[Any]] = []
    for dimension, (heading, names) in DIMENSIONS.items():
        for key, figures in report[dimension].items():
            out.append(
                [report["month"], "Pengaduan", heading, names.get(key, key), *_values(figures, COLUMNS)]
            )
    out.append([report["month"], "Pengaduan", "Jumlah", "Semua", *_values(report["total"], COLUMNS)])
    if audiences is not None:
        figures = {**audiences, "received": audiences["submitted"], "breaches": "", "triage_breached": ""}
        out.append(
            [
                audiences["month"],
                "Audiensi (jawaban 3 hari kerja)",
                "Jumlah",
                "Semua",
                *_values(figures, COLUMNS),
            ]
        )
    return header, out


def _values(figures: dict[str, Any], columns: tuple[tuple[str, str], ...]) -> list[Any]:
    values = [figures.get(name, "") for name, _ in columns]
    for index, (name, _) in enumerate(columns):
        if name == "on_time_rate":
            rate = figures.get(name)
            values[index] = "" if rate is None else round(rate * 100, 2)
    return values
