"""Reads of scheduling's read models: details, the officer queue, calendars, the booking view."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from serambi_kit.pagination import PageRequest
from serambi_kit.pii import Vault, reveal_text

from ..domain.audience import UNDECIDED
from ..domain.rules import BusyView
from ..domain.time import wib
from .projections import AUDIENCES, RESOURCE_DAYS

HIDDEN = {"_id": 0, "_applied": 0, "_sequence": 0}
QUEUE_VIEWS = ("pending", "at_risk", "breached")
UNDECIDED_VALUES = [status.value for status in UNDECIDED]


def _shown(value: Any) -> Any:
    """Instants in WIB for people; everything else as it is."""
    if isinstance(value, datetime):
        return wib(value).isoformat()
    if isinstance(value, dict):
        return {k: _shown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shown(v) for v in value]
    return value


SEALED_FIELDS = ("topic", "notes", "cancel_reason")  # the requester's key; None once erased


async def revealed(vault: Vault, document: dict[str, Any]) -> dict[str, Any]:
    """The document with its sealed texts — the requester's topic, the officers' notes and
    cancellation reasons — in clear (None once the requester was erased)."""
    out = dict(document)
    for name in SEALED_FIELDS:
        if name in out:
            out[name] = await reveal_text(vault, out[name])
    if "timeline" in out:
        out["timeline"] = [
            {**entry, "reason": await reveal_text(vault, entry["reason"])} if "reason" in entry else entry
            for entry in out["timeline"]
        ]
    return out


async def audience_details(db: AsyncDatabase, vault: Vault, audience_id: str) -> dict[str, Any] | None:
    document = await db[AUDIENCES].find_one({"_id": audience_id}, HIDDEN)
    return _shown(await revealed(vault, document)) if document else None


def queue_filter(view: str) -> dict[str, Any]:
    pending: dict[str, Any] = {"status": {"$in": UNDECIDED_VALUES}}
    if view == "breached":
        return {**pending, "sla.breached_at": {"$exists": True}}
    if view == "at_risk":
        return {**pending, "sla.warned_percent": {"$exists": True}, "sla.breached_at": {"$exists": False}}
    return pending


def queue_category(document: dict[str, Any]) -> str:
    sla = document.get("sla") or {}
    if sla.get("breached_at"):
        return "breached"
    return "at_risk" if sla.get("warned_percent") else "pending"


async def officer_queue(
    db: AsyncDatabase, vault: Vault, view: str | None, pages: PageRequest = PageRequest(1, 200)
) -> dict[str, Any]:
    """A page of undecided audiences, the most urgent (earliest answer deadline) first."""
    fields = {**HIDDEN, "timeline": 0}
    query = queue_filter(view or "pending")
    total = await db[AUDIENCES].count_documents(query)
    cursor = db[AUDIENCES].find(query, fields).sort("answer_due_at", 1).skip(pages.skip).limit(pages.size)
    out = []
    async for document in cursor:
        out.append({**_shown(await revealed(vault, document)), "queue": queue_category(document)})
    return pages.answer(out, total)


async def open_audience_ids(db: AsyncDatabase) -> list[str]:
    cursor = db[AUDIENCES].find({"status": {"$in": UNDECIDED_VALUES}, "answered": {"$ne": True}}, {"_id": 1})
    return [document["_id"] async for document in cursor]


async def upcoming_audience_ids(db: AsyncDatabase, now: datetime) -> list[str]:
    """Audiences scheduled to start after ``now`` (their reminders may still be to come)."""
    cursor = db[AUDIENCES].find({"status": "scheduled", "schedule.starts_at": {"$gt": now}}, {"_id": 1})
    return [document["_id"] async for document in cursor]


def _days(first: date, last: date) -> dict[str, Any]:
    return {"day": {"$gte": first.isoformat(), "$lte": last.isoformat()}}


async def calendar(
    db: AsyncDatabase,
    vault: Vault,
    first: date,
    last: date,
    resource: str | None = None,
    resource_id: str | None = None,
) -> list[dict[str, Any]]:
    """Bookings (with their audience's topic, institution and status), by day and start."""
    query: dict[str, Any] = _days(first, last)
    if resource:
        query["resource"] = resource
    if resource_id:
        query["resource_id"] = resource_id
    rows = []
    async for document in db[RESOURCE_DAYS].find(query, {"_applied": 0, "_sequence": 0}):
        for booking in (document.get("bookings") or {}).values():
            rows.append(
                {
                    "resource": document["resource"],
                    "resource_id": document["resource_id"],
                    "day": document["day"],
                    **booking,
                }
            )
    ids = sorted({row["audience_id"] for row in rows})
    audiences = {
        a["_id"]: a
        async for a in db[AUDIENCES].find(
            {"_id": {"$in": ids}}, {"topic": 1, "institution": 1, "status": 1, "schedule": 1}
        )
    }
    out = []
    for row in sorted(rows, key=lambda r: (r["day"], r["starts_at"], r["resource"], r["resource_id"])):
        audience = audiences.get(row["audience_id"], {})
        held = (audience.get("schedule") or {}).get("booking_id") == row["booking_id"]
        out.append(
            _shown(
                {
                    **{k: v for k, v in row.items() if k != "audience_version"},
                    "topic": await reveal_text(vault, audience.get("topic")),
                    "institution": audience.get("institution"),
                    "audience_status": audience.get("status") if held else "pending",
                }
            )
        )
    return out


def aware(instant: datetime) -> datetime:
    """MongoDB returns naive UTC datetimes unless the client is tz_aware."""
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


class MongoBookingSource:
    """The booking view from ``resource_days`` — a first guess: the day aggregates decide.

    Kept in memory and refreshed incrementally: each search reads only the documents whose
    ``_sequence`` moved (with a margin, since projections of different aggregates may land
    slightly out of stream order), and everything again every ``full_every`` seconds."""

    def __init__(self, db: AsyncDatabase, *, full_every: float = 60.0, margin: int = 50) -> None:
        self.db = db
        self.full_every = full_every
        self.margin = margin
        self._days: dict[str, tuple[str, tuple, list]] = {}  # doc id → (day, key, intervals)
        self._high = 0
        self._loaded_at = -1e18
        self._lock = asyncio.Lock()

    async def _refresh(self) -> None:
        async with self._lock:
            now = time.monotonic()
            if now - self._loaded_at > self.full_every:
                yesterday = date.fromordinal(datetime.now(UTC).date().toordinal() - 1)
                query: dict[str, Any] = {"day": {"$gte": yesterday.isoformat()}}
                self._days, self._high, self._loaded_at = {}, 0, now
            else:
                query = {"_sequence": {"$gt": self._high - self.margin}}
            fields = {"resource": 1, "resource_id": 1, "day": 1, "bookings": 1, "_sequence": 1}
            async for document in self.db[RESOURCE_DAYS].find(query, fields):
                day = document["day"]
                key = (document["resource"], document["resource_id"], date.fromisoformat(day))
                intervals = [
                    (aware(b["starts_at"]), aware(b["ends_at"]), b["audience_id"])
                    for b in (document.get("bookings") or {}).values()
                ]
                self._days[document["_id"]] = (day, key, intervals)
                self._high = max(self._high, document.get("_sequence", 0))

    async def busy(self, days: Iterable[date]) -> BusyView:
        await self._refresh()
        wanted = {day.isoformat() for day in days}
        view = BusyView()
        for day, key, intervals in self._days.values():
            if day in wanted and intervals:
                view.intervals[key] = list(intervals)
        return view

    async def bookings(self, first: date, last: date) -> list[dict]:
        out = []
        async for document in self.db[RESOURCE_DAYS].find(_days(first, last)):
            for booking in (document.get("bookings") or {}).values():
                out.append(
                    {
                        "resource": document["resource"],
                        "resource_id": document["resource_id"],
                        **booking,
                        "starts_at": aware(booking["starts_at"]),
                        "ends_at": aware(booking["ends_at"]),
                    }
                )
        return out


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db[RESOURCE_DAYS].create_index("day")
    await db[RESOURCE_DAYS].create_index("_sequence")
    await db[AUDIENCES].create_index([("status", 1), ("answer_due_at", 1)])
    await db[AUDIENCES].create_index("submitted_at")  # the monthly audience report
