"""The guest book export (buku tamu) for a day or a month (WIB), from the ``guests`` read model.

Names are masked (``serambi_kit.pii.mask_name``) unless the export asks for them in clear by a
role that keeps the guest book: the desk, which records the guests, and admin — the view
recorded first as a PersonalDataAccessed audit event. The scheduler, who may see a requester's
contact to arrange an audience, has no need of a month of guests' names, and a supervisor
exports the guest book with names masked too.
"""

from __future__ import annotations

from datetime import UTC, date
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from serambi_kit.pii import Vault, mask_name
from serambi_kit.tabular import Column, Kind, Table

from .projections import GUESTS

#: The roles that may export guests' names in clear (audited).
CLEAR_NAME_ROLES = frozenset({"desk", "admin"})


def period(day: date | None, month: str | None) -> tuple[str, str, str]:
    """(first day, day after the last, label) as ISO day strings for ``day`` or ``month``."""
    if day is not None:
        return day.isoformat(), date.fromordinal(day.toordinal() + 1).isoformat(), day.isoformat()
    assert month is not None
    year, number = int(month[:4]), int(month[5:])
    after = date(year + number // 12, number % 12 + 1, 1)
    return f"{month}-01", after.isoformat(), month


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


def table(label: str, rows: list[dict[str, Any]]) -> Table:
    return Table(
        "buku-tamu",
        f"Buku tamu {label}",
        (
            Column("day", "Tanggal", Kind.DATE, 12),
            Column("arrived_at", "Datang (WIB)", Kind.DATETIME, 18),
            Column("name", "Nama", width=28),
            Column("institution", "Instansi", width=30),
            Column("purpose", "Keperluan", width=40),
            Column("request_tracking_code", "Kode permohonan", width=24),
            Column("recorded_by", "Dicatat oleh", width=24),
        ),
        rows,
    )
