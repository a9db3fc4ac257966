"""Slot rules and the automatic search for the earliest slot. Pure (the calendar is a value).

A slot is valid when (rule names are what a refusal reports):
- ``in_past``: it does not start before now;
- ``non_working_day`` / ``working_time``: it lies inside one working period of a working day
  (not across the lunch break, never on a weekend, holiday or cuti bersama);
- ``unknown_room`` / ``unknown_host`` / ``inactive_room`` / ``inactive_host``;
- ``room_capacity``: the room seats the participants;
- ``host_leave`` / ``host_availability``: the host is not on leave and is available then;
- ``room_overlap`` / ``host_overlap`` (409): no booking of the room or host overlaps it,
  including the buffer on both sides.
An automatic proposal also keeps the minimum notice and the audience hours, starts on the slot
grid and prefers the requester's proposed dates (docs/scheduling.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from serambi_calendar import WIB, WorkingCalendar

from .bookings import overlaps
from .errors import SlotRuleError, SlotTakenError
from .resources import Host, Room
from .time import wib, wib_day

Interval = tuple[datetime, datetime]
BusyKey = tuple[str, str, date]  # ("room"|"host", resource id, WIB day)
Busy = tuple[datetime, datetime, str]  # start, end, audience id


@dataclass(frozen=True, slots=True)
class Rules:
    meeting: timedelta = timedelta(minutes=60)
    buffer: timedelta = timedelta(minutes=15)
    step: timedelta = timedelta(minutes=30)
    notice: tuple[str, int] = ("d", 1)  # ("d", N): from the Nth working day; ("h", N): N working hours
    day_start: time = time(9, 0)
    day_end: time = time(15, 0)
    horizon_days: int = 15
    max_advance: timedelta = timedelta(days=366)  # proposed dates further ahead are ignored


@dataclass(frozen=True, slots=True)
class Slot:
    starts_at: datetime
    ends_at: datetime
    room: Room
    host: Host


@dataclass
class BusyView:
    """What is booked, per (kind, resource, day): (start, end, audience id). Learns from refused
    bookings (``replace``) while an automatic search runs."""

    intervals: dict[BusyKey, list[Busy]] = field(default_factory=dict)
    _stamps: dict[BusyKey, list[tuple[float, float]]] = field(default_factory=dict, repr=False)

    def stamps(self, kind: str, resource_id: str, day: date) -> list[tuple[float, float]]:
        """The day's intervals as POSIX seconds (what the search compares, fast)."""
        key = (kind, resource_id, day)
        if key not in self._stamps:
            self._stamps[key] = [(s.timestamp(), e.timestamp()) for s, e, _ in self.of(*key)]
        return self._stamps[key]

    def of(self, kind: str, resource_id: str, day: date) -> Sequence[Busy]:
        return self.intervals.get((kind, resource_id, day), ())

    def add(self, kind: str, resource_id: str, start: datetime, end: datetime, audience_id: str = "") -> None:
        key = (kind, resource_id, wib_day(start))
        self.intervals.setdefault(key, []).append((start, end, audience_id))
        self._stamps.pop(key, None)

    def extend(self, key: BusyKey, intervals: Iterable[Busy]) -> None:
        known = self.intervals.setdefault(key, [])
        known.extend(i for i in intervals if i not in known)
        self._stamps.pop(key, None)

    def replace(self, key: BusyKey, intervals: Iterable[Busy]) -> None:
        self.intervals[key] = list(intervals)
        self._stamps.pop(key, None)

    def free(
        self,
        kind: str,
        resource_id: str,
        start: datetime,
        end: datetime,
        buffer: timedelta,
        ignore: str | None = None,
    ) -> bool:
        """No booking (of another audience than ``ignore``) overlaps, buffer included."""
        return not any(
            overlaps(s, e, start, end, buffer)
            for s, e, owner in self.of(kind, resource_id, wib_day(start))
            if ignore is None or owner != ignore
        )


@dataclass(frozen=True, slots=True)
class Request:
    """What the search needs to know of an audience request."""

    participants: int
    proposed_dates: tuple[date, ...] = ()
    submitted_at: datetime | None = None


def earliest_start(now: datetime, calendar: WorkingCalendar, rules: Rules) -> datetime:
    """The first instant an automatic proposal may start (minimum notice)."""
    kind, amount = rules.notice
    if kind == "h":
        return calendar.add_working_time(now, timedelta(hours=amount))
    if amount == 0:
        return now
    day = wib_day(calendar.add_working_days(now, amount))
    return max(now, calendar.working_periods(day)[0][0])


def period_of(calendar: WorkingCalendar, start: datetime, end: datetime) -> Interval | None:
    for period in calendar.working_periods(wib_day(start)):
        if period[0] <= start and end <= period[1]:
            return period
    return None


def check(
    slot_start: datetime,
    slot_end: datetime,
    room: Room | None,
    host: Host | None,
    participants: int,
    *,
    room_id: str,
    host_id: str,
    calendar: WorkingCalendar,
    busy: BusyView,
    buffer: timedelta,
    now: datetime,
    audience_id: str | None = None,
) -> None:
    """Raise SlotRuleError (422) or SlotTakenError (409) when the slot breaks a rule."""
    if slot_end <= slot_start:
        raise SlotRuleError("slot_length", "a slot must end after it starts")
    if slot_start < now:
        raise SlotRuleError("in_past", f"the slot starts in the past ({wib(slot_start):%Y-%m-%d %H:%M} WIB)")
    day = wib_day(slot_start)
    if not calendar.working_periods(day):
        name = next((e.name for e in calendar.non_working_days(day.year) if e.date == day), "")
        why = f" ({name})" if name else " (weekend)" if day.isoweekday() > 5 else ""
        raise SlotRuleError("non_working_day", f"{day.isoformat()} is not a working day{why}")
    if period_of(calendar, slot_start, slot_end) is None:
        spans = ", ".join(f"{wib(a):%H:%M}-{wib(b):%H:%M}" for a, b in calendar.working_periods(day))
        raise SlotRuleError(
            "working_time",
            f"{wib(slot_start):%H:%M}-{wib(slot_end):%H:%M} WIB is not inside one working period "
            f"of {day.isoformat()} ({spans} WIB)",
        )
    if room is None:
        raise SlotRuleError("unknown_room", f"no room {room_id}")
    if host is None:
        raise SlotRuleError("unknown_host", f"no host {host_id}")
    if not room.active:
        raise SlotRuleError("inactive_room", f"room {room.room_id} is not in use")
    if not host.active:
        raise SlotRuleError("inactive_host", f"host {host.host_id} is not receiving audiences")
    if participants > room.capacity:
        raise SlotRuleError(
            "room_capacity", f"room {room.room_id} seats {room.capacity}, the request has {participants}"
        )
    if (leave := host.on_leave(day)) is not None:
        raise SlotRuleError(
            "host_leave", f"host {host.host_id} is on leave {leave.first_day}..{leave.last_day}"
        )
    if not host.available(wib(slot_start), wib(slot_end)):
        raise SlotRuleError("host_availability", f"host {host.host_id} is not available then")
    for kind, resource_id in (("room", room.room_id), ("host", host.host_id)):
        if not busy.free(kind, resource_id, slot_start, slot_end, buffer, ignore=audience_id):
            raise SlotTakenError(
                f"{kind}_overlap",
                f"the {kind} {resource_id} is booked at an "
                f"overlapping time (buffer {int(buffer.total_seconds() // 60)} min)",
            )


def _days(
    request: Request, first: date, calendar: WorkingCalendar, rules: Rules
) -> list[tuple[date, tuple[Interval, ...]]]:
    """The days to search, each with its working periods."""
    if request.proposed_dates:
        last = first + rules.max_advance
        days = sorted(d for d in set(request.proposed_dates) if first <= d <= last)
        return [(d, calendar.working_periods(d)) for d in days]
    out: list[tuple[date, tuple[Interval, ...]]] = []
    day = first
    while len(out) < rules.horizon_days and day <= first + rules.max_advance:
        if periods := calendar.working_periods(day):
            out.append((day, periods))
        day += timedelta(days=1)
    return out


def _starts(day: date, periods: Sequence[Interval], earliest: datetime, rules: Rules) -> Iterator[Interval]:
    """Candidate (start, end) on the day's grid, inside audience hours and one working period."""
    grid0 = datetime.combine(day, rules.day_start, tzinfo=WIB)
    window_end = datetime.combine(day, rules.day_end, tzinfo=WIB)
    for period_start, period_end in periods:
        lower = max(period_start, earliest, grid0)
        upper = min(period_end, window_end)
        steps = max(0, -(-(lower - grid0) // rules.step))
        start = grid0 + steps * rules.step
        while start + rules.meeting <= upper:
            yield start, start + rules.meeting
            start += rules.step


def _clear(intervals: Sequence[tuple[float, float]], start: float, end: float) -> bool:
    """No interval within the buffer: ``start``/``end`` come already widened by it."""
    for s, e in intervals:
        if s < end and start < e:
            return False
    return True


def find_slot(
    request: Request,
    rooms: Iterable[Room],
    hosts: Iterable[Host],
    busy: BusyView,
    calendar: WorkingCalendar,
    rules: Rules,
    now: datetime,
) -> Slot | str:
    """The earliest valid slot (proposed dates first when given), or why there is none."""
    fitting = sorted(
        (r for r in rooms if r.active and r.capacity >= request.participants),
        key=lambda r: (r.capacity, r.room_id),
    )
    active_hosts = sorted((h for h in hosts if h.active), key=lambda h: h.host_id)
    if not fitting:
        return f"no room in use seats {request.participants} participants"
    if not active_hosts:
        return "no hosting official is registered"
    earliest = earliest_start(now, calendar, rules)
    days = _days(request, wib_day(earliest), calendar, rules)
    pad = rules.buffer.total_seconds()
    for day, periods in days:
        hosts_today = [h for h in active_hosts if h.on_leave(day) is None]
        room_busy = [(r, busy.stamps("room", r.room_id, day)) for r in fitting]
        host_busy = [(h, busy.stamps("host", h.host_id, day)) for h in hosts_today]
        for start, end in _starts(day, periods, earliest, rules):
            lo, hi = start.timestamp() - pad, end.timestamp() + pad
            room = next((r for r, taken in room_busy if _clear(taken, lo, hi)), None)
            if room is None:
                continue
            host = next(
                (h for h, taken in host_busy if _clear(taken, lo, hi) and h.available(start, end)), None
            )
            if host is not None:
                return Slot(start.astimezone(UTC), end.astimezone(UTC), room, host)
    if request.proposed_dates:
        return "no free slot on the proposed dates " + ", ".join(
            d.isoformat() for d in sorted(set(request.proposed_dates))
        )
    return f"no free slot in the next {rules.horizon_days} working days"
