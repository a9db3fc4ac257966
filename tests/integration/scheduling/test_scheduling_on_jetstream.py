"""Scheduling's booking protocol, read models and letters on real NATS JetStream and SecantusDB."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, date, datetime, timedelta

import nats
from serambi_calendar import WIB, SlaPolicy, load_calendar
from serambi_contracts.base import Sealed
from serambi_contracts.intake import InstitutionType, IntakeChannel, Requester, RequestSubmitted
from serambi_kit.eventstore import JetStreamEventStore, read_stream
from serambi_kit.pii import Vault
from serambi_kit.projections import projector_handler
from serambi_scheduling.adapters import queries
from serambi_scheduling.adapters.letters import LetterStore, render
from serambi_scheduling.adapters.projections import PROJECTIONS
from serambi_scheduling.application import commands, resources
from serambi_scheduling.application.context import Catalog, Context
from serambi_scheduling.domain import bookings
from serambi_scheduling.domain.audience import Status
from serambi_scheduling.domain.resources import Host, Room
from serambi_scheduling.domain.rules import Rules

CALENDAR = load_calendar(years=range(2025, 2028))
NOW = datetime(2026, 2, 2, 8, 0, tzinfo=WIB).astimezone(UTC)
SEALED = Sealed(key="k1", nonce="AAAAAAAAAAAAAAAA", data="AAAA")


class NoTimers:
    async def arm(self, timer_id, due) -> None: ...

    async def cancel(self, timer_id) -> None: ...


def replica(nc, db) -> Context:
    """One scheduling replica's context: its own connection, store cache and catalogue."""
    store = JetStreamEventStore(nc, "/serambi/scheduling")

    def fetch(subject_filter: str, from_sequence: int):
        kind = subject_filter.split(".")[1]
        return read_stream(nc, "SCHEDULING", f"scheduling.{kind}.*.*", from_sequence=from_sequence)

    async def no_open() -> list[str]:
        return []

    vault = Vault(db, os.urandom(32))
    return Context(
        store=store,
        catalog=Catalog(fetch),
        bookings=queries.MongoBookingSource(db),
        letters=LetterStore(db, "test-secret", vault),
        render_letter=render,
        timers=NoTimers(),
        open_audiences=no_open,
        calendar=CALENDAR,
        policy=SlaPolicy(),
        rules=Rules(),
        now=lambda: NOW,
        vault=vault,
    )


def request(code: str, day: date) -> RequestSubmitted:
    return RequestSubmitted(
        tracking_code=code,
        channel=IntakeChannel.ONLINE,
        requester=Requester(
            name=SEALED,
            position="Kepala Dinas",
            institution="Dinas Koperasi",
            institution_type=InstitutionType.LOCAL_GOVERNMENT,
            email=SEALED,
        ),
        topic=SEALED,
        purpose=SEALED,
        participants=4,
        proposed_dates=[day],
        submitted_at=NOW,
        answer_due_at=CALENDAR.add_working_days(NOW, 3),
        access_token_sha256="0" * 64,
    )


async def place(ctx: Context, req: RequestSubmitted):
    await commands.open_request(ctx, req, f"cause-{req.tracking_code}")
    return await commands.place_automatically(ctx, req.tracking_code, f"cause-{req.tracking_code}")


async def test_two_replicas_racing_for_one_day_never_double_book_a_room_or_host(
    nc, nats_url, mongo_db, unique_id
):
    other = await nats.connect(nats_url)
    try:
        one, two = replica(nc, mongo_db), replica(other, mongo_db)
        room, host = f"R{unique_id}", f"H{unique_id}"
        await resources.register_room(one, Room(room, "Ruang", 20, "Lt 2"), "admin")
        await resources.register_host(one, Host(host, "Ir. Budi", "Kabiro"), "admin")
        await two.catalog.refresh()
        # Only this test's room and host take part (the stream is shared with other tests).
        for ctx in (one, two):
            ctx.catalog.rooms = {room: ctx.catalog.rooms[room]}
            ctx.catalog.hosts = {host: ctx.catalog.hosts[host]}
            ctx.catalog.refresh = _frozen(ctx.catalog)
        day = date(2026, 2, 4)
        codes = [f"AUD-{unique_id}-{n:03d}" for n in range(20)]
        results = await asyncio.gather(
            *(place(one if n % 2 else two, request(code, day)) for n, code in enumerate(codes))
        )
    finally:
        await other.drain()
    scheduled = [r for r in results if r.status is Status.SCHEDULED]
    assert {r.status for r in results} <= {Status.SCHEDULED, Status.REFERRED}
    assert len(scheduled) == 3  # 09:00, 10:30, 13:00: the day is full, and nothing overlaps
    held = {}
    for kind, resource in (("roomday", room), ("hostday", host)):
        events = [
            r.event async for r in read_stream(nc, "SCHEDULING", f"scheduling.{kind}.{resource}-20260204.*")
        ]
        held[kind] = sorted((b.starts_at, b.ends_at) for b in bookings.active(events).values())
    assert (
        held["roomday"]
        == held["hostday"]
        == sorted((r.placement.starts_at, r.placement.ends_at) for r in scheduled)
    )
    for (_, end), (start, _) in zip(held["roomday"], held["roomday"][1:], strict=False):
        assert end + timedelta(minutes=15) <= start


def _frozen(catalog: Catalog):
    async def refresh(*, force: bool = True) -> Catalog:
        return catalog

    return refresh


async def test_the_read_models_show_the_queue_the_calendars_and_the_booking_view(nc, mongo_db, unique_id):
    ctx = replica(nc, mongo_db)
    room, host = f"R{unique_id}", f"H{unique_id}"
    await resources.register_room(ctx, Room(room, "Ruang", 20, "Lt 2"), "admin")
    await resources.register_host(ctx, Host(host, "Ir. Budi", "Kabiro"), "admin")
    ctx.catalog.rooms = {room: ctx.catalog.rooms[room]}
    ctx.catalog.hosts = {host: ctx.catalog.hosts[host]}
    ctx.catalog.refresh = _frozen(ctx.catalog)
    booked = await place(ctx, request(f"AUD-{unique_id}-1", date(2026, 2, 4)))
    referred = await place(ctx, request(f"AUD-{unique_id}-2", date(2026, 2, 7)))  # a Saturday
    handlers = [projector_handler(p, lambda: mongo_db) for p in PROJECTIONS]
    async for recorded in read_stream(nc, "SCHEDULING", "scheduling.>"):
        if unique_id in recorded.ref.id:  # this test's aggregates only
            for handle in handlers:
                await handle(recorded)
    queue = (await queries.officer_queue(mongo_db, ctx.vault, "pending"))["items"]
    assert [item["audience_id"] for item in queue] == [referred.audience_id]
    assert queue[0]["queue"] == "pending" and queue[0]["status"] == "referred"
    rows = await queries.calendar(mongo_db, ctx.vault, date(2026, 2, 4), date(2026, 2, 4), "room", room)
    assert [(row["audience_id"], row["starts_at"], row["audience_status"]) for row in rows] == [
        (booked.audience_id, "2026-02-04T09:00:00+07:00", "scheduled")
    ]
    view = await ctx.bookings.busy([date(2026, 2, 4)])
    assert view.of("host", host, date(2026, 2, 4)) == [
        (booked.placement.starts_at, booked.placement.ends_at, booked.audience_id)
    ]
    details = await queries.audience_details(mongo_db, ctx.vault, booked.audience_id)
    assert details["status"] == "scheduled" and details["answer_letter"]["media_type"] == "application/pdf"
    assert [step["step"] for step in details["timeline"]] == ["requested", "scheduled"]


async def test_a_letter_is_stored_once_under_an_unguessable_id(mongo_db):
    vault = Vault(mongo_db, os.urandom(32))
    key = await vault.new_subject()
    store = LetterStore(mongo_db, "secret-1", vault)
    first = await store.put("AUD-1", b"%PDF-1.4 one", NOW, key)
    again = await store.put("AUD-1", b"%PDF-1.4 one", NOW, key)
    assert first == again and first.document_id.startswith("L") and len(first.document_id) == 33
    assert LetterStore(mongo_db, "secret-2", vault).document_id("AUD-1", first.sha256) != first.document_id
    stored = await store.read(first.document_id)
    assert stored.content == b"%PDF-1.4 one" and stored.audience_id == "AUD-1"
    assert await mongo_db["letters"].count_documents({}) == 1
