"""Reads of the complaints read model: the public tracking view, officer views, the queue.

Instants are returned as aware datetimes (shown in WIB by the API); ``working_time_remaining``
is counted with the calendar at read time. Personal data is revealed only where a view needs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from serambi_calendar import Clock, Pause
from serambi_contracts.complaints import Disclosure
from serambi_kit.pagination import PageRequest
from serambi_kit.pii import Vault, mask_email, mask_name, mask_phone
from serambi_kit.tracking_links import token_matches

from ..domain import TRIAGE, Rules, Status
from .projections import COMPLAINTS, FIRST_CLOSED_STAGE, STAGES, STATUS_OF_STAGE

PUBLIC_STEPS = (
    "received",
    "classified",
    "assigned",
    "paused",
    "resumed",
    "answered",
    "closed",
    "reopened",
    "deadline_moved",
)
PUBLIC_DETAILS = ("tier", "reason", "due_at")


async def create_indexes(db: AsyncDatabase) -> None:
    collection = db[COMPLAINTS]
    await collection.create_index([("stage", ASCENDING), ("due_sort", ASCENDING)])
    await collection.create_index([("due_sort", ASCENDING), ("received_at", ASCENDING)])
    # "my cases": one member's cases in queue order, without scanning the others
    await collection.create_index(
        [("assignee", ASCENDING), ("due_sort", ASCENDING), ("received_at", ASCENDING)]
    )
    # a data subject's complaints, by their key id (the WhatsApp channel forgets an erased one's)
    for name in ("tier", "channel", "breached", "month", "team", "external_ref", "summary.key"):
        await collection.create_index(name)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def clock_name(document: dict[str, Any]) -> str | None:
    """The tier's clock, or the triage clock until classification (None on unclassified
    complaints received before triage clocks existed)."""
    return document.get("tier") or (TRIAGE if document.get("clock") == TRIAGE else None)


def clock_of(document: dict[str, Any]) -> Clock | None:
    name = clock_name(document)
    if name is None:
        return None
    pauses = [Pause(_utc(p["paused_at"]), _utc(p["resumed_at"])) for p in document.get("pauses", [])]
    if document.get("open_pause"):
        pauses.append(Pause(_utc(document["open_pause"]["paused_at"])))
    return Clock(name, _utc(document["clock_started_at"]), tuple(pauses))


def iso_duration(value: timedelta) -> str:
    """ISO 8601 duration of working time, hours not folded into days: ``PT7H30M``, ``-PT15M``."""
    sign, total = ("-", -value) if value < timedelta(0) else ("", value)
    seconds = int(total.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + (f"{secs}S" if secs else "")
    return f"{sign}PT{text or '0S'}"


def status_of(document: dict[str, Any]) -> Status:
    return STATUS_OF_STAGE[document["stage"]]


def sla_view(document: dict[str, Any], rules: Rules, now: datetime) -> dict[str, Any]:
    """The running clock (a tier, or ``triage`` until classification), its due_at, working time
    remaining, paused and overdue, as of ``now``."""
    is_open = document["stage"] < FIRST_CLOSED_STAGE
    clock = clock_of(document) if is_open else None
    remaining = rules.remaining(clock, now) if clock else None
    due = _utc(document.get("due_at"))
    return {
        "clock": clock_name(document) if is_open else document.get("tier"),
        "due_at": due,
        "working_time_remaining": iso_duration(remaining) if remaining is not None else None,
        "working_seconds_remaining": int(remaining.total_seconds()) if remaining is not None else None,
        "paused": bool(document.get("open_pause")),
        "overdue": bool(is_open and due is not None and due <= now),
    }


@dataclass(frozen=True, slots=True)
class Reader:
    db: AsyncDatabase
    vault: Vault
    rules: Rules

    async def find(self, code: str) -> dict[str, Any] | None:
        return await self.db[COMPLAINTS].find_one({"_id": code})

    async def tracking_view(self, code: str, token: str, now: datetime) -> dict[str, Any] | None:
        """The complainant's view, or None when the code is unknown or the token wrong. It never
        holds the complainant's identity; a confidential complaint shows only status and due."""
        document = await self.find(code)
        expected = (document or {}).get("access_token_sha256")
        if not token_matches(expected, token):
            return None
        sla = sla_view(document, self.rules, now)
        view: dict[str, Any] = {
            "tracking_code": document["tracking_code"],
            "status": status_of(document).value,
            "due_at": sla["due_at"],
            "working_time_remaining": sla["working_time_remaining"],
        }
        if document["disclosure"] == Disclosure.CONFIDENTIAL:
            return view
        answered = document.get("answered_at") and document["stage"] >= FIRST_CLOSED_STAGE
        view.update(
            {
                "clock": sla["clock"],  # the tier's, or "triage" until classification
                "channel": document["channel"],
                "received_at": _utc(document["received_at"]),
                "tier": document.get("tier"),
                "paused": sla["paused"],
                "summary": await self.vault.reveal(document.get("summary")),
                "attachment_count": len(document.get("attachments", [])),
                "answered_at": _utc(document.get("answered_at")) if answered else None,
                "answer": await self.vault.reveal(document.get("answer")) if answered else None,
                "dispute_until": (
                    self.rules.reopen_until(_utc(document["answered_at"])) if answered else None
                ),
                "timeline": [
                    {
                        "step": entry["step"],
                        "at": _utc(entry["at"]),
                        **{k: entry[k] for k in PUBLIC_DETAILS if entry.get(k) is not None},
                    }
                    for entry in document.get("timeline", [])  # in the order of the events
                    if entry["step"] in PUBLIC_STEPS
                ],
            }
        )
        return view

    async def complainant(self, document: dict[str, Any]) -> dict[str, Any]:
        """Identity for officers, in clear, for named and confidential complaints; for anonymous
        ones only which contact channels exist (the notifier uses them). The caller audits it."""
        sealed = document.get("complainant", {})
        if document["disclosure"] == Disclosure.ANONYMOUS:
            return {"anonymous": True, "has_email": "email" in sealed, "has_phone": "phone" in sealed}
        return {field: await self.vault.reveal(sealed.get(field)) for field in ("name", "email", "phone")}

    async def masked_complainant(self, document: dict[str, Any]) -> dict[str, Any]:
        """Identity as the case view shows it without an audited reveal: masked values
        (``S*** R***``, ``s***@example.id``, ``+6281******142``), none for anonymous complaints."""
        clear = await self.complainant(document)
        if clear.get("anonymous"):
            return clear
        return {
            "anonymous": False,
            "masked": True,
            "name": mask_name(clear["name"]),
            "email": mask_email(clear["email"]),
            "phone": mask_phone(clear["phone"]),
        }

    async def identity(self, code: str) -> dict[str, Any] | None:
        """The complainant's identity in clear (anonymous: none), or None for an unknown code."""
        document = await self.db[COMPLAINTS].find_one({"_id": code}, {"disclosure": 1, "complainant": 1})
        return None if document is None else await self.complainant(document)

    async def attachment(self, code: str, document_id: str) -> tuple[int, dict[str, Any]] | None:
        """(position from 1, stored reference) of one of the complaint's attachments."""
        document = await self.db[COMPLAINTS].find_one({"_id": code}, {"attachments": 1}) or {}
        for position, ref in enumerate(document.get("attachments", []), start=1):
            if ref["document_id"] == document_id:
                return position, ref
        return None

    async def officer_view(self, code: str, now: datetime) -> dict[str, Any] | None:
        document = await self.find(code)
        if document is None:
            return None
        return {
            **await self.row(document, now),
            "complainant": await self.masked_complainant(document),
            "description": await self.vault.reveal(document.get("description")),
            "answer": await self.vault.reveal(document.get("answer")),
            "answered_at": _utc(document.get("answered_at")),
            "answered_on_time": document.get("answered_on_time"),
            "closed_at": _utc(document.get("closed_at")),
            "recorded_by": document.get("recorded_by"),
            "recorded_at": _utc(document.get("recorded_at")),
            "external_ref": document.get("external_ref"),
            "pause_reason": (document.get("open_pause") or {}).get("reason"),
            "attachments": [
                {
                    "document_id": ref["document_id"],
                    "media_type": ref["media_type"],
                    "size": ref["size"],
                    "url": f"/api/v1/officer/complaints/{code}/attachments/{ref['document_id']}",
                }
                for ref in document.get("attachments", [])
            ],
            "warnings": document.get("warnings", []),
            "breaches": document.get("breaches", []),
            # receipts and answers the complainant's channel (WhatsApp) did not deliver (sent by SMS)
            "failed_replies": [
                {**failed, "at": _utc(failed["at"])} for failed in document.get("failed_replies", [])
            ],
            "timeline": await self.officer_timeline(document),
        }

    async def officer_timeline(self, document: dict[str, Any]) -> list[dict[str, Any]]:
        """The case's steps in order; a note's text revealed (None once its writer was erased),
        the notes from outside since an officer's last step marked ``new``."""
        timeline = []
        unseen = document.get("new_notes", 0)
        for entry in reversed(document.get("timeline", [])):
            if entry.get("step") == "note":
                entry = {**entry, "text": await self.vault.reveal(entry.get("text")), "new": False}
                if unseen > 0 and entry.get("source") != "officer":
                    entry["new"], unseen = True, unseen - 1
            timeline.append(entry)
        return timeline[::-1]

    async def row(self, document: dict[str, Any], now: datetime) -> dict[str, Any]:
        return {
            "tracking_code": document["tracking_code"],
            "status": status_of(document).value,
            "channel": document["channel"],
            "disclosure": document["disclosure"],
            "tier": document.get("tier"),
            "received_at": _utc(document["received_at"]),
            **sla_view(document, self.rules, now),
            "team": document.get("team"),
            "assignee": document.get("assignee"),
            "round": document.get("round", 1),
            "breached": document.get("breached", False),
            "summary": await self.vault.reveal(document.get("summary")),
            "note_count": document.get("note_count", 0),
            "new_notes": document.get("new_notes", 0),  # from outside, since an officer's last step
            "last_note_at": _utc(document.get("last_note_at")),
        }

    async def queue(self, filters: QueueFilter, paging: PageRequest, now: datetime) -> dict[str, Any]:
        query = filters.query()
        collection = self.db[COMPLAINTS]
        total = await collection.count_documents(query)
        cursor = (
            collection.find(query, {"description": 0, "answer": 0, "timeline": 0, "attachments": 0})
            .sort([("due_sort", ASCENDING), ("received_at", ASCENDING)])
            .skip(paging.skip)
            .limit(paging.size)
        )
        return paging.answer([await self.row(document, now) async for document in cursor], total)


@dataclass(frozen=True, slots=True)
class QueueFilter:
    tier: str | None = None
    status: str | None = None
    channel: str | None = None
    due_before: datetime | None = None
    breached: bool | None = None
    paused: bool | None = None
    open: bool | None = None
    team: str | None = None
    assignee: str | None = None
    new_notes: bool | None = None  # notes from outside since an officer's last step (or none)

    def query(self) -> dict[str, Any]:
        query: dict[str, Any] = {}
        if self.tier:
            query["tier"] = self.tier
        if self.channel:
            query["channel"] = self.channel
        if self.status:
            query["stage"] = STAGES[Status(self.status)]
        elif self.open is not None:
            query["stage"] = {"$lt" if self.open else "$gte": FIRST_CLOSED_STAGE}
        if self.due_before:
            query["due_at"] = {"$lt": self.due_before}
        if self.breached is not None:
            query["breached"] = self.breached
        if self.paused is not None:
            query["open_pause"] = {"$ne": None} if self.paused else None
        if self.team:
            query["team"] = self.team
        if self.assignee:
            query["assignee"] = self.assignee
        if self.new_notes is not None:
            query["new_notes"] = {"$gt": 0} if self.new_notes else {"$in": [0, None]}
        return query
