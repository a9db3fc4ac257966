"""The monthly recap the bureau reports upward: complaints received in a month (WIB), by
channel, tier and status, with answers, the on-time rate and breaches. JSON and CSV.

- received: complaints received in the month (their ``received_at``, WIB);
- answered: of those, answered by now (status answered or closed);
- on_time: answered, every answer within its deadline and no SLA breach;
- on_time_rate: on_time / answered (null when nothing was answered);
- breached: complaints with at least one SLABreached of their tier's clock; breaches: those
  SLABreached events;
- triage_breached, triage_breaches: the same for the triage clock (a complaint left
  unclassified past its triage deadline), counted apart.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from serambi_contracts.complaints import ComplaintChannel, ComplaintTier

from .domain import Status
from .projections import COMPLAINTS, FIRST_CLOSED_STAGE, STATUS_OF_STAGE

MONTH = re.compile(r"^(19|20|21)\d\d-(0[1-9]|1[0-2])$")
DIMENSIONS = ("channel", "tier", "status")
FIGURES = ("received", "answered", "on_time", "on_time_rate", "breached", "breaches",
           "triage_breached", "triage_breaches")
UNCLASSIFIED = "unclassified"


def _empty() -> dict[str, Any]:
    return {"received": 0, "answered": 0, "on_time": 0, "breached": 0, "breaches": 0,
            "triage_breached": 0, "triage_breaches": 0}


def _add(figures: dict[str, Any], document: dict[str, Any]) -> None:
    answered = document["stage"] >= FIRST_CLOSED_STAGE
    breaches = int(document.get("breach_count", 0))
    figures["received"] += 1
    figures["answered"] += answered
    figures["on_time"] += answered and bool(document.get("answered_on_time")) and breaches == 0
    figures["breached"] += breaches > 0
    figures["breaches"] += breaches
    triage = int(document.get("triage_breach_count", 0))
    figures["triage_breached"] += triage > 0
    figures["triage_breaches"] += triage


def _rate(figures: dict[str, Any]) -> dict[str, Any]:
    answered = figures["answered"]
    return {**figures, "on_time_rate": round(figures["on_time"] / answered, 4) if answered else None}


def recap(month: str, documents: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The recap of ``documents`` (read-model documents of complaints received in ``month``).
    Every channel, tier and status appears, with zeros where nothing happened."""
    groups: dict[str, dict[str, dict[str, Any]]] = {
        "channel": {c.value: _empty() for c in ComplaintChannel},
        "tier": {**{t.value: _empty() for t in ComplaintTier}, UNCLASSIFIED: _empty()},
        "status": {s.value: _empty() for s in Status},
    }
    total = _empty()
    for document in documents:
        keys = {
            "channel": document["channel"],
            "tier": document.get("tier") or UNCLASSIFIED,
            "status": STATUS_OF_STAGE[document["stage"]].value,
        }
        for dimension, key in keys.items():
            _add(groups[dimension].setdefault(key, _empty()), document)
        _add(total, document)
    return {
        "month": month,
        "total": _rate(total),
        **{dimension: {key: _rate(f) for key, f in rows.items()} for dimension, rows in groups.items()},
    }


def to_csv(report: dict[str, Any]) -> str:
    """One row per dimension value, then the total: dimension,value,<figures>."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["month", "dimension", "value", *FIGURES])
    rows = [(dimension, key, figures) for dimension in DIMENSIONS
            for key, figures in report[dimension].items()]
    rows.append(("total", "all", report["total"]))
    for dimension, key, figures in rows:
        rate = figures["on_time_rate"]
        values = [figures[name] for name in FIGURES]
        values[FIGURES.index("on_time_rate")] = "" if rate is None else f"{rate:.4f}"
        writer.writerow([report["month"], dimension, key, *values])
    return out.getvalue()


async def monthly(db: AsyncDatabase, month: str) -> dict[str, Any]:
    if not MONTH.match(month):
        raise ValueError(f"month {month!r} is not YYYY-MM")
    fields = {"channel": 1, "tier": 1, "stage": 1, "answered_on_time": 1, "breach_count": 1,
              "triage_breach_count": 1}
    cursor = db[COMPLAINTS].find({"month": month}, fields)
    return recap(month, [document async for document in cursor])
