"""The host's day list: each working morning at 07.00 WIB, the audiences a hosting official
receives that day. Pure.

The list is decided when its morning comes, from the audiences then scheduled on the host's
bookings of the day: an audience cancelled or moved away before 07.00 is not in it, one moved
onto the day is. One list per host and day (HostDayListDue on ``scheduling.daylist.<host>-<day>``),
and only for a host with audiences that day. A list decided late (scheduling was down at 07.00)
holds only the audiences that have not started yet, and is not sent when none is left: no list of
audiences already over.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta

from serambi_calendar import WorkingCalendar
from serambi_contracts import AggregateRef, Event
from serambi_contracts.scheduling import DayListEntry, HostDayListDue

from .audience import Audience, Status
from .reminders import is_working_day
from .time import at, wib_day

LIST_AT = time(7, 0)  # WIB
CLOCK = "host_day_list"
TIMER_PREFIX = "host-day-list"
SEARCH_DAYS = 31


def daylist_ref(host_id: str, day: date) -> AggregateRef:
    return AggregateRef("scheduling", "daylist", f"{host_id}-{day:%Y%m%d}")


def timer_id(day: date) -> str:
    """One timer per morning (``host-day-list-YYYYMMDD``): arming the next morning's at 07.00
    never replaces this morning's before it has fired."""
    return f"{TIMER_PREFIX}-{day:%Y%m%d}"


def list_instant(day: date) -> datetime:
    return at(day, LIST_AT.hour, LIST_AT.minute)


def next_list_instant(calendar: WorkingCalendar, now: datetime) -> datetime:
    """07.00 WIB of the first working day whose list is still to come."""
    day = wib_day(now)
    for ahead in range(SEARCH_DAYS + 1):
        candidate = day + timedelta(days=ahead)
        if is_working_day(calendar, candidate) and list_instant(candidate) > now:
            return list_instant(candidate)
    raise ValueError(f"no working day in the {SEARCH_DAYS} days after {day}")


def due_on(calendar: WorkingCalendar, due_at: datetime, now: datetime) -> date | None:
    """The day whose list a timer firing for ``due_at`` makes due at ``now``: None when that day
    is not a working day (a calendar revision), or is over (the timer is handled too late)."""
    day = wib_day(due_at)
    if not is_working_day(calendar, day) or wib_day(now) != day:
        return None
    return day


def day_list(
    host_id: str,
    day: date,
    due_at: datetime,
    audiences: Iterable[tuple[str, Audience]],
    now: datetime | None = None,
) -> HostDayListDue | None:
    """The host's list from ``(booking id, audience)`` pairs of their bookings of the day: the
    audiences still scheduled on that booking and not started at ``now``, by start. None when
    there are none."""
    kept = sorted(
        (
            a
            for booking_id, a in audiences
            if a.status is Status.SCHEDULED
            and a.placement is not None
            and a.placement.booking_id == booking_id
            and a.placement.host_id == host_id
            and wib_day(a.placement.starts_at) == day
            and (now is None or a.placement.starts_at > now)
        ),
        key=lambda a: a.placement.starts_at if a.placement else due_at,
    )
    if not kept:
        return None
    entries = []
    for a in kept:
        p = a.placement
        assert p is not None
        entries.append(
            DayListEntry(
                audience_id=a.audience_id,
                request_tracking_code=a.request.request_tracking_code,
                starts_at=p.starts_at,
                ends_at=p.ends_at,
                room=p.room,
                location=p.location or None,
                institution=a.request.institution,
                participants=a.request.participants,
            )
        )
    first = kept[0].placement
    assert first is not None
    return HostDayListDue(host_id=host_id, host=first.host, day=day, due_at=due_at, audiences=entries[:50])


def decide(history: Sequence[Event], event: HostDayListDue) -> list[Event]:
    """Once per host and day."""
    return [] if any(isinstance(e, HostDayListDue) for e in history) else [event]
