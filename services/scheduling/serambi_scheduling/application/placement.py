"""The booking protocol: how a slot is taken without ever double-booking (docs/scheduling.md).

1. Book the room-day, then the host-day (each: load → refuse an overlap → append with the
   aggregate's last sequence; a lost race reloads and re-checks). The booking carries the
   audience version it was made for.
2. Append the audience event that takes the booking, expecting the audience's last sequence
   (= that version).
3. Release what is no longer held: the new booking if step 2 lost (ConcurrencyError), the old one
   once step 2 moved the audience elsewhere, or cancelled/declined it.

A room or host is held only by an active booking of its day aggregate, and those never overlap;
an audience only ever points at a booking it made and that is still active. A crash between the
steps leaves at worst an unreferenced booking (capacity, never an overlap), which
``release_orphans`` frees.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from serambi_contracts import AggregateRef, Event
from serambi_contracts.scheduling import ResourceKind
from serambi_kit.eventstore import ConcurrencyError, decide_and_append, deterministic_id
from serambi_kit.logging import get_logger

from ..domain import bookings
from ..domain.audience import Audience, Placement, audience_of
from ..domain.bookings import Booking, day_ref
from ..domain.errors import SlotTakenError
from ..domain.rules import Slot
from ..domain.time import wib_day
from .context import Context

log = get_logger(__name__)
AUDIENCE_ATTEMPTS = 8
DAY_ATTEMPTS = 12


def audience_ref(audience_id: str) -> AggregateRef:
    return AggregateRef("scheduling", "audience", audience_id)


@dataclass(frozen=True, slots=True)
class Plan:
    """What a command decided: events to append to the audience, the booking it made for them
    (released if they cannot be appended), and the booking they free (released after)."""

    events: Sequence[Event]
    booked: Placement | None = None
    frees: Placement | None = None
    free_reason: str = ""
    event_ids: Sequence[str] | None = None


def _spans(history: list[Event], leaving_out: str | None = None) -> list[tuple]:
    """The day's active bookings as the scheduler's recent-days cache keeps them."""
    return [
        (b.starts_at, b.ends_at, b.audience_id)
        for b in bookings.active(history).values()
        if b.booking_id != leaving_out
    ]


async def _book_day(ctx: Context, kind: ResourceKind, resource_id: str, booking: Booking) -> None:
    ref = day_ref(kind, resource_id, wib_day(booking.starts_at))
    key = (kind.value, resource_id, wib_day(booking.starts_at))

    def decide(history: list[Event]) -> Sequence[Event]:
        try:
            return bookings.book(history, kind, resource_id, booking, ctx.rules.buffer)
        except SlotTakenError:
            ctx.recent.remember(key, _spans(history))
            raise

    executed = await decide_and_append(
        ctx.store,
        ref,
        decide,
        event_ids=lambda _: [deterministic_id("book", kind.value, booking.booking_id)],
        attempts=DAY_ATTEMPTS,
        base_delay=0.002,
        cached=False,
    )
    ctx.recent.remember(
        key, [*_spans(executed.before), (booking.starts_at, booking.ends_at, booking.audience_id)]
    )


async def _release_day(
    ctx: Context, kind: ResourceKind, resource_id: str, booking_id: str, starts_at, reason: str
) -> None:
    day = wib_day(starts_at)
    executed = await decide_and_append(
        ctx.store,
        day_ref(kind, resource_id, day),
        lambda history: bookings.release(history, kind, resource_id, day, booking_id, reason),
        event_ids=lambda _: [deterministic_id("release", kind.value, booking_id)],
        attempts=DAY_ATTEMPTS,
        base_delay=0.002,
        cached=False,
    )
    ctx.recent.remember((kind.value, resource_id, day), _spans(executed.before, leaving_out=booking_id))


async def release(ctx: Context, placement: Placement, reason: str) -> None:
    """Free the room and the host of a placement (idempotent)."""
    await _release_day(
        ctx, ResourceKind.HOST, placement.host_id, placement.booking_id, placement.starts_at, reason
    )
    await _release_day(
        ctx, ResourceKind.ROOM, placement.room_id, placement.booking_id, placement.starts_at, reason
    )


async def book(ctx: Context, state: Audience, slot: Slot) -> Placement:
    """Book the slot's room and host for ``state`` (raises SlotTakenError, having undone any
    half of it)."""
    booking_id = f"{state.audience_id}_{state.version}_{secrets.token_hex(4)}"
    booking = Booking(booking_id, state.audience_id, state.version, slot.starts_at, slot.ends_at)
    placement = Placement(
        booking_id,
        slot.starts_at,
        slot.ends_at,
        slot.room.room_id,
        slot.room.name,
        slot.host.host_id,
        slot.host.name,
        slot.room.location,
    )
    await _book_day(ctx, ResourceKind.ROOM, slot.room.room_id, booking)
    try:
        await _book_day(ctx, ResourceKind.HOST, slot.host.host_id, booking)
    except Exception:
        await _release_day(
            ctx, ResourceKind.ROOM, slot.room.room_id, booking_id, slot.starts_at, "host not available"
        )
        raise
    return placement


Step = Callable[[Audience | None, int], Awaitable[Plan]]


async def run(ctx: Context, audience_id: str, step: Step) -> tuple[Audience | None, Plan]:
    """Load the audience, let ``step`` decide (and book), append; retried when it lost a race.
    Returns the audience as it is after the command and the plan carried out."""
    ref = audience_ref(audience_id)
    for _ in range(AUDIENCE_ATTEMPTS):
        history = await ctx.store.load(ref)
        state = audience_of(history.payloads)
        plan = await step(state, history.version)
        if not plan.events:
            return state, plan
        try:
            await ctx.store.append(
                ref,
                plan.events,
                expected_sequence=history.last_sequence,
                expected_version=history.version,
                event_ids=plan.event_ids,
            )
        except ConcurrencyError:
            if plan.booked is not None:
                await release(ctx, plan.booked, "superseded: the audience changed meanwhile")
            log.info("audience.retry", audience_id=audience_id)
            continue
        if plan.frees is not None and (
            plan.booked is None or plan.frees.booking_id != plan.booked.booking_id
        ):
            await release(ctx, plan.frees, plan.free_reason or "no longer needed")
        return audience_of([*history.payloads, *plan.events]), plan
    raise ConcurrencyError(ref, -1, f"gave up after {AUDIENCE_ATTEMPTS} attempts")


def learned(view, taken: SlotTakenError) -> None:
    """Teach the search view what the store says a resource-day holds."""
    if taken.key is None:
        return
    view.replace(taken.key, [(b.starts_at, b.ends_at, b.audience_id) for b in taken.bookings])
