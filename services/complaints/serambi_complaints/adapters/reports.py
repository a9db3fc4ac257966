"""The monthly recap the bureau reports upward: complaints received in a month (WIB), by
channel, tier, status and team, with answers, the on-time rates and breaches, and the reopened
complaints. JSON, CSV and XLSX (``tables`` for ``serambi_kit.tabular``).

- received: complaints received in the month (their ``received_at``, WIB);
- answered: of those, answered by now (status answered or closed);
- on_time: answered, every answer within its deadline and no SLA breach;
- due: the complaints the tier deadline applies to by now — answered, or open with a tier and
  past its deadline (``due_at`` before now, or a breach recorded);
- on_time_rate: on_time / due (null when none is due): an open complaint past its tier
  deadline counts as late;
- breached: complaints with at least one SLABreached of their tier's clock; breaches: those
  SLABreached events;
- triage_breached, triage_breaches: the same for the triage clock (a complaint left
  unclassified past its triage deadline), counted apart;
- classified: complaints given a tier; triage_due: the complaints that ran a triage clock
  (received unclassified with a triage deadline, ``triage_due_at``) and were classified since, or
  are still unclassified past that deadline (late); triage_on_time: of those, classified by the
  deadline without a triage breach; triage_on_time_rate: triage_on_time / triage_due (null when
  none). Complaints classified at receipt never ran a triage clock and are left out;
- reopened: complaints **reopened in the month** (a dispute of the answer; the ``reopened``
  timeline entries' times, WIB), whatever month they were received in, counted under their
  channel, tier, status and team; ``reopened`` at the top level lists them (code, channel, team,
  tier, received, reopened in the month, times reopened in all, status).

``on_time_rate`` is the tier on-time rate (the answer within its tier's deadline). Dimensions:
``channel``, ``tier`` (``unclassified`` when none yet), ``status`` and ``team`` (the team the
complaint is assigned to, ``unassigned`` when none).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from serambi_calendar import WIB
from serambi_contracts.complaints import ComplaintChannel, ComplaintTier
from serambi_kit.tabular import Column, Kind, Table

from ..domain import TRIAGE, Status
from .projections import COMPLAINTS, FIRST_CLOSED_STAGE, STATUS_OF_STAGE

MONTH = re.compile(r"^(19|20|21)\d\d-(0[1-9]|1[0-2])$")
DIMENSIONS = ("channel", "tier", "status", "team")
FIGURES = (
    "received",
    "answered",
    "on_time",
    "on_time_rate",
    "breached",
    "breaches",
    "triage_breached",
    "triage_breaches",
    "classified",
    "triage_on_time",
    "triage_on_time_rate",
    "reopened",
    "due",
    "triage_due",
)  # new columns go last (machine CSV)
UNCLASSIFIED = "unclassified"
UNASSIGNED = "unassigned"


def _empty() -> dict[str, Any]:
    return {
        "received": 0,
        "answered": 0,
        "on_time": 0,
        "breached": 0,
        "breaches": 0,
        "triage_breached": 0,
        "triage_breaches": 0,
        "classified": 0,
        "triage_on_time": 0,
        "reopened": 0,
        "due": 0,
        "triage_due": 0,
    }


def reopened_in(document: dict[str, Any], first: datetime, after: datetime) -> list[datetime]:
    """The times the complaint was reopened within [first, after)."""
    return sorted(
        at
        for entry in document.get("timeline") or []
        if entry.get("step") == "reopened"
        and entry.get("at")
        and first <= (at := _aware(entry["at"])) < after
    )


def _classified_at(document: dict[str, Any]) -> datetime | None:
    times = [
        _aware(entry["at"])
        for entry in document.get("timeline") or []
        if entry.get("step") == "classified" and entry.get("at")
    ]
    return min(times) if times else None


def _add(figures: dict[str, Any], document: dict[str, Any], now: datetime) -> None:
    answered = document["stage"] >= FIRST_CLOSED_STAGE
    breaches = int(document.get("breach_count", 0))
    classified = bool(document.get("tier"))
    due_at = _aware(document.get("due_at"))
    figures["received"] += 1
    figures["answered"] += answered
    figures["due"] += answered or (classified and (breaches > 0 or (due_at is not None and due_at < now)))
    figures["on_time"] += answered and bool(document.get("answered_on_time")) and breaches == 0
    figures["breached"] += breaches > 0
    figures["breaches"] += breaches
    triage = int(document.get("triage_breach_count", 0))
    figures["triage_breached"] += triage > 0
    figures["triage_breaches"] += triage
    figures["classified"] += classified
    triage_due_at = _aware(document.get("triage_due_at"))
    if triage_due_at is None and not classified and document.get("clock") == TRIAGE:
        triage_due_at = due_at  # an unclassified complaint's running deadline is the triage one
    if triage_due_at is not None or triage > 0:  # it ran a triage clock
        at = _classified_at(document)
        in_time = classified and triage == 0 and (at is None or triage_due_at is None or at <= triage_due_at)
        overdue = triage_due_at is not None and triage_due_at < now
        figures["triage_due"] += classified or triage > 0 or overdue
        figures["triage_on_time"] += in_time


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _rate(figures: dict[str, Any]) -> dict[str, Any]:
    return {
        **figures,
        "on_time_rate": _ratio(figures["on_time"], figures["due"]),
        "triage_on_time_rate": _ratio(figures["triage_on_time"], figures["triage_due"]),
    }


def month_bounds(month: str) -> tuple[datetime, datetime]:
    year, number = int(month[:4]), int(month[5:])
    return (
        datetime(year, number, 1, tzinfo=WIB),
        datetime(year + number // 12, number % 12 + 1, 1, tzinfo=WIB),
    )


def _keys(document: dict[str, Any]) -> dict[str, str]:
    return {
        "channel": document["channel"],
        "tier": document.get("tier") or UNCLASSIFIED,
        "status": STATUS_OF_STAGE[document["stage"]].value,
        "team": document.get("team") or UNASSIGNED,
    }


def recap(
    month: str,
    documents: Iterable[dict[str, Any]],
    now: datetime | None = None,
    reopened_documents: Iterable[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The recap of ``documents`` (read-model documents of complaints received in ``month``);
    ``reopened_documents``: complaints reopened at some time (any receipt month), of which
    those reopened in ``month`` count (default: ``documents``). Every channel, tier and status
    appears, with zeros where nothing happened."""
    groups: dict[str, dict[str, dict[str, Any]]] = {
        "channel": {c.value: _empty() for c in ComplaintChannel},
        "tier": {**{t.value: _empty() for t in ComplaintTier}, UNCLASSIFIED: _empty()},
        "status": {s.value: _empty() for s in Status},
        "team": {},
    }
    total = _empty()
    reopened: list[dict[str, Any]] = []
    now = now or datetime.now(UTC)
    documents = list(documents)
    for document in documents:
        for dimension, key in _keys(document).items():
            _add(groups[dimension].setdefault(key, _empty()), document, now)
        _add(total, document, now)
    first, after = month_bounds(month)
    for document in documents if reopened_documents is None else reopened_documents:
        times = reopened_in(document, first, after)
        if not times:
            continue
        keys = _keys(document)
        for dimension, key in keys.items():
            groups[dimension].setdefault(key, _empty())["reopened"] += 1
        total["reopened"] += 1
        reopened.append(
            {
                "tracking_code": document.get("tracking_code") or document.get("_id"),
                "channel": keys["channel"],
                "team": document.get("team"),
                "tier": document.get("tier"),
                "received_at": _aware(document.get("received_at")),
                "reopened_at": times[0],
                "reopen_count": int(document.get("reopen_count", 0)),
                "status": keys["status"],
            }
        )
    groups["team"] = dict(sorted(groups["team"].items()))
    return {
        "month": month,
        "total": _rate(total),
        **{dimension: {key: _rate(f) for key, f in rows.items()} for dimension, rows in groups.items()},
        "reopened": sorted(reopened, key=lambda row: str(row["tracking_code"])),
        "labels": {"dimensions": dict(DIMENSION_NAMES), **{key: dict(names) for key, names in NAMES.items()}},
    }


def _aware(instant: datetime | None) -> datetime | None:
    return instant.replace(tzinfo=UTC) if instant is not None and instant.tzinfo is None else instant


def to_csv(report: dict[str, Any]) -> str:
    """One row per dimension value, then the total: dimension,value,<figures>."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["month", "dimension", "value", *FIGURES])
    rows = [
        (dimension, key, figures) for dimension in DIMENSIONS for key, figures in report[dimension].items()
    ]
    rows.append(("total", "all", report["total"]))
    for dimension, key, figures in rows:
        values = [figures[name] for name in FIGURES]
        for name in ("on_time_rate", "triage_on_time_rate"):
            rate = figures[name]
            values[FIGURES.index(name)] = "" if rate is None else f"{rate:.4f}"
        writer.writerow([report["month"], dimension, key, *values])
    return out.getvalue()


async def monthly(db: AsyncDatabase, month: str, now: datetime | None = None) -> dict[str, Any]:
    if not MONTH.match(month):
        raise ValueError(f"month {month!r} is not YYYY-MM")
    fields = {
        "channel": 1,
        "tier": 1,
        "stage": 1,
        "answered_on_time": 1,
        "breach_count": 1,
        "triage_breach_count": 1,
        "team": 1,
        "reopen_count": 1,
        "tracking_code": 1,
        "received_at": 1,
        "due_at": 1,
        "clock": 1,
        "triage_due_at": 1,
        "timeline.step": 1,
        "timeline.at": 1,
    }
    cursor = db[COMPLAINTS].find({"month": month}, fields)
    received = [document async for document in cursor]
    reopened = db[COMPLAINTS].find({"reopen_count": {"$gt": 0}}, fields)  # few; filtered by month in recap
    return recap(month, received, now, [document async for document in reopened])


DIMENSION_NAMES = {"channel": "Kanal", "tier": "Tingkat", "status": "Status", "team": "Tim"}
NAMES = {  # the values as the console names them (services/web .../pengaduan_tampilan.py)
    "channel": {
        "face_to_face": "Tatap muka (loket)",
        "complaint_box": "Kotak pengaduan",
        "whatsapp": "WhatsApp",
        "telephone": "Telepon",
        "fax": "Faksimile",
        "email": "Email",
        "sp4n_lapor": "SP4N-LAPOR!",
        "online": "Portal daring",
    },
    "tier": {
        "ringan": "Ringan",
        "normatif": "Normatif",
        "tidak_berkadar_pengawasan": "Tidak berkadar pengawasan",
        "berkadar_pengawasan": "Berkadar pengawasan",
        UNCLASSIFIED: "Belum diklasifikasi",
    },
    "status": {
        "received": "Diterima",
        "classified": "Diklasifikasi",
        "assigned": "Ditugaskan",
        "answered": "Dijawab",
        "closed": "Ditutup",
        "reopened": "Dibuka kembali",
    },
    "team": {UNASSIGNED: "Belum ditugaskan"},
}
_HEADINGS = {
    "received": ("Diterima", Kind.INTEGER),
    "answered": ("Dijawab", Kind.INTEGER),
    "due": ("Wajib dijawab (dijawab atau lewat tenggat)", Kind.INTEGER),
    "on_time": ("Dijawab tepat waktu", Kind.INTEGER),
    "on_time_rate": ("Tingkat tepat waktu (tenggat tingkat, dari yang wajib dijawab)", Kind.RATIO),
    "breached": ("Melewati tenggat", Kind.INTEGER),
    "breaches": ("Pelanggaran tenggat", Kind.INTEGER),
    "triage_breached": ("Lewat tenggat klasifikasi", Kind.INTEGER),
    "triage_breaches": ("Pelanggaran tenggat klasifikasi", Kind.INTEGER),
    "classified": ("Diklasifikasi", Kind.INTEGER),
    "triage_due": ("Wajib diklasifikasi (berjam klasifikasi)", Kind.INTEGER),
    "triage_on_time": ("Diklasifikasi tepat waktu", Kind.INTEGER),
    "triage_on_time_rate": ("Tingkat klasifikasi tepat waktu (dari yang wajib)", Kind.RATIO),
    "reopened": ("Dibuka kembali bulan ini", Kind.INTEGER),
}


def tables(report: dict[str, Any]) -> list[Table]:
    """The recap for the XLSX (``serambi_kit.tabular``): one row per dimension value and the
    total, then the reopened complaints, values by their Indonesian names."""
    names = NAMES
    recap_columns = (
        Column("month", "Bulan"),
        Column("dimension", "Dimensi"),
        Column("value", "Nilai", width=30),
        *(Column(name, title, kind) for name, (title, kind) in _HEADINGS.items()),
    )
    rows = [
        {
            "month": report["month"],
            "dimension": DIMENSION_NAMES[dimension],
            "value": names.get(dimension, {}).get(key, key),
            **figures,
        }
        for dimension in DIMENSIONS
        for key, figures in report[dimension].items()
    ]
    rows.append({"month": report["month"], "dimension": "Jumlah", "value": "Semua", **report["total"]})
    reopened = Table(
        "dibuka-kembali",
        "Pengaduan dibuka kembali",
        (
            Column("tracking_code", "Kode pengaduan", width=24),
            Column("channel", "Kanal"),
            Column("team", "Tim"),
            Column("tier", "Tingkat"),
            Column("received_at", "Diterima (WIB)", Kind.DATETIME, 18),
            Column("reopened_at", "Dibuka kembali bulan ini (WIB)", Kind.DATETIME, 18),
            Column("reopen_count", "Kali dibuka kembali (seluruhnya)", Kind.INTEGER),
            Column("status", "Status"),
        ),
        [
            {
                **row,
                "channel": NAMES["channel"].get(row["channel"], row["channel"]),
                "tier": NAMES["tier"].get(row["tier"] or UNCLASSIFIED),
                "status": NAMES["status"].get(row["status"]),
            }
            for row in report["reopened"]
        ],
    )
    return [Table("rekap", f"Pengaduan {report['month']}", recap_columns, rows), reopened]
