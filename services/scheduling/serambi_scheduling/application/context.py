"""What the use cases work with: the event store, the resource catalogue, the booking view, the
letter store and its renderer, and the timers — as small interfaces, so unit tests run them in memory."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from serambi_calendar import SlaPolicy, WorkingCalendar, utc_now
from serambi_contracts.intake import DocumentRef
from serambi_contracts.sla import ClockDue
from serambi_kit.eventstore import EventStore, RecordedEvent

from ..domain.audience import Placement
from ..domain.resources import Host, Room, evolve_host, evolve_room
from ..domain.rules import Busy, BusyKey, BusyView, Rules
from ..settings import SchedulingSettings

Fetch = Callable[[str, int], AsyncIterator[RecordedEvent]]


class Catalog:
    """Rooms and hosts, kept current from the SCHEDULING stream (``scheduling.room.*.*`` and
    ``scheduling.host.*.*``) by reading only what is new since the last refresh."""

    def __init__(self, fetch: Fetch, min_interval: float = 0.0) -> None:
        self._fetch = fetch
        self.rooms: dict[str, Room] = {}
        self.hosts: dict[str, Host] = {}
        self._last = {"room": 0, "host": 0}
        self._lock = asyncio.Lock()
        self._refreshed = -1e9
        self._min_interval = min_interval

    async def refresh(self, *, force: bool = True) -> Catalog:
        loop = asyncio.get_running_loop()
        if not force and loop.time() - self._refreshed < self._min_interval:
            return self
        async with self._lock:
            for kind in ("room", "host"):
                async for recorded in self._fetch(f"scheduling.{kind}.*.*", self._last[kind] + 1):
                    if kind == "room":
                        room = evolve_room(self.rooms.get(recorded.ref.id), recorded.event)
                        if room is not None:
                            self.rooms[room.room_id] = room
                    else:
                        host = evolve_host(self.hosts.get(recorded.ref.id), recorded.event)
                        if host is not None:
                            self.hosts[host.host_id] = host
                    self._last[kind] = recorded.sequence
            self._refreshed = loop.time()
        return self


class RecentBookings:
    """What this process last saw on the day aggregates it booked on (their truth at that
    moment), merged into the read model's view for a while: the read model lags behind a burst
    of this process's own bookings, and searching on it alone would retry slot after slot."""

    def __init__(self, ttl_seconds: float = 30.0) -> None:
        self.ttl = ttl_seconds
        self._days: dict[BusyKey, tuple[float, list[Busy]]] = {}

    def remember(self, key: BusyKey, intervals: Iterable[Busy]) -> None:
        self._days[key] = (time.monotonic(), list(intervals))

    def merge_into(self, view: BusyView) -> BusyView:
        now = time.monotonic()
        for key, (seen, intervals) in list(self._days.items()):
            if now - seen > self.ttl:
                del self._days[key]
                continue
            view.extend(key, intervals)
        return view


class BookingSource(Protocol):
    async def busy(self, days: Iterable[date]) -> BusyView: ...

    async def bookings(self, first: date, last: date) -> list[dict]:
        """Active bookings between two days: resource, resource_id, day, booking_id, audience_id,
        audience_version, starts_at, ends_at."""
        ...


@dataclass(frozen=True, slots=True)
class LetterContent:
    """What an answer letter says (``LetterRenderer`` lays it out)."""

    kind: str  # "scheduled" | "rescheduled" | "declined"
    reference: str
    issued_at: datetime
    institution: str
    requester_position: str
    topic: str | None  # None once the requester's personal data was erased: the letter omits it
    submitted_at: datetime
    participants: int
    signatory: str
    placement: Placement | None = None
    previous: tuple[datetime, datetime] | None = None
    reason: str | None = None


class LetterRenderer(Protocol):
    def __call__(self, content: LetterContent) -> bytes:
        """The letter as a document (adapters/letters.py: ``render``, a PDF)."""
        ...


class LetterPort(Protocol):
    async def put(self, audience_id: str, content: bytes, now: datetime, key: str) -> DocumentRef:
        """Store a letter sealed under the requester's data key ``key``."""
        ...


class TimerPort(Protocol):
    async def arm(self, timer_id: str, due: ClockDue, *, event_id: str | None = None) -> None: ...

    async def cancel(self, timer_id: str) -> None: ...

    async def scheduled(self, timer_id: str) -> ClockDue | None:
        """What the timer will fire, or None when none waits."""
        ...


class OpenAudiences(Protocol):
    async def __call__(self) -> list[str]:
        """Ids of audiences whose answer clock may still run (from the read model)."""
        ...


async def no_audiences() -> list[str]:
    return []


@dataclass
class Context:
    store: EventStore
    catalog: Catalog
    bookings: BookingSource
    letters: LetterPort
    render_letter: LetterRenderer
    timers: TimerPort
    open_audiences: OpenAudiences
    calendar: WorkingCalendar
    policy: SlaPolicy
    rules: Rules
    mode: str = "book"
    signatory: str = "Kepala Biro Perekonomian"
    now: Callable[[], datetime] = field(default=utc_now)
    recent: RecentBookings = field(default_factory=RecentBookings)
    # the personal-data vault (serambi_kit.pii.Vault): the topic is revealed for answer letters,
    # officers' notes and cancellation reasons are sealed under the requester's key
    vault: Any = None
    # ids of audiences scheduled in the future (from the read model): their reminders' sweep
    upcoming_audiences: OpenAudiences = no_audiences


def rules_from(settings: SchedulingSettings) -> Rules:
    start, end = settings.hours
    return Rules(
        meeting=timedelta(minutes=settings.meeting_minutes),
        buffer=timedelta(minutes=settings.buffer_minutes),
        step=timedelta(minutes=settings.slot_step_minutes),
        notice=settings.notice,
        day_start=start,
        day_end=end,
        horizon_days=settings.horizon_working_days,
    )
