"""Reads of intake's read models."""

from __future__ import annotations

import hmac
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from .application import hash_token
from .projections import REQUESTS


def status_of(document: dict[str, Any]) -> str:
    """The request's status, derived from what has happened (order-independent)."""
    if document.get("withdrawn_at"):
        return "withdrawn"
    if document.get("schedule"):
        return "scheduled"
    return "submitted"


async def tracking_view(db: AsyncDatabase, tracking_code: str, token: str) -> dict[str, Any] | None:
    """The public view of one request, or None when the code is unknown or the token wrong."""
    document = await db[REQUESTS].find_one({"_id": tracking_code})
    expected = (document or {}).get("access_token_sha256")
    if not expected or not hmac.compare_digest(expected, hash_token(token)):
        return None
    return {
        "tracking_code": document["tracking_code"],
        "status": status_of(document),
        "institution": document["institution"],
        "topic": document["topic"],
        "submitted_at": document["submitted_at"],
        "answer_due_at": document["answer_due_at"],
        "schedule": document.get("schedule"),
        "timeline": sorted(
            ({k: v for k, v in entry.items() if k != "event_id"} for entry in document["timeline"]),
            key=lambda entry: entry["at"],
        ),
    }
