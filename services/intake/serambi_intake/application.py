"""Intake's use cases: load → decide → append."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from serambi_contracts import AggregateRef
from serambi_contracts.intake import InstitutionType, Requester
from serambi_kit.eventstore import EventStore, execute
from serambi_kit.pii import Vault

from . import domain


def request_ref(tracking_code: str) -> AggregateRef:
    return AggregateRef("intake", "request", tracking_code)


async def seal_requester(
    vault: Vault, *, name: str, position: str, institution: str,
    institution_type: InstitutionType, email: str | None, phone: str | None,
) -> Requester:
    """The requester with name, email and phone sealed under a new data subject key."""
    key = await vault.new_subject([email, phone])
    return Requester(
        name=await vault.seal(key, name),
        position=position,
        institution=institution,
        institution_type=institution_type,
        email=await vault.seal(key, email) if email else None,
        phone=await vault.seal(key, phone) if phone else None,
    )


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


MAX_CODE_ATTEMPTS = 20


async def submit_request(
    store: EventStore,
    db: AsyncDatabase,
    details: Callable[[str, str], domain.SubmitRequest],
    now: datetime,
) -> tuple[domain.SubmitRequest, str]:
    """Submit a new request. Returns the command as recorded and the requester's access token.

    A tracking code already taken in the event store (e.g. after the counter was lost with the
    database) is skipped: the counter moves on until a free code is found.
    """
    token = secrets.token_urlsafe(32)
    for _ in range(MAX_CODE_ATTEMPTS):
        command = details(await next_tracking_code(db, now.year), hash_token(token))
        try:
            await execute(
                store, request_ref(command.tracking_code), lambda h, c=command: domain.submit(h, c)
            )
        except domain.RequestExistsError:
            continue
        return command, token
    raise RuntimeError(f"no free tracking code after {MAX_CODE_ATTEMPTS} attempts")


async def withdraw_request(store: EventStore, command: domain.WithdrawRequest) -> None:
    await execute(
        store, request_ref(command.tracking_code), lambda history: domain.withdraw(history, command)
    )
