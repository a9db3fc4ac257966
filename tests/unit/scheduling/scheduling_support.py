"""Support for scheduling's unit tests — use cases in memory: the in-memory event store, a booking view computed from it,
fake timers and letters, the packaged calendar and a fixed clock."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, date, datetime, timedelta

from serambi_calendar import WIB, SlaPolicy, WorkingCalendar, load_calendar
from serambi_contracts.base import Sealed
from serambi_contracts.intake import (
    DocumentRef,
    InstitutionType,
    IntakeChannel,
    Requester,
    RequestSubmitted,
)
from serambi_contracts.sla import ClockDue
from serambi_kit.eventstore import InMemoryEventStore, RecordedEvent
from serambi_scheduling.adapters.letters import render
from serambi_scheduling.application.context import Catalog, Context
from serambi_scheduling.domain import bookings
from serambi_scheduling.domain.resources import Host, Room
from serambi_scheduling.domain.rules import BusyView, Rules

# Monday 2 February 2026, 08:00 WIB: a plain working week follows (no holiday until 16 Feb).
MONDAY = datetime(2026, 2, 2, 8, 0, tzinfo=WIB)


def wib(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=WIB)


class MemoryBookings:
    """The booking view straight from the in-memory store (``stale`` pretends the read model
    has seen nothing yet, so every conflict is found by the aggregates)."""

    def __init__(self, store: InMemoryEventStore, stale: bool = False) -> None:
        self.store = store
        self.stale = stale

    def _active(self) -> list[tuple[str, str, bookings.Booking]]:
        by_ref: dict = {}
        for recorded in self.store.log:
            if recorded.ref.aggregate in ("roomday", "hostday"):
                by_ref.setdefault(recorded.ref, []).append(recorded.event)
        return [
            (ref.aggregate[:-3], ref.id[:-9], b)
            for ref, events in by_ref.items()
            for b in bookings.active(events).values()
        ]

    async def busy(self, days: Iterable[date]) -> BusyView:
        view = BusyView()
        if self.stale:
            return view
        for kind, resource_id, booking in self._active():
            view.add(kind, resource_id, booking.starts_at, booking.ends_at, booking.audience_id)
        return view

    async def bookings(self, first: date, last: date) -> list[dict]:
        return [
            {
                "resource": kind,
                "resource_id": resource_id,
                "booking_id": b.booking_id,
                "audience_id": b.audience_id,
                "audience_version": b.audience_version,
                "starts_at": b.starts_at,
                "ends_at": b.ends_at,
            }
            for kind, resource_id, b in self._active()
        ]


class FakeTimers:
    def __init__(self) -> None:
        self.armed: dict[str, ClockDue] = {}
        self.cancelled: list[str] = []

    async def arm(self, timer_id: str, due: ClockDue, *, event_id: str | None = None) -> None:
        self.armed[timer_id] = due

    async def cancel(self, timer_id: str) -> None:
        self.cancelled.append(timer_id)
        self.armed.pop(timer_id, None)

    async def scheduled(self, timer_id: str) -> ClockDue | None:
        return self.armed.get(timer_id)


class FakeLetters:
    def __init__(self) -> None:
        self.stored: dict[str, bytes] = {}
        self.keys: dict[str, str] = {}  # document id → the data key it would be sealed under

    async def put(self, audience_id: str, content: bytes, now: datetime, key: str) -> DocumentRef:
        digest = hashlib.sha256(content).hexdigest()
        document_id = "L" + digest[:32]
        self.stored[document_id] = content
        self.keys[document_id] = key
        return DocumentRef(
            document_id=document_id,
            kind="answer_letter",
            media_type="application/pdf",
            sha256=digest,
            size=len(content),
        )


def fake_sealed(key: str, value: str) -> Sealed:
    """A value 'sealed' reversibly (base64url, no secrecy) under ``key``, for FakeVault."""
    return Sealed(key=key, nonce="A" * 16, data=base64.urlsafe_b64encode(value.encode()).decode().rstrip("="))


class FakeVault:
    """Seals reversibly under the key given; an erased key reveals nothing (None)."""

    def __init__(self) -> None:
        self.erased: set[str] = set()

    async def seal(self, key: str, value: str) -> Sealed:
        if key in self.erased:
            raise KeyError(f"no data key {key} (erased?)")
        return fake_sealed(key, value)

    async def reveal(self, sealed: Sealed | dict | None) -> str | None:
        if sealed is None:
            return None
        sealed = Sealed.model_validate(sealed)
        if sealed.key in self.erased:
            return None
        return base64.urlsafe_b64decode(sealed.data + "=" * (-len(sealed.data) % 4)).decode()


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def memory_fetch(store: InMemoryEventStore):
    def fetch(subject_filter: str, from_sequence: int) -> AsyncIterator[RecordedEvent]:
        _, aggregate, _, _ = subject_filter.split(".")

        async def generate():
            for recorded in list(store.log):
                if recorded.sequence >= from_sequence and recorded.ref.aggregate == aggregate:
                    yield recorded

        return generate()

    return fetch


def make_context(
    calendar: WorkingCalendar,
    *,
    now: datetime = MONDAY,
    mode: str = "book",
    stale: bool = False,
    rules: Rules | None = None,
) -> Context:
    store = InMemoryEventStore()
    open_ids = lambda: _open(store)  # noqa: E731
    return Context(
        store=store,
        catalog=Catalog(memory_fetch(store)),
        bookings=MemoryBookings(store, stale),
        letters=FakeLetters(),
        render_letter=render,
        timers=FakeTimers(),
        open_audiences=open_ids,
        calendar=calendar,
        policy=SlaPolicy(),
        rules=rules or Rules(),
        mode=mode,
        now=Clock(now),
        vault=FakeVault(),
    )


async def _open(store: InMemoryEventStore) -> list[str]:
    from serambi_scheduling.domain.audience import audience_of

    ids = {r.ref.id for r in store.log if r.ref.aggregate == "audience"}
    out = []
    for audience_id in sorted(ids):
        state = audience_of(
            [r.event for r in store.log if r.ref.aggregate == "audience" and r.ref.id == audience_id]
        )
        if state is not None and state.clock_running:
            out.append(audience_id)
    return out


SEALED = Sealed(key="k1", nonce="AAAAAAAAAAAAAAAA", data="AAAA")


def submitted(
    code: str,
    *,
    participants: int = 5,
    proposed: tuple[date, ...] = (),
    at: datetime = MONDAY,
    calendar: WorkingCalendar | None = None,
    due: datetime | None = None,
) -> RequestSubmitted:
    if due is None:
        cal = calendar or load_calendar()
        due = cal.add_working_days(at, 3)
    return RequestSubmitted(
        tracking_code=code,
        channel=IntakeChannel.ONLINE,
        requester=Requester(
            name=SEALED,
            position="Sekretaris Dinas",
            institution="Dinas Perindustrian Kota Singkawang",
            institution_type=InstitutionType.LOCAL_GOVERNMENT,
            email=SEALED,
        ),
        topic=fake_sealed("k1", "Hilirisasi produk lada"),
        purpose=fake_sealed("k1", "Audiensi program hilirisasi."),
        participants=participants,
        proposed_dates=list(proposed),
        submitted_at=at,
        answer_due_at=due,
        access_token_sha256="0" * 64,
    )


async def with_resources(ctx: Context, rooms: Iterable[Room] = (), hosts: Iterable[Host] = ()) -> None:
    from serambi_scheduling.application import resources

    for room in rooms or [Room("R1", "Ruang Rapat 1", 20, "Lantai 2")]:
        await resources.register_room(ctx, room, "admin")
    for host in hosts or [Host("H1", "Ir. Budi", "Kepala Biro Perekonomian")]:
        await resources.register_host(ctx, host, "admin")


#: names of fields that would carry a requester's personal data
PERSONAL_NAMES = ("requester", "name", "email", "phone", "nik", "topic", "purpose", "address")


def personal_fields(event_class: type) -> list[str]:
    """What in an event's schema (nested models included) could hold personal data: a sealed
    value, or a field named like one. Empty for an event fit for a public subject."""
    import json as _json

    schema = event_class.model_json_schema()
    found = ["Sealed"] if "Sealed" in _json.dumps(schema) else []
    models = [schema, *schema.get("$defs", {}).values()]
    found += sorted(
        {name for model in models for name in model.get("properties", {}) if name in PERSONAL_NAMES}
    )
    return found
