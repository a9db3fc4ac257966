"""What every public case shares: a human tracking code and the requester's access token."""

from __future__ import annotations

import hashlib
import hmac
import secrets
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


async def next_tracking_code(db: Database, prefix: str, year: int) -> str:
    """``<prefix>-<year>-<6 digits>`` from a per-year counter in the service's database. The
    event store refuses a code already taken (a case's first append expects sequence 0), so a
    caller that loses the counter (e.g. with its database) moves on to the next code."""
    for _ in range(5):
        try:
            counter = await db["counters"].find_one_and_update(
                {"_id": f"{prefix}-{year}"},
                {"$inc": {"value": 1}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:  # two first upserts raced; the counter exists now
            continue
        if counter is not None:  # SecantusDB may answer a racing first upsert with no document
            return f"{prefix}-{year}-{counter['value']:06d}"
    raise RuntimeError(f"counter {prefix}-{year}: no value after 5 attempts")
