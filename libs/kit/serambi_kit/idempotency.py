"""``Idempotency-Key`` for routes that open a case (a request, a complaint): a client retry gets
the first response, and only one case is recorded.

A key is claimed before the work starts (unique insert) for a lease, its request fingerprint
recorded; before the append the claim reserves the tracking code and the access token (the
token sealed), and once the work is done the response is kept — sealed, since it holds the
access token. The same key with another request is refused; a key whose lease still runs is
refused with 409 and ``Retry-After``. A retry after the lease (its holder died, or is stuck)
takes the key over and re-runs the work with the reserved code and token: it finds the request
if it was stored, or appends it. A holder's writes are fenced by its ``holder`` id: one that
outlived its lease can no longer reserve, complete or free the key, and an append it had
already begun goes to the reserved code, where only one request fits. Records expire after
``ttl``.

A route runs its work through :func:`answer_once`; the work reserves before its append and, on a
takeover, reuses the reserved code and token — finding the case if it was stored.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Header, HTTPException
from fastapi.encoders import jsonable_encoder
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError
from serambi_contracts.base import Sealed

from .mongo import Database
from .pii import Vault

COLLECTION = "idempotency_keys"
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=8, max_length=128)]


class IdempotencySettings(BaseSettings):
    """Mixed into the settings of a service with idempotent routes."""

    model_config = SettingsConfigDict(env_prefix="SERAMBI_", extra="ignore")
    idempotency_hours: int = Field(default=24, ge=1, le=24 * 30)
    idempotency_lease_seconds: int = Field(
        default=30, ge=1, le=3600, description="a retry takes over a key claimed longer ago"
    )


class IdempotencyError(Exception):
    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Claim:
    """The right to do a key's work until its lease ends; ``tracking_code`` and ``token`` are
    what an earlier holder reserved (None on a first claim)."""

    key: str
    holder: str
    tracking_code: str | None = None
    token: str | None = None


def fingerprint(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def lease_left(record: dict[str, Any], now: datetime) -> float:
    """Seconds until an ``in_progress`` record may be taken over (0: now; older records
    without a lease count as expired)."""
    lease_until = record.get("lease_until")
    return max(0.0, (lease_until - now).total_seconds()) if lease_until else 0.0


def _still_running(seconds: float) -> IdempotencyError:
    return IdempotencyError(
        409,
        "Idempotency-Key: the first request is still being processed",
        retry_after=max(1, math.ceil(seconds)),
    )


class IdempotencyKeys:
    def __init__(
        self,
        db: Database,
        vault: Vault,
        ttl: timedelta = timedelta(hours=24),
        lease: timedelta = timedelta(seconds=30),
    ) -> None:
        self.collection = db[COLLECTION]
        self.vault = vault
        self.ttl = ttl
        self.lease = lease

    @classmethod
    def from_settings(cls, db: Database, vault: Vault, settings: IdempotencySettings) -> IdempotencyKeys:
        return cls(
            db,
            vault,
            timedelta(hours=settings.idempotency_hours),
            timedelta(seconds=settings.idempotency_lease_seconds),
        )

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("expires_at", expireAfterSeconds=0)

    async def begin(self, key: str, print_: str) -> Claim | dict[str, Any]:
        """Claim ``key``, or take it over after its lease; returns the stored response
        instead if this request was already answered."""
        now = datetime.now(UTC)
        holder = secrets.token_hex(8)
        lease = {"holder": holder, "lease_until": now + self.lease}
        try:
            await self.collection.insert_one(
                {
                    "_id": key,
                    "fingerprint": print_,
                    "status": "in_progress",
                    "expires_at": now + self.ttl,
                    **lease,
                }
            )
            return Claim(key, holder)
        except DuplicateKeyError:
            pass
        record = await self.collection.find_one({"_id": key})
        if record is None:  # expired between the insert and the read
            return await self.begin(key, print_)
        if record["fingerprint"] != print_:
            raise IdempotencyError(422, "Idempotency-Key: already used for a different request")
        if record["status"] == "done":
            response = await self._reveal(record["response"])
            stored: dict[str, Any] = json.loads(response)
            return stored
        left = lease_left(record, now)
        if left > 0:
            raise _still_running(left)
        # its holder died or is stuck: take the key over, unless another retry just did; the
        # reservation is read in the same step (the old holder may have reserved meanwhile)
        taken = await self.collection.find_one_and_update(
            {"_id": key, "status": "in_progress", "holder": record.get("holder")},
            {"$set": lease},
            return_document=ReturnDocument.AFTER,
        )
        if taken is None:
            raise _still_running(self.lease.total_seconds())
        token = await self._reveal(taken["token"]) if taken.get("token") else None
        return Claim(key, holder, taken.get("tracking_code"), token)

    async def reserve(self, claim: Claim, subject_key: str, tracking_code: str, token: str) -> None:
        """Keep the code and token a retry will reuse; call before the append. Raises 409
        when the lease was lost to a retry (which then does the work)."""
        sealed = await self.vault.seal(subject_key, token)
        reserved = await self.collection.update_one(
            self._held(claim), {"$set": {"tracking_code": tracking_code, "token": sealed.model_dump()}}
        )
        if reserved.matched_count == 0:
            raise IdempotencyError(
                409, "Idempotency-Key: taken over by a retry of this request", retry_after=1
            )

    async def complete(self, claim: Claim, subject_key: str, response: dict[str, Any]) -> None:
        sealed = await self.vault.seal(subject_key, json.dumps(response, default=str))
        await self.collection.update_one(
            self._held(claim), {"$set": {"status": "done", "response": sealed.model_dump()}}
        )

    async def abandon(self, claim: Claim) -> None:
        """After a failure: free the key — unless a code was reserved, since the append may
        have been stored; then a retry takes the key over at once and finds out."""
        held = self._held(claim)
        await self.collection.delete_one({**held, "tracking_code": {"$exists": False}})
        await self.collection.update_one(held, {"$set": {"lease_until": datetime.now(UTC)}})

    @staticmethod
    def _held(claim: Claim) -> dict[str, Any]:
        return {"_id": claim.key, "holder": claim.holder, "status": "in_progress"}

    async def _reveal(self, sealed: dict[str, Any]) -> str:
        revealed = await self.vault.reveal(Sealed.model_validate(sealed))
        if revealed is None:
            raise IdempotencyError(410, "Idempotency-Key: the request's data was erased")
        return revealed


def http_error(exc: IdempotencyError) -> HTTPException:
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
    return HTTPException(exc.status, str(exc), headers=headers)


Work = Callable[[Claim | None], Awaitable[tuple[dict[str, Any], str]]]


async def answer_once(keys: IdempotencyKeys, key: str | None, print_: str, work: Work) -> dict[str, Any]:
    """Run ``work`` at most once per ``key`` and answer every retry alike.

    ``work(claim)`` returns the answer and the data subject key that seals it (it holds the
    access token); it gets the claim (None without a key) to reserve with and to reuse what an
    earlier holder reserved. A failure frees the key, or ends its lease if a code was reserved.
    """
    if not key:
        answer, _ = await work(None)
        return answer
    try:
        claimed = await keys.begin(key, print_)
    except IdempotencyError as exc:
        raise http_error(exc) from None
    if not isinstance(claimed, Claim):
        return claimed  # answered already
    try:
        answer, subject_key = await work(claimed)
    except BaseException as exc:
        await keys.abandon(claimed)
        if isinstance(exc, IdempotencyError):
            raise http_error(exc) from None
        raise
    encoded: dict[str, Any] = jsonable_encoder(answer)  # what a retry gets back from the stored JSON
    await keys.complete(claimed, subject_key, encoded)
    return encoded
