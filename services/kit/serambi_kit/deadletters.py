"""Dead-letter records: messages a consumer could not handle, kept with the reason.

A record lives in the consuming service's own database (collection ``dead_letters``) with the
stream, subject, sequence, delivery count, reason, headers and payload, so nothing is ever
silently dropped and an operator can read and redrive it (``serambi dead-letters``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

COLLECTION = "dead_letters"
MAX_PAYLOAD_BYTES = 256 * 1024


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

    def document(self) -> dict[str, Any]:
        return {
            "_id": f"{self.consumer}:{self.stream}:{self.sequence}",
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
        }


class DeadLetters:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db[COLLECTION]

    async def record(self, letter: DeadLetter) -> None:
        """Idempotent: a redelivered poison message updates its one record."""
        document = letter.document()
        await self.collection.replace_one({"_id": document["_id"]}, document, upsert=True)

    async def list(self, status: str | None = "open", limit: int = 100) -> list[dict[str, Any]]:
        query = {"status": status} if status else {}
        cursor = self.collection.find(query).sort("recorded_at", -1).limit(limit)
        return [document async for document in cursor]
