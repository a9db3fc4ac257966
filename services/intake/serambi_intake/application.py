"""Intake's use cases: load → decide → append."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from serambi_contracts import AggregateRef
from serambi_kit.eventstore import EventStore, execute

from . import domain


def request_ref(tracking_code: str) -> AggregateRef:
    return AggregateRef("intake", "request", tracking_code)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def next_tracking_code(db: AsyncDatabase, year: int) -> str:
    """``AUD-<year>-<6 digits>``, from a per-year counter (uniqueness is also enforced by the
    event store: a request's first event is appended with expected sequence 0)."""
    counter = await db["counters"].find_one_and_update(
        {"_id": f"request-{year}"}, {"$inc": {"value": 1}}, upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    return f"AUD-{year}-{counter['value']:06d}"


async def submit_request(
    store: EventStore,
    db: AsyncDatabase,
    details: Callable[[str, str], domain.SubmitRequest],
    now: datetime,
) -> tuple[domain.SubmitRequest, str]:
    """Submit a new request. Returns the command as recorded and the requester's access token."""
    tracking_code = await next_tracking_code(db, now.year)
    token = secrets.token_urlsafe(32)
    command = details(tracking_code, hash_token(token))
    await execute(store, request_ref(tracking_code), lambda history: domain.submit(history, command))
    return command, token


async def withdraw_request(store: EventStore, command: domain.WithdrawRequest) -> None:
    await execute(
        store, request_ref(command.tracking_code), lambda history: domain.withdraw(history, command)
    )
