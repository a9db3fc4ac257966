"""Dead-letter records: messages a consumer could not handle, kept with the reason.

A record lives in the consuming service's own database (collection ``dead_letters``) with the
stream, subject, sequence, delivery count, reason, headers and payload, so nothing is ever
silently dropped and an operator can read and redrive it (``serambi dead-letters``).

Only a stream message can be redriven: the consuming service reads it back from its stream by
sequence. An item a service took from elsewhere — a mail from the complaint mailbox, an item of
the SP4N-LAPOR! import — is recorded with sequence 0 and ``manual``, what to do instead; it is
never marked for redrive (``redrivable``), and the admin API refuses it with 409.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .mongo import Database

COLLECTION = "dead_letters"
MAX_PAYLOAD_BYTES = 256 * 1024
# Status of a record: ``open`` → (``serambi dead-letters redrive``) ``redrive`` → (a replica of
# the consuming service claims it) ``redriving`` → ``redriven``, or ``open`` again with the new
# reason. A claim older than this is taken again (the replica that held it died).
REDRIVE_CLAIM_TIMEOUT = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    consumer: str
    stream: str
    subject: str
    sequence: int
    deliveries: int
    reason: str
    headers: dict[str, str]
    payload: bytes
    #: the record's id when the item is not a stream message (e.g. an import's item id)
    key: str | None = None
    #: for an item not read from a stream (sequence 0): why a redrive cannot take it and what
    #: to do instead (English, no personal data)
    manual: str | None = None

    def document(self) -> dict[str, Any]:
        return {
            "_id": self.key or f"{self.consumer}:{self.stream}:{self.sequence}",
            "consumer": self.consumer,
            "stream": self.stream,
            "subject": self.subject,
            "sequence": self.sequence,
            "deliveries": self.deliveries,
            "reason": self.reason[:2000],
            "headers": self.headers,
            "payload": self.payload[:MAX_PAYLOAD_BYTES],
            "payload_truncated": len(self.payload) > MAX_PAYLOAD_BYTES,
            "recorded_at": datetime.now(UTC),
            "status": "open",
            **({"manual": self.manual} if self.manual else {}),
        }


NOT_FROM_A_STREAM = "not a stream message: a redrive cannot read it back; handle it where it came from"


def redrivable(document: dict[str, Any]) -> bool:
    """Whether a redrive can take the record: a stream message (sequences start at 1)."""
    return (document.get("sequence") or 0) > 0 and not document.get("manual")


def not_redrivable(document: dict[str, Any]) -> str | None:
    """Why the record cannot be redriven and what to do instead; None when it can be."""
    return None if redrivable(document) else document.get("manual") or NOT_FROM_A_STREAM


class DeadLetters:
    def __init__(self, db: Database) -> None:
        self.collection = db[COLLECTION]

    async def record(self, letter: DeadLetter) -> None:
        """Idempotent: a redelivered poison message updates its one record."""
        document = letter.document()
        await self.collection.replace_one({"_id": document["_id"]}, document, upsert=True)

    async def list(
        self,
        status: str | None = "open",
        limit: int = 100,
        before: tuple[datetime, str] | None = None,
        skip: int = 0,
    ) -> list[dict[str, Any]]:
        """Newest first (by ``recorded_at``, then id), ``skip`` records left out; ``before`` =
        (recorded_at, id) of the last record of the previous page: the records after it in that
        order."""
        query: dict[str, Any] = {"status": status} if status else {}
        if before is not None:
            at, letter_id = before
            query["$or"] = [{"recorded_at": {"$lt": at}}, {"recorded_at": at, "_id": {"$lt": letter_id}}]
        cursor = self.collection.find(query).sort([("recorded_at", -1), ("_id", -1)]).skip(skip).limit(limit)
        return [document async for document in cursor]

    async def count(self, status: str | None = "open") -> int:
        return await self.collection.count_documents({"status": status} if status else {})

    async def status_of(self, letter_id: str) -> str | None:
        """The record's status, None when there is no such record."""
        found = await self.collection.find_one({"_id": letter_id}, {"status": 1})
        return found["status"] if found else None

    async def mark_for_redrive(self, letter_id: str | None = None) -> int:
        """Ask the consuming service to run the handler again on open records (one, or all) that
        a redrive can take (``redrivable``: stream messages). Returns how many were marked."""
        query: dict[str, Any] = {"status": "open", "sequence": {"$gt": 0}, "manual": None}
        if letter_id is not None:
            query["_id"] = letter_id
        update = {"$set": {"status": "redrive", "redrive_requested_at": datetime.now(UTC)}}
        result = await self.collection.update_many(query, update)
        return result.modified_count

    # builtins.list: `list` here is the method above
    async def claim_redrive(self, consumers: builtins.list[str]) -> dict[str, Any] | None:
        """One record marked for redrive (or a stale claim) of one of ``consumers``, now claimed."""
        now = datetime.now(UTC)
        query = {
            "consumer": {"$in": consumers},
            "$or": [
                {"status": "redrive"},
                {"status": "redriving", "claimed_at": {"$lt": now - REDRIVE_CLAIM_TIMEOUT}},
            ],
        }
        return await self.collection.find_one_and_update(
            query, {"$set": {"status": "redriving", "claimed_at": now}}
        )

    async def settle_redrive(self, letter_id: str, reason: str | None) -> None:
        """``reason`` None: the handler took effect (``redriven``); else ``open`` with the reason."""
        now = datetime.now(UTC)
        if reason is None:
            update = {"$set": {"status": "redriven", "redriven_at": now}, "$inc": {"redrives": 1}}
        else:
            update = {
                "$set": {"status": "open", "reason": reason[:2000], "redrive_failed_at": now},
                "$inc": {"redrives": 1},
            }
        await self.collection.update_one({"_id": letter_id}, update)
