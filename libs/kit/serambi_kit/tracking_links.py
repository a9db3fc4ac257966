"""What every public case shares: a human tracking code and the requester's access token."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from .mongo import Database
from .resends import LinkResends

MAX_CODE_ATTEMPTS = 20


def new_access_token() -> str:
    """256 random bits, URL-safe: what the requester keeps to follow their case."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """What tracking compares with (events and read models hold the token itself only sealed,
    for the notifier's link)."""
    return hashlib.sha256(token.encode()).hexdigest()


def link_resends(settings: Any) -> LinkResends:
    """The policy a service's settings set (``SERAMBI_LINK_RESENDS_PER_DAY``,
    ``SERAMBI_LINK_RESEND_DAYS_AFTER_END``)."""
    return LinkResends(
        per_day=settings.link_resends_per_day, days_after_end=settings.link_resend_days_after_end
    )


def token_matches(expected_sha256: str | None, token: str) -> bool:
    """Constant-time comparison; False when there is nothing to compare with."""
    return bool(expected_sha256 and hmac.compare_digest(expected_sha256, hash_token(token)))


#: codes a process takes from the counter at once (one write per block, not per case)
CODE_BLOCK = 20


@dataclass
class _Block:
    next: int = 0
    end: int = 0  # exclusive
    reserving: asyncio.Future[None] | None = None  # the one reservation under way, shared


_blocks: dict[tuple[Any, str], _Block] = {}


async def next_tracking_code(db: Database, prefix: str, year: int) -> str:
    """``<prefix>-<year>-<6 digits>`` from a per-year counter in the service's database.

    A process reserves ``CODE_BLOCK`` numbers with one ``$inc`` and hands them out in order, so
    the counter costs one write per block instead of one per case. Numbers stay unique (each
    block is reserved atomically) but not gap-free or in time order across processes: a restart
    leaves the rest of its block unused, and two replicas hand out two blocks at once. Callers
    that find the block used up share one reservation: a database that does not answer fails
    them all after one timeout, not one after the other. The event store refuses a code already
    taken (a case's first append expects sequence 0), so a caller that loses the counter (e.g.
    with its database) moves on to the next code."""
    counter_id = f"{prefix}-{year}"
    block = _blocks.setdefault((db, counter_id), _Block())
    while block.next >= block.end:  # no await between this check and taking the number below
        if block.reserving is None or block.reserving.done():  # done: cancelled before it ran
            block.reserving = asyncio.ensure_future(_refill(block, db, counter_id))
        await asyncio.shield(block.reserving)
    number, block.next = block.next, block.next + 1
    return f"{counter_id}-{number:06d}"


async def _refill(block: _Block, db: Database, counter_id: str) -> None:
    """Reserve the next block and make it the one handed out — inside the task, so that
    whoever sees it done also sees its block (a done callback would run only after a caller
    could have found the task done and the block still empty, and looped without yielding)."""
    try:
        end = await _reserve(db, counter_id, CODE_BLOCK)
        block.next, block.end = end + 1 - CODE_BLOCK, end + 1
    finally:
        block.reserving = None


async def _reserve(db: Database, counter_id: str, count: int) -> int:
    """The last number of a block of ``count`` new numbers."""
    for _ in range(5):
        try:
            counter = await db["counters"].find_one_and_update(
                {"_id": counter_id},
                {"$inc": {"value": count}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:  # two first upserts raced; the counter exists now
            continue
        if counter is not None:  # SecantusDB may answer a racing first upsert with no document
            return int(counter["value"])
    raise RuntimeError(f"counter {counter_id}: no value after 5 attempts")
