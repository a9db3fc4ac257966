"""``Idempotency-Key``: a client retry gets the first response, and only one event is appended.

A key is claimed before the work starts (unique insert), its request fingerprint recorded,
and the response kept — sealed, since it holds the access token — once the work is done.
The same key with another request is refused; a key whose work is still running is refused
with 409 so the client retries later. Records expire after ``ttl``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from serambi_contracts.base import Sealed
from serambi_kit.pii import Vault

COLLECTION = "idempotency_keys"


class IdempotencyError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def fingerprint(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\x00")
    return digest.hexdigest()


class IdempotencyKeys:
    def __init__(self, db: AsyncDatabase, vault: Vault, ttl: timedelta = timedelta(hours=24)) -> None:
        self.collection = db[COLLECTION]
        self.vault = vault
        self.ttl = ttl

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("expires_at", expireAfterSeconds=0)

    async def begin(self, key: str, print_: str) -> dict[str, Any] | None:
        """Claim ``key``; returns the stored response if this request was already answered."""
        now = datetime.now(UTC)
        try:
            await self.collection.insert_one(
                {"_id": key, "fingerprint": print_, "status": "in_progress", "expires_at": now + self.ttl}
            )
            return None
        except DuplicateKeyError:
            pass
        record = await self.collection.find_one({"_id": key})
        if record is None:  # expired between the insert and the read
            return await self.begin(key, print_)
        if record["fingerprint"] != print_:
            raise IdempotencyError(422, "Idempotency-Key: already used for a different request")
        if record["status"] != "done":
            raise IdempotencyError(409, "Idempotency-Key: the first request is still being processed")
        response = await self.vault.reveal(Sealed.model_validate(record["response"]))
        if response is None:
            raise IdempotencyError(410, "Idempotency-Key: the request's data was erased")
        return json.loads(response)

    async def complete(self, key: str, subject_key: str, response: dict[str, Any]) -> None:
        sealed = await self.vault.seal(subject_key, json.dumps(response, default=str))
        await self.collection.update_one(
            {"_id": key}, {"$set": {"status": "done", "response": sealed.model_dump()}}
        )

    async def abandon(self, key: str) -> None:
        await self.collection.delete_one({"_id": key, "status": "in_progress"})
