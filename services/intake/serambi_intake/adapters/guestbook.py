"""The guest book export (buku tamu) for a day or a month (WIB), from the ``guests`` read model:
names masked (``serambi_kit.pii.mask_name``) unless the export asks for them in clear (who may:
``domain.guests.CLEAR_NAME_ROLES``)."""

from __future__ import annotations

from datetime import UTC, date
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from serambi_kit.pii import Vault, mask_name

from .projections import GUESTS


async def guests(
    db: AsyncDatabase, vault: Vault, first: str, after: str, *, clear: bool
) -> list[dict[str, Any]]:
    """The guests whose WIB day is in [first, after), by arrival; names masked unless ``clear``
    (an erased guest's name reads as null)."""
    rows = []
    cursor = db[GUESTS].find({"day": {"$gte": first, "$lt": after}}).sort([("arrived_at", 1), ("_id", 1)])
    async for guest in cursor:
        name = await vault.reveal(guest["name"])
        arrived = guest["arrived_at"]
        rows.append(
            {
                "guest_id": guest["guest_id"],
                "day": date.fromisoformat(guest["day"]),
                "arrived_at": arrived if arrived.tzinfo else arrived.replace(tzinfo=UTC),
                "name": name if clear else mask_name(name),
                "institution": guest["institution"],
                "purpose": guest["purpose"],
                "recorded_by": guest["recorded_by"],
                "request_tracking_code": guest.get("request_tracking_code"),
            }
        )
    return rows


async def counts(db: AsyncDatabase, first: str, after: str) -> list[dict[str, Any]]:
    """The number of guests per WIB day in [first, after), reading only each guest's day (no
    name is fetched or decrypted)."""
    tally: dict[str, int] = {}
    async for guest in db[GUESTS].find({"day": {"$gte": first, "$lt": after}}, {"day": 1, "_id": 0}):
        tally[guest["day"]] = tally.get(guest["day"], 0) + 1
    return [{"day": day, "count": n} for day, n in sorted(tally.items())]
