"""Scheduling's use cases against the in-memory event store: placement, officer decisions,
withdrawal, the booking protocol under interleaving, orphans and the answer clock."""

from __future__ import annotations

import asyncio
import random
from datetime import date, timedelta

import pytest
from scheduling_support import MONDAY, Clock, make_context, submitted, wib, with_resources
from serambi_contracts.scheduling import (
    AudienceProposed,
    AudienceReferred,
    AudienceRequested,
    AudienceScheduled,
    ResourceKind,
    SlotBooked,
)
from serambi_contracts.sla import ClockDue, SLABreached, SLAWarning
from serambi_kit.eventstore import InMemoryEventStore
from serambi_scheduling.application import commands, placement, reconcile, sla
from serambi_scheduling.application.commands import SlotChoice
from serambi_scheduling.domain import bookings
from serambi_scheduling.domain.audience import Status, audience_of
from serambi_scheduling.domain.errors import SlotRuleError, SlotTakenError, StateError
from serambi_scheduling.domain.resources import Host, Room
from serambi_scheduling.domain.time import wib as to_wib


async def submit(ctx, code: str, **options) -> object:
    request = submitted(code, calendar=ctx.calendar, **options)
    await commands.open_request(ctx, request, f"cause-{code}")
    return await commands.place_automatically(ctx, code, f"cause-{code}")


def names(ctx, aggregate: str = "audience", id_: str | None = None) -> list[str]:
    return [
        type(r.event).__name__
        for r in ctx.store.log
        if r.ref.aggregate == aggregate and (id_ is None or r.ref.id == id_)
    ]


def active_bookings(ctx) -> list[tuple[str, str, bookings.Booking]]:
    by_ref: dict = {}
    for recorded in ctx.store.log:
        if recorded.ref.aggregate in ("roomday", "hostday"):
            by_ref.setdefault(recorded.ref, []).append(recorded.event)
    return [
        (ref.aggregate, ref.id[:-9], b)
        for ref, events in by_ref.items()
        for b in bookings.active(events).values()
    ]


def assert_no_double_booking(ctx) -> None:
    held = active_bookings(ctx)
    for i, (kind, resource, x) in enumerate(held):
        for other_kind, other_resource, y in held[i + 1 :]:
            if (kind, resource) == (other_kind, other_resource) and x.audience_id != y.audience_id:
                assert not bookings.overlaps(
                    x.starts_at, x.ends_at, y.starts_at, y.ends_at, ctx.rules.buffer
                ), (x, y)


async def test_a_submitted_request_is_booked_at_nine_the_next_working_day_with_a_letter(ctx):
    await with_resources(ctx)
    state = await submit(ctx, "AUD-2026-000001")
    assert state.status is Status.SCHEDULED
    assert to_wib(state.placement.starts_at) == wib("2026-02-03 09:00")
    assert names(ctx) == ["AudienceRequested", "AudienceScheduled"]
    [scheduled] = [r.event for r in ctx.store.log if isinstance(r.event, AudienceScheduled)]
    assert scheduled.room_id == "R1" and scheduled.host_id == "H1"
    assert scheduled.answer_letter.media_type == "application/pdf"
    assert scheduled.answer_letter.document_id in ctx.letters.stored
    assert {(kind, resource) for kind, resource, _ in active_bookings(ctx)} == {
        ("roomday", "R1"),
        ("hostday", "H1"),
    }


async def test_a_redelivered_request_changes_nothing(ctx):
    await with_resources(ctx)
    await submit(ctx, "AUD-2026-000001")
    before = len(ctx.store.log)
    again = await submit(ctx, "AUD-2026-000001")
    assert len(ctx.store.log) == before and again.status is Status.SCHEDULED


async def test_in_hold_mode_the_proposal_waits_for_an_officer_and_keeps_its_slot(calendar):
    ctx = make_context(calendar, mode="hold")
    await with_resources(ctx)
    proposed = await submit(ctx, "AUD-2026-000001")
    assert proposed.status is Status.PROPOSED and proposed.clock_running
    other = await submit(ctx, "AUD-2026-000002")
    assert other.placement.starts_at > proposed.placement.starts_at  # the held slot is taken
    confirmed = await commands.confirm(ctx, "AUD-2026-000001", "officer-1")
    assert confirmed.status is Status.SCHEDULED
    assert confirmed.placement == proposed.placement and confirmed.letter is not None
    assert "AUD-2026-000001-breach" in ctx.timers.cancelled


async def test_when_nothing_fits_the_request_is_referred_and_an_officer_chooses_a_slot(ctx):
    await with_resources(ctx)
    referred = await submit(ctx, "AUD-2026-000001", participants=50)
    assert referred.status is Status.REFERRED
    [event] = [r.event for r in ctx.store.log if isinstance(r.event, AudienceReferred)]
    assert "seats 50" in event.reason
    await commands.place_automatically(ctx, "AUD-2026-000001", "again")  # no second attempt
    assert names(ctx).count("AudienceReferred") == 1
    big = Room("AULA", "Aula", 80, "Lantai 1")
    await with_resources(ctx, rooms=[big], hosts=[Host("H2", "Dra. Sari", "Kabag")])
    chosen = await commands.choose_slot(
        ctx, "AUD-2026-000001", SlotChoice("AULA", "H2", wib("2026-02-04 13:00")), "officer-1"
    )
    assert chosen.status is Status.SCHEDULED
    assert to_wib(chosen.placement.ends_at) == wib("2026-02-04 14:00")


@pytest.mark.parametrize(
    ("choice", "rule"),
    [
        (SlotChoice("R1", "H1", wib("2026-02-07 09:00")), "non_working_day"),
        (SlotChoice("R1", "H1", wib("2026-02-04 11:30")), "working_time"),
        (SlotChoice("R1", "H1", wib("2026-01-30 09:00")), "in_past"),
        (SlotChoice("NOPE", "H1", wib("2026-02-04 09:00")), "unknown_room"),
        (SlotChoice("R1", "NOPE", wib("2026-02-04 09:00")), "unknown_host"),
    ],
)
async def test_an_officers_invalid_slot_is_refused_by_rule_without_side_effects(ctx, choice, rule):
    await with_resources(ctx)
    await submit(ctx, "AUD-2026-000001", participants=50)  # referred
    before = list(ctx.store.log)
    with pytest.raises(SlotRuleError) as refused:
        await commands.choose_slot(ctx, "AUD-2026-000001", choice, "officer-1")
    assert refused.value.rule == rule
    assert ctx.store.log == before


async def test_an_officers_slot_that_overlaps_another_audience_is_refused(ctx):
    await with_resources(ctx, rooms=[Room("R1", "r", 100, "l")])
    first = await submit(ctx, "AUD-2026-000001")
    await submit(ctx, "AUD-2026-000002", proposed=(date(2026, 2, 7),))  # a Saturday: referred
    before = len(ctx.store.log)
    overlapping = SlotChoice("R1", "H1", first.placement.starts_at + timedelta(minutes=30))
    with pytest.raises(SlotTakenError, match="room R1"):
        await commands.choose_slot(ctx, "AUD-2026-000002", overlapping, "officer-1")
    assert len(ctx.store.log) == before


async def test_a_command_in_the_wrong_state_is_refused_without_side_effects(ctx):
    await with_resources(ctx)
    await submit(ctx, "AUD-2026-000001")
    before = list(ctx.store.log)
    with pytest.raises(StateError, match="it is scheduled"):
        await commands.confirm(ctx, "AUD-2026-000001", "officer-1")
    with pytest.raises(StateError, match="it is scheduled"):
        await commands.decline(ctx, "AUD-2026-000001", "busy", "officer-1")
    with pytest.raises(StateError, match="it is scheduled"):
        await commands.choose_slot(
            ctx, "AUD-2026-000001", SlotChoice("R1", "H1", wib("2026-02-05 09:00")), "o"
        )
    assert ctx.store.log == before


async def test_rescheduling_moves_the_booking_and_frees_the_old_slot(ctx):
    await with_resources(ctx)
    first = await submit(ctx, "AUD-2026-000001")
    moved = await commands.reschedule(
        ctx,
        "AUD-2026-000001",
        SlotChoice("R1", "H1", first.placement.starts_at + timedelta(minutes=30)),
        "permintaan pemohon",
        "officer-1",
    )
    assert moved.placement.starts_at == first.placement.starts_at + timedelta(minutes=30)
    assert {b.booking_id for _, _, b in active_bookings(ctx)} == {moved.placement.booking_id}
    second = await submit(ctx, "AUD-2026-000002")
    assert second.placement.starts_at >= moved.placement.ends_at + ctx.rules.buffer


async def test_declining_and_cancelling_free_the_slot_and_a_withdrawal_cancels_once(calendar):
    ctx = make_context(calendar, mode="hold")
    await with_resources(ctx)
    await submit(ctx, "AUD-2026-000001")
    declined = await commands.decline(ctx, "AUD-2026-000001", "pimpinan dinas luar", "officer-1")
    assert declined.status is Status.DECLINED and declined.letter is not None
    assert active_bookings(ctx) == []
    await submit(ctx, "AUD-2026-000002")
    await commands.confirm(ctx, "AUD-2026-000002", "officer-1")
    await commands.withdraw(ctx, "AUD-2026-000002", "w-1")
    await commands.withdraw(ctx, "AUD-2026-000002", "w-1")
    assert names(ctx, id_="AUD-2026-000002").count("AudienceCancelled") == 1
    [cancelled] = [
        e
        for e in (await ctx.store.load(placement.audience_ref("AUD-2026-000002"))).payloads
        if type(e).__name__ == "AudienceCancelled"
    ]
    assert cancelled.reason == "withdrawn by the requester"  # never the requester's own words
    assert active_bookings(ctx) == []
    with pytest.raises(commands.NotOpenedYetError):
        await commands.withdraw(ctx, "AUD-2026-000099", "w-2")


class InterleavingStore(InMemoryEventStore):
    """Yields to other tasks between reading an aggregate and appending to it, so concurrent
    commands really race (as two replicas would)."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self.random = random.Random(seed)
        self.appending = False

    async def load(self, ref, *, cached: bool = False):
        history = await super().load(ref)
        if not self.appending:  # the append itself stays atomic, as on the server
            for _ in range(self.random.randint(0, 3)):
                await asyncio.sleep(0)
        return history

    async def append(self, *args, **kwargs):
        self.appending = True
        try:
            return await super().append(*args, **kwargs)
        finally:
            self.appending = False


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_concurrent_placements_for_the_same_day_never_double_book(calendar, seed):
    ctx = make_context(calendar, stale=True)  # the read model has seen none of the bookings
    ctx.store = InterleavingStore(seed)
    ctx.catalog._fetch = __import__("scheduling_support").memory_fetch(ctx.store)
    await with_resources(
        ctx,
        rooms=[Room("R1", "a", 30, "l"), Room("R2", "b", 30, "l")],
        hosts=[Host("H1", "x", "y"), Host("H2", "z", "w")],
    )
    codes = [f"AUD-2026-{n:06d}" for n in range(1, 41)]
    results = await asyncio.gather(*(submit(ctx, code, proposed=(date(2026, 2, 4),)) for code in codes))
    statuses = [r.status for r in results]
    assert set(statuses) <= {Status.SCHEDULED, Status.REFERRED}
    assert_no_double_booking(ctx)
    # 09:00-15:00 with 60 min + 15 min buffer on a 30 min grid: 09:00, 10:30, 13:00, 14:00? no:
    # 09:00, 10:30, (12:00 break) 13:00 — 3 slots per room/host pair, 2 pairs → 6 audiences.
    assert statuses.count(Status.SCHEDULED) == 6
    scheduled = {r.placement.booking_id for r in results if r.status is Status.SCHEDULED}
    assert {b.booking_id for _, _, b in active_bookings(ctx)} == scheduled  # nothing orphaned


async def test_an_orphaned_booking_is_released_but_one_still_in_flight_is_kept(ctx):
    await with_resources(ctx)
    await commands.open_request(ctx, submitted("AUD-2026-000001"), "c1")
    state = audience_of((await ctx.store.load(placement.audience_ref("AUD-2026-000001"))).payloads)
    from serambi_scheduling.domain.rules import Slot

    slot = Slot(
        wib("2026-02-05 09:00"), wib("2026-02-05 10:00"), ctx.catalog.rooms["R1"], ctx.catalog.hosts["H1"]
    )
    in_flight = await placement.book(ctx, state, slot)  # crash: the audience never took it
    assert await reconcile.release_orphans(ctx, date(2026, 2, 1), date(2026, 2, 28)) == 0
    await commands.place_automatically(ctx, "AUD-2026-000001", "c1")  # redelivery places anew
    assert await reconcile.release_orphans(ctx, date(2026, 2, 1), date(2026, 2, 28)) == 2
    assert in_flight.booking_id not in {b.booking_id for _, _, b in active_bookings(ctx)}
    assert len(active_bookings(ctx)) == 2


async def test_the_answer_clock_warns_then_breaches_exactly_once(ctx):
    await with_resources(ctx)
    await submit(ctx, "AUD-2026-000001", participants=99)  # referred: the clock runs
    state = audience_of((await ctx.store.load(placement.audience_ref("AUD-2026-000001"))).payloads)
    await sla.arm(ctx, state)
    assert sorted(ctx.timers.armed) == [f"AUD-2026-000001-{t}" for t in ("breach", "w50", "w75", "w90")]
    breach = ctx.timers.armed["AUD-2026-000001-breach"]
    ctx.now = Clock(breach.due_at)
    for due in list(ctx.timers.armed.values()) * 2:  # every timer, each delivered twice
        await sla.on_due(ctx, due)
    emitted = [r.event for r in ctx.store.log if isinstance(r.event, SLAWarning | SLABreached)]
    assert [getattr(e, "threshold_percent", "breach") for e in emitted] == [50, 75, 90, "breach"]


async def test_a_timer_that_fires_after_the_answer_does_nothing(ctx):
    await with_resources(ctx)
    state = await submit(ctx, "AUD-2026-000001")
    due = ClockDue(case_id=state.audience_id, clock="audience_answer", due_at=state.request.answer_due_at)
    ctx.now = Clock(due.due_at + timedelta(hours=1))
    assert await sla.on_due(ctx, due) == []


async def test_the_start_up_sweep_catches_a_missed_deadline_and_rearms_the_rest(ctx):
    await with_resources(ctx)
    await submit(ctx, "AUD-2026-000001", participants=99, due=MONDAY + timedelta(hours=1))
    await submit(ctx, "AUD-2026-000002", participants=99)
    ctx.now = Clock(MONDAY + timedelta(hours=2))
    assert await sla.sweep(ctx) == 1  # the first breached (nothing left to arm), the second armed
    assert names(ctx, id_="AUD-2026-000001")[-1] == "SLABreached"
    assert "SLABreached" not in names(ctx, id_="AUD-2026-000002")
    assert "AUD-2026-000002-breach" in ctx.timers.armed
    await sla.sweep(ctx)
    assert names(ctx, id_="AUD-2026-000001").count("SLABreached") == 1


async def test_every_event_opens_with_the_request_details(ctx):
    await with_resources(ctx)
    await submit(ctx, "AUD-2026-000001", proposed=(date(2026, 2, 5),))
    opened = (
        ctx.store.log[-3].event
        if False
        else next(r.event for r in ctx.store.log if isinstance(r.event, AudienceRequested))
    )
    assert opened.participants == 5 and opened.proposed_dates == [date(2026, 2, 5)]
    assert opened.institution == "Dinas Perindustrian Kota Singkawang"
    assert [e for e in ctx.store.log if isinstance(e.event, SlotBooked)][
        0
    ].event.resource is ResourceKind.ROOM
    assert not [e for e in ctx.store.log if isinstance(e.event, AudienceProposed)]
