"""Room-day and host-day booking aggregates: the single place where overlaps are refused. Pure.

One aggregate per resource and WIB day (``scheduling.roomday.<room>-<yyyymmdd>``). A booking is
accepted only if it overlaps no active booking of that aggregate (with the buffer on both sides);
the append carries the aggregate's last sequence, so of two concurrent bookings decided on the
same state only one lands (see docs/scheduling.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from serambi_contracts import AggregateRef, Event
from serambi_contracts.scheduling import ResourceKind, SlotBooked, SlotReleased

from .errors import SlotTakenError
from .time import wib, wib_day


@dataclass(frozen=True, slots=True)
class Booking:
    booking_id: str
    audience_id: str
    audience_version: int
    starts_at: datetime
    ends_at: datetime


def day_id(resource_id: str, day: date) -> str:
    return f"{resource_id}-{day:%Y%m%d}"


def day_ref(kind: ResourceKind, resource_id: str, day: date) -> AggregateRef:
    return AggregateRef("scheduling", f"{kind.value}day", day_id(resource_id, day))


def overlaps(
    a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime, buffer: timedelta
) -> bool:
    """Two meetings conflict unless ``buffer`` separates them."""
    return a_start < b_end + buffer and b_start < a_end + buffer


def active(history: Iterable[Event]) -> dict[str, Booking]:
    """The bookings that hold the resource now (booked and not released)."""
    out: dict[str, Booking] = {}
    for event in history:
        if isinstance(event, SlotBooked):
            out[event.booking_id] = Booking(
                event.booking_id, event.audience_id, event.audience_version, event.starts_at, event.ends_at
            )
        elif isinstance(event, SlotReleased):
            out.pop(event.booking_id, None)
    return out


def released_ids(history: Iterable[Event]) -> set[str]:
    return {e.booking_id for e in history if isinstance(e, SlotReleased)}


def book(
    history: Sequence[Event],
    kind: ResourceKind,
    resource_id: str,
    booking: Booking,
    buffer: timedelta,
) -> list[Event]:
    """Book ``booking`` on its day, or raise SlotTakenError (with the day's active bookings)."""
    day = wib_day(booking.starts_at)
    current = active(history)
    mine = current.get(booking.booking_id)
    if mine is not None and (mine.starts_at, mine.ends_at) == (booking.starts_at, booking.ends_at):
        return []  # already booked: a retried append
    conflicts = [
        b
        for b in current.values()
        if b.booking_id != booking.booking_id
        and b.audience_id != booking.audience_id
        and overlaps(b.starts_at, b.ends_at, booking.starts_at, booking.ends_at, buffer)
    ]
    if conflicts or mine is not None or booking.booking_id in released_ids(history):
        first = conflicts[0] if conflicts else mine
        raise SlotTakenError(
            f"{kind.value}_overlap",
            f"the {kind.value} {resource_id} is booked from {_hm(first)} (audience "
            f"{first.audience_id if first else '?'}), overlapping {_hm(booking)} "
            f"with its buffer of {int(buffer.total_seconds() // 60)} minutes",
            (kind.value, resource_id, day),
            tuple(current.values()),
        )
    return [
        SlotBooked(
            resource=kind,
            resource_id=resource_id,
            day=day,
            booking_id=booking.booking_id,
            audience_id=booking.audience_id,
            audience_version=booking.audience_version,
            starts_at=booking.starts_at,
            ends_at=booking.ends_at,
        )
    ]


def release(
    history: Sequence[Event],
    kind: ResourceKind,
    resource_id: str,
    day: date,
    booking_id: str,
    reason: str,
) -> list[Event]:
    """Free a booking; nothing if it is not active (released twice changes nothing)."""
    held = active(history).get(booking_id)
    if held is None:
        return []
    return [
        SlotReleased(
            resource=kind,
            resource_id=resource_id,
            day=day,
            booking_id=booking_id,
            audience_id=held.audience_id,
            reason=reason,
        )
    ]


def _hm(booking: Booking | None) -> str:
    if booking is None:
        return "?"
    return f"{wib(booking.starts_at):%H:%M}-{wib(booking.ends_at):%H:%M} WIB"
