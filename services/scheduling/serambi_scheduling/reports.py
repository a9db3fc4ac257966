"""The audience answer report: of the requests submitted in a month (WIB), how many got their
answer (scheduled or declined) by the deadline the requester was told, three working days
(``answer_due_at``, moved by a calendar revision when one applies). Read from the audiences
read model; the answer's time is the first ``scheduled`` or ``declined`` timeline entry.

- submitted: audiences whose request was submitted in the month;
- answered: of those, answered by now; on_time: answered at or before ``answer_due_at``;
- on_time_rate: on_time / answered (null when nothing was answered);
- breached: those with a standing SLA breach; open_past_due: unanswered past the deadline now.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from serambi_calendar import WIB
from serambi_kit.slametrics import ANSWERED, ON_TIME_RATIO, OPEN_CLOCKS, replace

from .domain.audience import CLOCK, UNDECIDED
from .projections import AUDIENCES

MONTH = re.compile(r"^(19|20|21)\d\d-(0[1-9]|1[0-2])$")
ANSWERS = ("scheduled", "declined")
FIGURES = ("submitted", "answered", "on_time", "on_time_rate", "breached", "open_past_due")


def _aware(instant: datetime) -> datetime:
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def month_bounds(month: str) -> tuple[datetime, datetime]:
    if not MONTH.match(month):
        raise ValueError(f"month {month!r} is not YYYY-MM")
    year, number = int(month[:4]), int(month[5:])
    first = datetime(year, number, 1, tzinfo=WIB)
    after = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=WIB)
    return first, after


def answered_at(document: dict[str, Any]) -> datetime | None:
    times = [_aware(entry["at"]) for entry in document.get("timeline") or []
             if entry.get("step") in ANSWERS and entry.get("at")]
    return min(times) if times else None


def recap(month: str, documents: Iterable[dict[str, Any]], now: datetime) -> dict[str, Any]:
    figures = dict.fromkeys(("submitted", "answered", "on_time", "breached", "open_past_due"), 0)
    for document in documents:
        due = _aware(document["answer_due_at"])
        answer = answered_at(document)
        figures["submitted"] += 1
        figures["answered"] += answer is not None
        figures["on_time"] += answer is not None and answer <= due
        figures["breached"] += bool((document.get("sla") or {}).get("breached_at"))
        figures["open_past_due"] += answer is None and due < now and document.get("status") not in (
            "cancelled", "held", "no_show")
    answered = figures["answered"]
    rate = round(figures["on_time"] / answered, 4) if answered else None
    return {"month": month, **figures, "on_time_rate": rate}


async def monthly(db: AsyncDatabase, month: str, now: datetime) -> dict[str, Any]:
    first, after = month_bounds(month)
    cursor = db[AUDIENCES].find(
        {"submitted_at": {"$gte": first.astimezone(UTC), "$lt": after.astimezone(UTC)}},
        {"answer_due_at": 1, "timeline.step": 1, "timeline.at": 1, "sla.breached_at": 1, "status": 1})
    return recap(month, [document async for document in cursor], now)


def previous_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


async def refresh_metrics(db: AsyncDatabase, now: datetime | None = None) -> None:
    """The scheduling gauges (``/metrics``, cached: serambi_kit.slametrics): open audience answer
    clocks, and this and last month's answers and on-time ratio (``month``: ``current`` or
    ``previous``, WIB; no ratio while nothing was answered)."""
    now = now or datetime.now(UTC)
    waiting = await db[AUDIENCES].count_documents(
        {"status": {"$in": [status.value for status in UNDECIDED]}, "answered": {"$ne": True}})
    replace(OPEN_CLOCKS, {(CLOCK, "running"): waiting})
    current = now.astimezone(WIB).strftime("%Y-%m")
    ratios: dict[tuple[str, ...], float] = {}
    answers: dict[tuple[str, ...], float] = {}
    for slot, month in (("current", current), ("previous", previous_month(current))):
        figures = await monthly(db, month, now)
        answers[(slot, "on_time")] = figures["on_time"]
        answers[(slot, "late")] = figures["answered"] - figures["on_time"]
        if figures["on_time_rate"] is not None:
            ratios[(slot,)] = figures["on_time"] / figures["answered"]
    replace(ON_TIME_RATIO, ratios)
    replace(ANSWERED, answers)
