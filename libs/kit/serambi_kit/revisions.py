"""Revise open deadlines once per calendar revision.

A service that owns SLA clocks records, in its collection ``meta`` (document ``calendar``), the
fingerprint of the calendar and durations it last revised its open deadlines with
(``serambi_calendar.fingerprint``). At start-up it calls :func:`revise_when_changed`: when the
fingerprint differs (or none is recorded), its own ``revise`` records every deadline that moved
and re-arms the timers; the fingerprint is recorded only after that succeeded, so a revision cut
short runs again at the next start. ``revise`` must be idempotent (compare the recorded deadline
with the one the current calendar gives), which also makes replicas starting together harmless.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from .logging import get_logger
from .mongo import Database

log = get_logger(__name__)
META = "meta"
CALENDAR = "calendar"


async def recorded_fingerprint(db: Database) -> str | None:
    known = await db[META].find_one({"_id": CALENDAR})
    return (known or {}).get("fingerprint")


async def revise_when_changed(
    db: Database, fingerprint: str, revise: Callable[[], Awaitable[int]], *, force: bool = False
) -> int:
    """Run ``revise`` (it returns how many deadlines moved) if ``fingerprint`` is not the one
    recorded in ``db`` (or ``force``), then record it. Returns how many moved (0 if skipped)."""
    previous = await recorded_fingerprint(db)
    if not force and previous == fingerprint:
        return 0
    moved = await revise()
    await db[META].update_one({"_id": CALENDAR}, {"$set": {"fingerprint": fingerprint}}, upsert=True)
    log.info("calendar.revised", database=db.name, fingerprint=fingerprint, previous=previous, moved=moved)
    return moved
