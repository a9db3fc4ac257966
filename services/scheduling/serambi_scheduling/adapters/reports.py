"""The audience report the bureau sends upward, for the requests submitted in a month (WIB),
read from the audiences read model (``projections.AUDIENCES``):

- submitted, per channel (``online``, ``desk``, ``letter``: intake's RequestSubmitted channel,
  carried on AudienceRequested; ``unknown`` for audiences opened before it was);
- answered: answered by now (the answer's time is the first ``scheduled`` or ``declined``
  timeline entry); on_time: answered at or before the deadline the requester was told, three
  working days (``answer_due_at``, moved by a calendar revision when one applies);
  due: the requests the deadline applies to by now — answered, or past their deadline
  unanswered (still waiting, or withdrawn/cancelled only after it), leaving out the ones
  withdrawn or cancelled unanswered before their deadline and the ones not yet due;
  on_time_rate: on_time / due (null when none is due), so an unanswered request past its
  deadline counts as late;
- late: each request answered after its deadline, or unanswered and past it now (code, channel,
  submitted, due, answered or null);
- breached: those with a standing SLA breach; open_past_due: unanswered past the deadline now;
- outcomes: where each request stands now — pending (requested, proposed or referred),
  scheduled, declined, held, no_show, withdrawn (by the requester), cancelled (by the bureau);
- median_answer_working_hours / _days: the median working time from the answer clock's start
  (``received_at`` when the desk recorded a letter later, else ``submitted_at``) to the answer,
  on the bureau's working calendar (``serambi_calendar``), breaks and holidays excluded; in
  working days, each calendar day counts the share of its own working time that lies between the
  two (so a Ramadan or otherwise shortened day counts whole when spanned, whatever its hours).

``tables`` turns a report into the CSV/XLSX tables (``serambi_kit.tabular``).
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from serambi_calendar import WIB, WorkingCalendar
from serambi_kit.slametrics import ANSWERED, ON_TIME_RATIO, OPEN_CLOCKS, replace
from serambi_kit.tabular import Column, Kind, Table

from ..domain.audience import CLOCK, UNDECIDED
from .projections import AUDIENCES

MONTH = re.compile(r"^(19|20|21)\d\d-(0[1-9]|1[0-2])$")
ANSWERS = ("scheduled", "declined")
FIGURES = ("submitted", "answered", "due", "on_time", "on_time_rate", "breached", "open_past_due")
# The values' Indonesian names, as the console already names them (services/web petugas/meja.py),
# handed out in the JSON (``labels``) so the console renders them rather than keeping a copy.
CHANNELS = {
    "online": "Portal daring",
    "desk": "Meja informasi",
    "letter": "Surat",
    "unknown": "Tidak tercatat",
}
OUTCOMES = {
    "pending": "Belum dijawab / menunggu",
    "scheduled": "Terjadwal",
    "declined": "Ditolak",
    "held": "Terlaksana",
    "no_show": "Pemohon tidak hadir",
    "withdrawn": "Ditarik pemohon",
    "cancelled": "Dibatalkan biro",
}
_PENDING = ("requested", "proposed", "referred")


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
    times = [
        _aware(entry["at"])
        for entry in document.get("timeline") or []
        if entry.get("step") in ANSWERS and entry.get("at")
    ]
    return min(times) if times else None


def ended_at(document: dict[str, Any]) -> datetime | None:
    """When a request was withdrawn or cancelled (its ``cancelled`` timeline entry), else None;
    a cancelled request without that entry counts as ended at once."""
    if document.get("status") != "cancelled":
        return None
    times = [
        _aware(entry["at"])
        for entry in document.get("timeline") or []
        if entry.get("step") == "cancelled" and entry.get("at")
    ]
    return min(times) if times else datetime.min.replace(tzinfo=UTC)


def working_days_between(calendar: WorkingCalendar, start: datetime, end: datetime) -> float:
    """Working days from ``start`` to ``end``: for each local day, the share of that day's
    working periods (its own profile, holidays off) that lies between the two."""
    total, day, last = 0.0, start.astimezone(WIB).date(), end.astimezone(WIB).date()
    while day <= last:
        periods = calendar.working_periods(day)
        length = sum((until - since).total_seconds() for since, until in periods)
        if length > 0:
            inside = sum(
                max((min(until, end) - max(since, start)).total_seconds(), 0.0) for since, until in periods
            )
            total += inside / length
        day += timedelta(days=1)
    return total


def outcome(document: dict[str, Any]) -> str:
    status = document.get("status") or "requested"
    if status in _PENDING:
        return "pending"
    if status == "cancelled":
        return "withdrawn" if document.get("withdrawn") else "cancelled"
    return status


def recap(
    month: str, documents: Iterable[dict[str, Any]], now: datetime, calendar: WorkingCalendar | None = None
) -> dict[str, Any]:
    """The month's figures (module docstring). Without a calendar the medians are null."""
    figures = dict.fromkeys(("submitted", "answered", "due", "on_time", "breached", "open_past_due"), 0)
    channels = dict.fromkeys(CHANNELS, 0)
    outcomes = dict.fromkeys(OUTCOMES, 0)
    late: list[dict[str, Any]] = []
    hours: list[float] = []
    days: list[float] = []
    for document in documents:
        due = _aware(document["answer_due_at"])
        answer = answered_at(document)
        figures["submitted"] += 1
        figures["answered"] += answer is not None
        figures["on_time"] += answer is not None and answer <= due
        figures["breached"] += bool((document.get("sla") or {}).get("breached_at"))
        past_due = (
            answer is None and due < now and document.get("status") not in ("cancelled", "held", "no_show")
        )
        figures["open_past_due"] += past_due
        ended = ended_at(document)
        late_unanswered = answer is None and due < now and (ended is None or ended > due)
        figures["due"] += answer is not None or late_unanswered
        channel = document.get("channel") or "unknown"
        channels[channel if channel in CHANNELS else "unknown"] += 1
        outcomes[outcome(document)] += 1
        submitted = _aware(document["submitted_at"])
        if (answer is not None and answer > due) or late_unanswered:
            late.append(
                {
                    "code": document.get("request_tracking_code") or document.get("_id"),
                    "channel": channel,
                    "submitted_at": submitted,
                    "answer_due_at": due,
                    "answered_at": answer,
                }
            )
        if answer is not None and calendar is not None:
            start = _aware(document.get("received_at") or submitted)
            hours.append(max(calendar.working_time_between(start, answer).total_seconds(), 0) / 3600)
            days.append(working_days_between(calendar, start, answer))
    rate = round(figures["on_time"] / figures["due"], 4) if figures["due"] else None
    median = round(statistics.median(hours), 2) if hours else None
    median_days = round(statistics.median(days), 2) if days else None
    return {
        "month": month,
        **figures,
        "on_time_rate": rate,
        "channels": channels,
        "outcomes": outcomes,
        "late": sorted(late, key=lambda row: (row["submitted_at"], row["code"])),
        "median_answer_working_hours": median,
        "median_answer_working_days": median_days,
        "labels": {"channels": dict(CHANNELS), "outcomes": dict(OUTCOMES)},
    }


async def monthly(
    db: AsyncDatabase, month: str, now: datetime, calendar: WorkingCalendar | None = None
) -> dict[str, Any]:
    first, after = month_bounds(month)
    cursor = db[AUDIENCES].find(
        {"submitted_at": {"$gte": first.astimezone(UTC), "$lt": after.astimezone(UTC)}},
        {
            "answer_due_at": 1,
            "timeline.step": 1,
            "timeline.at": 1,
            "sla.breached_at": 1,
            "status": 1,
            "withdrawn": 1,
            "channel": 1,
            "submitted_at": 1,
            "received_at": 1,
            "request_tracking_code": 1,
        },
    )
    return recap(month, [document async for document in cursor], now, calendar)


def tables(report: dict[str, Any]) -> list[Table]:
    """The report as the downloads' tables: summary, channels, outcomes, the late ones."""
    month = report["month"]
    summary = Table(
        "ringkasan",
        f"Audiensi {month}",
        (
            Column("month", "Bulan"),
            Column("submitted", "Permohonan", Kind.INTEGER),
            Column("answered", "Dijawab", Kind.INTEGER),
            Column("due", "Wajib dijawab (dijawab atau lewat tenggat)", Kind.INTEGER),
            Column("on_time", "Dijawab dalam 3 hari kerja", Kind.INTEGER),
            Column("on_time_rate", "Tingkat tepat waktu (dari yang wajib dijawab)", Kind.RATIO),
            Column("late", "Terlambat", Kind.INTEGER),
            Column("breached", "Melewati tenggat (SLA)", Kind.INTEGER),
            Column("open_past_due", "Belum dijawab, lewat tenggat", Kind.INTEGER),
            Column("median_answer_working_hours", "Median waktu jawab (jam kerja)", Kind.DECIMAL),
            Column("median_answer_working_days", "Median waktu jawab (hari kerja)", Kind.DECIMAL),
        ),
        [{**report, "late": len(report["late"])}],
    )
    channels = Table(
        "kanal",
        "Permohonan per kanal",
        (
            Column("month", "Bulan"),
            Column("channel", "Kanal"),
            Column("count", "Permohonan", Kind.INTEGER),
        ),
        [
            {"month": month, "channel": CHANNELS[key], "count": count}
            for key, count in report["channels"].items()
        ],
    )
    outcomes = Table(
        "hasil",
        "Hasil permohonan",
        (
            Column("month", "Bulan"),
            Column("outcome", "Hasil"),
            Column("count", "Permohonan", Kind.INTEGER),
        ),
        [
            {"month": month, "outcome": OUTCOMES[key], "count": count}
            for key, count in report["outcomes"].items()
        ],
    )
    late = Table(
        "terlambat",
        "Jawaban terlambat",
        (
            Column("code", "Kode permohonan", width=24),
            Column("channel", "Kanal"),
            Column("submitted_at", "Diajukan (WIB)", Kind.DATETIME, 18),
            Column("answer_due_at", "Tenggat (WIB)", Kind.DATETIME, 18),
            Column("answered_at", "Dijawab (WIB)", Kind.DATETIME, 18),
        ),
        [{**row, "channel": CHANNELS.get(row["channel"], row["channel"])} for row in report["late"]],
    )
    return [summary, channels, outcomes, late]


def previous_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


async def refresh_metrics(db: AsyncDatabase, now: datetime | None = None) -> None:
    """The scheduling gauges (``/metrics``, cached: serambi_kit.slametrics): open audience answer
    clocks, and this and last month's answers and on-time ratio (``month``: ``current`` or
    ``previous``, WIB; no ratio while nothing was answered)."""
    now = now or datetime.now(UTC)
    waiting = await db[AUDIENCES].count_documents(
        {"status": {"$in": [status.value for status in UNDECIDED]}, "answered": {"$ne": True}}
    )
    replace(OPEN_CLOCKS, {(CLOCK, "running"): waiting})
    current = now.astimezone(WIB).strftime("%Y-%m")
    ratios: dict[tuple[str, ...], float] = {}
    answers: dict[tuple[str, ...], float] = {}
    for slot, month in (("current", current), ("previous", previous_month(current))):
        figures = await monthly(db, month, now)
        answers[(slot, "on_time")] = figures["on_time"]
        answers[(slot, "late")] = figures["due"] - figures["on_time"]
        if figures["on_time_rate"] is not None:
            ratios[(slot,)] = figures["on_time_rate"]
    replace(ON_TIME_RATIO, ratios)
    replace(ANSWERED, answers)
