"""The audience state machine, the booking aggregates and the answer clock, as pure functions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scheduling_support import MONDAY, fake_sealed, submitted, wib
from serambi_calendar import SlaPolicy
from serambi_contracts.scheduling import ResourceKind, SlotBooked
from serambi_contracts.sla import SLABreached, SLAWarning
from serambi_scheduling.domain import audience as a
from serambi_scheduling.domain import bookings
from serambi_scheduling.domain.audience import Placement, Status, audience_of
from serambi_scheduling.domain.bookings import Booking
from serambi_scheduling.domain.errors import SlotTakenError, StateError
from serambi_scheduling.domain.sla import due_events, schedule_of

P = Placement(
    "b1", wib("2026-02-03 09:00"), wib("2026-02-03 10:00"), "R1", "Ruang 1", "H1", "Ir. Budi", "Lantai 2"
)


def history_in(status: Status) -> list:
    opened = a.open_case([], submitted("AUD-2026-000001"))
    state = audience_of(opened)
    steps = {
        Status.REQUESTED: [],
        Status.PROPOSED: a.propose(state, P, "auto"),
        Status.REFERRED: a.refer(state, "nothing fits", "auto"),
        Status.SCHEDULED: a.schedule(state, P, "auto", None),
        Status.DECLINED: a.decline(state, "no", "o", None),
        Status.CANCELLED: a.cancel(state, None, "o"),
    }
    if status is Status.HELD:
        scheduled = [*opened, *steps[Status.SCHEDULED]]
        return [*scheduled, *a.mark_held(audience_of(scheduled), P.ends_at, "o", None, P.ends_at)]
    if status is Status.NO_SHOW:
        scheduled = [*opened, *steps[Status.SCHEDULED]]
        return [*scheduled, *a.mark_no_show(audience_of(scheduled), "o", None, P.ends_at)]
    return [*opened, *steps[status]]


COMMANDS = {
    "confirm": lambda s: a.schedule(s, a.confirm_target(s), "o", None),
    "choose": lambda s: a.schedule(s, P, "o", None),
    "reschedule": lambda s: a.reschedule(s, P, "moved", "o", None),
    "decline": lambda s: a.decline(s, "busy", "o", None),
    "held": lambda s: a.mark_held(s, P.ends_at, "o", None, P.ends_at),
    "no_show": lambda s: a.mark_no_show(s, "o", None, P.starts_at + timedelta(minutes=30)),
    "cancel": lambda s: a.cancel(s, None, "o"),
}
ALLOWED = {
    "confirm": {Status.PROPOSED},
    "choose": {Status.REQUESTED, Status.REFERRED, Status.PROPOSED},
    "reschedule": {Status.SCHEDULED},
    "decline": {Status.REQUESTED, Status.REFERRED, Status.PROPOSED},
    "held": {Status.SCHEDULED},
    "no_show": {Status.SCHEDULED},
    "cancel": {Status.REQUESTED, Status.REFERRED, Status.PROPOSED, Status.SCHEDULED},
}


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_each_officer_command_is_allowed_exactly_in_its_states(status, command):
    state = audience_of(history_in(status))
    assert state.status is status
    if status in ALLOWED[command]:
        assert COMMANDS[command](state)
    else:
        with pytest.raises(StateError, match=f"it is {status.value}"):
            COMMANDS[command](state)


def test_an_audience_cannot_be_marked_held_before_it_starts_or_in_the_future():
    state = audience_of(history_in(Status.SCHEDULED))
    with pytest.raises(StateError, match="before"):
        a.mark_held(state, P.starts_at - timedelta(minutes=1), "o", None, P.ends_at)
    with pytest.raises(StateError, match="future"):
        a.mark_held(state, P.ends_at, "o", None, P.starts_at)


def test_a_no_show_is_a_final_outcome_of_its_own_recorded_only_once_the_slot_has_started():
    state = audience_of(history_in(Status.SCHEDULED))
    with pytest.raises(StateError, match="before it starts"):
        a.mark_no_show(state, "o", None, P.starts_at - timedelta(minutes=1))
    notes = fake_sealed("k1", "tidak ada kabar")
    [event] = a.mark_no_show(state, "jadwal", notes, P.starts_at)
    assert type(event).__name__ == "AudienceNoShow"
    assert (event.starts_at, event.recorded_by, event.notes_sealed, event.notes) == (
        P.starts_at,
        "jadwal",
        notes,
        None,
    )
    after = audience_of([*history_in(Status.SCHEDULED), event])
    assert after.status is Status.NO_SHOW and after.status in a.FINAL
    assert after.placement == P  # the slot has passed; it was kept, not released
    assert a.cancel(after, None, "requester", withdrawn=True) == []  # a late withdrawal changes nothing


def test_a_withdrawal_after_the_end_changes_nothing_but_cancels_an_open_audience():
    assert a.cancel(audience_of(history_in(Status.DECLINED)), None, "requester", withdrawn=True) == []
    [cancelled] = a.cancel(audience_of(history_in(Status.SCHEDULED)), None, "requester", withdrawn=True)
    assert cancelled.withdrawn


def test_opening_a_case_twice_records_it_once():
    opened = a.open_case([], submitted("AUD-2026-000001"))
    assert a.open_case(opened, submitted("AUD-2026-000001")) == []


def test_a_scheduled_audience_holds_its_placement_and_a_cancelled_one_none():
    assert audience_of(history_in(Status.SCHEDULED)).placement == P
    assert audience_of(history_in(Status.CANCELLED)).placement is None
    assert audience_of(history_in(Status.SCHEDULED)).answered


# -- bookings ----------------------------------------------------------------------------------
def booking(bid: str, start: str, end: str, audience: str = "A1", version: int = 1) -> Booking:
    return Booking(bid, audience, version, wib(start), wib(end))


BUFFER = timedelta(minutes=15)


def test_a_booking_overlapping_another_audience_or_its_buffer_is_refused():
    day = bookings.book(
        [], ResourceKind.ROOM, "R1", booking("b1", "2026-02-03 09:00", "2026-02-03 10:00"), BUFFER
    )
    with pytest.raises(SlotTakenError) as taken:
        bookings.book(
            day, ResourceKind.ROOM, "R1", booking("b2", "2026-02-03 10:10", "2026-02-03 11:00", "A2"), BUFFER
        )
    assert taken.value.rule == "room_overlap"
    assert [b.booking_id for b in taken.value.bookings] == ["b1"]
    assert bookings.book(
        day, ResourceKind.ROOM, "R1", booking("b2", "2026-02-03 10:15", "2026-02-03 11:00", "A2"), BUFFER
    )


def test_a_released_booking_frees_its_time_and_a_retried_booking_is_a_no_op():
    b1 = booking("b1", "2026-02-03 09:00", "2026-02-03 10:00")
    day = bookings.book([], ResourceKind.HOST, "H1", b1, BUFFER)
    assert bookings.book(day, ResourceKind.HOST, "H1", b1, BUFFER) == []
    day += bookings.release(day, ResourceKind.HOST, "H1", date(2026, 2, 3), "b1", "cancelled")
    assert bookings.release(day, ResourceKind.HOST, "H1", date(2026, 2, 3), "b1", "again") == []
    assert bookings.book(
        day, ResourceKind.HOST, "H1", booking("b2", "2026-02-03 09:00", "2026-02-03 10:00", "A2"), BUFFER
    )
    with pytest.raises(SlotTakenError):  # a released booking id is never booked again
        bookings.book(day, ResourceKind.HOST, "H1", b1, BUFFER)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 30), st.integers(1, 8), st.integers(0, 4), st.booleans()), max_size=40)
)
def test_whatever_is_booked_and_released_the_active_bookings_of_a_day_never_overlap(operations):
    day: list = []
    for number, (start_slot, length, audience, release) in enumerate(operations):
        start = wib("2026-02-03 07:30") + timedelta(minutes=15 * start_slot)
        b = Booking(f"b{number}", f"A{audience}", 1, start, start + timedelta(minutes=15 * length))
        try:
            day += bookings.book(day, ResourceKind.ROOM, "R1", b, BUFFER)
        except SlotTakenError:
            pass
        if release and day:
            victim = day[number % len(day)]
            if isinstance(victim, SlotBooked):
                day += bookings.release(day, ResourceKind.ROOM, "R1", victim.day, victim.booking_id, "x")
    held = list(bookings.active(day).values())
    for i, x in enumerate(held):
        for y in held[i + 1 :]:
            if x.audience_id != y.audience_id:
                assert not bookings.overlaps(x.starts_at, x.ends_at, y.starts_at, y.ends_at, BUFFER)


# -- the answer clock --------------------------------------------------------------------------
def test_warnings_fall_before_the_deadline_and_each_is_emitted_once(calendar):
    state = audience_of(history_in(Status.REFERRED))
    schedule = schedule_of(state, calendar, SlaPolicy())
    assert [p for p, _ in schedule.warnings] == [50, 75, 90]
    assert all(at < schedule.due_at for _, at in schedule.warnings)
    first = due_events(state, schedule, schedule.warnings[1][1])
    assert [e.threshold_percent for e in first] == [50, 75]
    later = audience_of([*history_in(Status.REFERRED), *first])
    assert [type(e).__name__ for e in due_events(later, schedule, schedule.due_at)] == [
        "SLAWarning",
        "SLABreached",
    ]
    done = audience_of([*history_in(Status.REFERRED), *due_events(state, schedule, schedule.due_at)])
    assert due_events(done, schedule, schedule.due_at + timedelta(days=9)) == []


@pytest.mark.parametrize("status", [Status.SCHEDULED, Status.DECLINED, Status.CANCELLED])
def test_an_answered_or_cancelled_audience_never_breaches(calendar, status):
    state = audience_of(history_in(status))
    schedule = schedule_of(state, calendar, SlaPolicy())
    assert due_events(state, schedule, schedule.due_at + timedelta(days=30)) == []


def test_a_deadline_the_policy_does_not_give_still_gets_warnings_before_it(calendar):
    opened = a.open_case([], submitted("AUD-1", at=MONDAY, due=MONDAY + timedelta(seconds=8)))
    schedule = schedule_of(audience_of(opened), calendar, SlaPolicy())
    assert [p for p, _ in schedule.warnings] == [50, 75, 90]
    assert all(MONDAY < at < schedule.due_at for _, at in schedule.warnings)
    events = due_events(audience_of(opened), schedule, schedule.due_at)
    assert [type(e) for e in events] == [SLAWarning] * 3 + [SLABreached]
