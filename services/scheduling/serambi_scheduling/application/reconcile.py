"""Free bookings no audience holds (left by a crash between the protocol's steps).

A booking made for audience version v can only be taken by an audience event appended at
version v. So once the audience is past v and does not hold the booking, nothing ever will:
releasing it is safe, even while other placements run (docs/scheduling.md).
"""

from __future__ import annotations

from datetime import date

from serambi_contracts.scheduling import ResourceKind
from serambi_kit.logging import get_logger

from ..domain.audience import Audience, audience_of
from .context import Context
from .placement import _release_day, audience_ref

log = get_logger(__name__)


def orphaned(booking: dict, state: Audience | None) -> bool:
    if state is None:
        return False  # an audience always opens before its first booking: wait for it
    holds = state.placement is not None and state.placement.booking_id == booking["booking_id"]
    return state.version > booking["audience_version"] and not holds


async def release_orphans(ctx: Context, first: date, last: date) -> int:
    states: dict[str, Audience | None] = {}
    released = 0
    for booking in await ctx.bookings.bookings(first, last):
        audience_id = booking["audience_id"]
        if audience_id not in states:
            states[audience_id] = audience_of((await ctx.store.load(audience_ref(audience_id))).payloads)
        if orphaned(booking, states[audience_id]):
            await _release_day(
                ctx,
                ResourceKind(booking["resource"]),
                booking["resource_id"],
                booking["booking_id"],
                booking["starts_at"],
                "not held by its audience",
            )
            released += 1
    if released:
        log.warning("bookings.orphans_released", count=released)
    return released
