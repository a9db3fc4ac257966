"""Dead letters of the SP4N-LAPOR! import: one item LAPOR! hands out that cannot be read or
recorded is kept with the reason (the kit's ``dead_letters``, consumer ``lapor-import``), and the
import goes on with the next.

A record holds no personal data: the LAPOR! id, the reason (for an invalid field, its name and
rule, never its value) and the item's receipt time. The item itself stays in LAPOR!, where an
officer reads it to record it by hand (``POST /api/v1/officer/complaints`` with channel
``sp4n_lapor`` and the id as ``external_ref``) once the cause is understood.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from pydantic import ValidationError
from pymongo.asynchronous.database import AsyncDatabase
from serambi_kit.deadletters import DeadLetter, DeadLetters
from serambi_kit.logging import get_logger

log = get_logger(__name__)
CONSUMER = "lapor-import"
STREAM = "SP4N-LAPOR"  # not a JetStream stream: where the item came from, for the listing


def key(lapor_id: str | None, reason: str) -> str:
    """One record per LAPOR! id (an item without a readable id: per reason)."""
    if lapor_id is None:
        lapor_id = "unknown-" + hashlib.sha256(reason.encode()).hexdigest()[:16]
    return f"{CONSUMER}:{lapor_id}"


def reason(exc: BaseException, what: str = "could not be recorded") -> str:
    """Why, without the offending values (they may be personal data): for invalid fields their
    names and rules, else the error's type and message."""
    if isinstance(exc, ValidationError):
        fields = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'item'}: {error['msg']} ({error['type']})"
            for error in exc.errors(include_input=False, include_url=False)
        )
        return f"{what}: invalid {exc.title} ({fields})"
    if isinstance(exc, KeyError):
        return f"{what}: missing field {exc.args[0]!r}" if exc.args else f"{what}: KeyError"
    return f"{what}: {type(exc).__name__}: {exc}"


def when(item) -> datetime:
    """The item's receipt as an aware instant (a naive one is taken as UTC), to sort by."""
    at = item.received_at
    return at if at.tzinfo else at.replace(tzinfo=UTC)


async def exists(db: AsyncDatabase, lapor_id: str) -> bool:
    found = await DeadLetters(db).collection.find_one({"_id": key(lapor_id, "")}, {"_id": 1})
    return found is not None


MANUAL = (
    "an item of the SP4N-LAPOR! import, not a stream message (LAPOR! will not hand it out "
    "again): read it in LAPOR! and record it by hand (channel sp4n_lapor, its LAPOR! id as "
    "external_ref)"
)


async def record(
    db: AsyncDatabase, lapor_id: str | None, why: str, received_at: datetime | None = None
) -> None:
    """Keep the item as a dead letter (once: an existing record is left as the operator left it)."""
    letters = DeadLetters(db)
    letter_id = key(lapor_id, why)
    if await letters.collection.find_one({"_id": letter_id}, {"_id": 1}) is not None:
        return
    payload = {"lapor_id": lapor_id, "received_at": received_at.isoformat() if received_at else None}
    await letters.record(
        DeadLetter(
            consumer=CONSUMER,
            stream=STREAM,
            subject=f"lapor.{lapor_id or 'unknown'}",
            sequence=0,
            deliveries=1,
            reason=why,
            headers={},
            payload=json.dumps(payload).encode(),
            key=letter_id,
            manual=MANUAL,
        )
    )
    log.error("lapor.dead_lettered", lapor_id=lapor_id, reason=why)
