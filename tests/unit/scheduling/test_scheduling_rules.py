"""Slot rules: which slots are refused and why, and how the earliest slot is found."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scheduling_support import MONDAY, wib
from serambi_contracts.scheduling import WeeklyWindow
from serambi_scheduling.domain.errors import SlotRuleError, SlotTakenError
from serambi_scheduling.domain.resources import Host, Leave, Room
from serambi_scheduling.domain.rules import BusyView, Request, Rules, check, earliest_start, find_slot
from serambi_scheduling.domain.time import wib as to_wib

ROOM = Room("R1", "Ruang Rapat 1", 10, "Lantai 2")
BIG = Room("R2", "Aula", 100, "Lantai 1")
HOST = Host("H1", "Ir. Budi", "Kepala Biro")
RULES = Rules()


def refused(
    calendar,
    start: str,
    end: str,
    *,
    room=ROOM,
    host=HOST,
    participants=5,
    busy: BusyView | None = None,
    now=MONDAY,
) -> str | None:
    try:
        check(
            wib(start),
            wib(end),
            room,
            host,
            participants,
            room_id="R1",
            host_id="H1",
            calendar=calendar,
            busy=busy or BusyView(),
            buffer=RULES.buffer,
            now=now,
        )
    except (SlotRuleError, SlotTakenError) as exc:
        return exc.rule
    return None


def busy_at(kind: str, resource: str, start: str, end: str, audience: str = "AUD-X") -> BusyView:
    view = BusyView()
    view.add(kind, resource, wib(start), wib(end), audience)
    return view


@pytest.mark.parametrize(
    ("start", "end", "options", "rule"),
    [
        ("2026-02-03 09:00", "2026-02-03 10:00", {}, None),
        ("2026-02-02 07:00", "2026-02-02 08:00", {}, "in_past"),
        ("2026-02-07 09:00", "2026-02-07 10:00", {}, "non_working_day"),  # Saturday
        ("2026-02-17 09:00", "2026-02-17 10:00", {}, "non_working_day"),  # Tahun Baru Imlek
        ("2026-02-03 11:30", "2026-02-03 12:30", {}, "working_time"),  # across the break
        ("2026-02-03 15:30", "2026-02-03 16:30", {}, "working_time"),  # after closing
        ("2026-02-03 07:00", "2026-02-03 08:00", {}, "working_time"),  # before opening
        ("2026-02-06 11:30", "2026-02-06 12:00", {}, "working_time"),  # Friday prayer break
        ("2026-02-03 10:00", "2026-02-03 09:00", {}, "slot_length"),
        ("2026-02-03 09:00", "2026-02-03 10:00", {"room": None}, "unknown_room"),
        ("2026-02-03 09:00", "2026-02-03 10:00", {"host": None}, "unknown_host"),
        ("2026-02-03 09:00", "2026-02-03 10:00", {"participants": 11}, "room_capacity"),
        (
            "2026-02-03 09:00",
            "2026-02-03 10:00",
            {"room": Room("R1", "x", 10, "y", active=False)},
            "inactive_room",
        ),
        (
            "2026-02-03 09:00",
            "2026-02-03 10:00",
            {"host": Host("H1", "x", "y", leaves=(Leave("l", date(2026, 2, 3), date(2026, 2, 4)),))},
            "host_leave",
        ),
        (
            "2026-02-03 09:00",
            "2026-02-03 10:00",
            {"host": Host("H1", "x", "y", weekly=(WeeklyWindow(weekday=3, starts=time(8), ends=time(12)),))},
            "host_availability",
        ),
        (
            "2026-02-03 09:00",
            "2026-02-03 10:00",
            {"busy": busy_at("room", "R1", "2026-02-03 09:30", "2026-02-03 10:30")},
            "room_overlap",
        ),
        (
            "2026-02-03 09:00",
            "2026-02-03 10:00",
            {"busy": busy_at("host", "H1", "2026-02-03 08:00", "2026-02-03 08:50")},
            "host_overlap",
        ),
        (
            "2026-02-03 09:00",
            "2026-02-03 10:00",
            {"busy": busy_at("host", "H1", "2026-02-03 07:30", "2026-02-03 08:45")},
            None,
        ),
    ],
)
def test_a_slot_is_refused_by_the_rule_it_breaks(calendar, start, end, options, rule):
    assert refused(calendar, start, end, **options) == rule


def test_a_refusal_says_which_holiday_the_day_is(calendar):
    with pytest.raises(SlotRuleError, match="Imlek"):
        check(
            wib("2026-02-17 09:00"),
            wib("2026-02-17 10:00"),
            ROOM,
            HOST,
            1,
            room_id="R1",
            host_id="H1",
            calendar=calendar,
            busy=BusyView(),
            buffer=RULES.buffer,
            now=MONDAY,
        )


def test_the_earliest_slot_is_09_00_on_the_next_working_day(calendar):
    slot = find_slot(Request(5), [ROOM], [HOST], BusyView(), calendar, RULES, MONDAY)
    assert to_wib(slot.starts_at) == wib("2026-02-03 09:00")
    assert slot.ends_at - slot.starts_at == timedelta(hours=1)


def test_a_submission_on_friday_afternoon_gets_monday_and_skips_a_holiday(calendar):
    friday = wib("2026-02-13 15:00")  # Monday 16 and Tuesday 17 February are off
    slot = find_slot(Request(5), [ROOM], [HOST], BusyView(), calendar, RULES, friday)
    assert to_wib(slot.starts_at) == wib("2026-02-18 09:00")


def test_a_booked_slot_and_its_buffer_push_the_next_one_along_the_grid(calendar):
    view = busy_at("room", "R1", "2026-02-03 09:00", "2026-02-03 10:00")
    slot = find_slot(Request(5), [ROOM], [HOST], view, calendar, RULES, MONDAY)
    assert to_wib(slot.starts_at) == wib("2026-02-03 10:30")  # 10:00 + 15 min buffer → grid


def test_the_smallest_room_that_seats_everyone_is_taken(calendar):
    slot = find_slot(Request(8), [BIG, ROOM], [HOST], BusyView(), calendar, RULES, MONDAY)
    assert slot.room == ROOM
    slot = find_slot(Request(30), [BIG, ROOM], [HOST], BusyView(), calendar, RULES, MONDAY)
    assert slot.room == BIG


def test_proposed_dates_are_respected_even_after_earlier_free_days(calendar):
    slot = find_slot(Request(5, (date(2026, 2, 5),)), [ROOM], [HOST], BusyView(), calendar, RULES, MONDAY)
    assert to_wib(slot.starts_at).date() == date(2026, 2, 5)


def test_when_no_proposed_date_has_room_the_search_says_so(calendar):
    result = find_slot(Request(5, (date(2026, 2, 7),)), [ROOM], [HOST], BusyView(), calendar, RULES, MONDAY)
    assert result == "no free slot on the proposed dates 2026-02-07"


@pytest.mark.parametrize(
    ("rooms", "hosts", "participants", "reason"),
    [
        ([], [HOST], 5, "no room in use seats 5 participants"),
        ([ROOM], [HOST], 50, "no room in use seats 50 participants"),
        ([ROOM], [], 5, "no hosting official is registered"),
    ],
)
def test_without_a_fitting_room_or_any_host_there_is_no_slot(calendar, rooms, hosts, participants, reason):
    assert find_slot(Request(participants), rooms, hosts, BusyView(), calendar, RULES, MONDAY) == reason


def test_a_host_on_leave_or_outside_availability_is_skipped(calendar):
    away = Host(
        "H1",
        "x",
        "y",
        leaves=(Leave("l", date(2026, 2, 3), date(2026, 2, 3)),),
        weekly=tuple(WeeklyWindow(weekday=d, starts=time(13), ends=time(16)) for d in range(1, 6)),
    )
    slot = find_slot(Request(5), [ROOM], [away], BusyView(), calendar, RULES, MONDAY)
    assert to_wib(slot.starts_at) == wib("2026-02-04 13:00")


def test_minimum_notice_in_working_hours_counts_working_time(calendar):
    rules = Rules(notice=("h", 4))
    assert to_wib(earliest_start(wib("2026-02-02 14:00"), calendar, rules)) == wib("2026-02-03 09:30")
    slot = find_slot(Request(5), [ROOM], [HOST], BusyView(), calendar, rules, wib("2026-02-02 08:00"))
    assert to_wib(slot.starts_at) == wib("2026-02-02 13:00")


# -- properties --------------------------------------------------------------------------------
instants = st.datetimes(
    min_value=MONDAY.replace(tzinfo=None) - timedelta(days=30),
    max_value=MONDAY.replace(tzinfo=None) + timedelta(days=400),
).map(lambda naive: naive.replace(tzinfo=MONDAY.tzinfo))
rooms_st = st.lists(
    st.builds(Room, st.sampled_from(["R1", "R2", "R3"]), st.just("r"), st.integers(1, 40), st.just("l")),
    min_size=1,
    max_size=3,
    unique_by=lambda r: r.room_id,
)
hosts_st = st.lists(
    st.builds(Host, st.sampled_from(["H1", "H2"]), st.just("h"), st.just("p")),
    min_size=1,
    max_size=2,
    unique_by=lambda h: h.host_id,
)
rules_st = st.builds(
    Rules,
    meeting=st.sampled_from([timedelta(minutes=m) for m in (30, 60, 90, 120)]),
    buffer=st.sampled_from([timedelta(minutes=m) for m in (0, 10, 15, 30)]),
    step=st.sampled_from([timedelta(minutes=m) for m in (15, 30, 60)]),
    notice=st.sampled_from([("d", 0), ("d", 1), ("d", 2), ("h", 3)]),
    day_start=st.sampled_from([time(7, 30), time(9), time(10)]),
    day_end=st.sampled_from([time(12), time(15), time(16, 30)]),
    horizon_days=st.integers(1, 10),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    now=instants,
    rooms=rooms_st,
    hosts=hosts_st,
    rules=rules_st,
    sizes=st.lists(st.integers(1, 40), min_size=1, max_size=25),
    proposed=st.lists(st.dates(date(2026, 1, 1), date(2027, 3, 1)), max_size=3),
)
def test_slots_found_one_after_another_never_overlap_and_stay_in_working_time(
    calendar, now, rooms, hosts, rules, sizes, proposed
):
    view, taken = BusyView(), []
    for participants in sizes:
        slot = find_slot(Request(participants, tuple(proposed)), rooms, hosts, view, calendar, rules, now)
        if isinstance(slot, str):
            continue
        day = to_wib(slot.starts_at).date()
        assert calendar.working_periods(day), "never on a non-working day"
        assert any(a <= slot.starts_at and slot.ends_at <= b for a, b in calendar.working_periods(day))
        assert slot.starts_at >= earliest_start(now, calendar, rules) >= now
        assert slot.room.capacity >= participants
        assert rules.day_start <= to_wib(slot.starts_at).time()
        assert to_wib(slot.ends_at).time() <= rules.day_end
        if proposed:
            assert day in proposed
        # the slot is valid by the same rules an officer's slot is checked with
        check(
            slot.starts_at,
            slot.ends_at,
            slot.room,
            slot.host,
            participants,
            room_id=slot.room.room_id,
            host_id=slot.host.host_id,
            calendar=calendar,
            busy=view,
            buffer=rules.buffer,
            now=now,
        )
        for other in taken:
            for resource in ("room", "host"):
                same = getattr(other, resource) == getattr(slot, resource)
                assert not same or (
                    other.ends_at + rules.buffer <= slot.starts_at
                    or slot.ends_at + rules.buffer <= other.starts_at
                )
        taken.append(slot)
        view.add("room", slot.room.room_id, slot.starts_at, slot.ends_at, f"A{len(taken)}")
        view.add("host", slot.host.host_id, slot.starts_at, slot.ends_at, f"A{len(taken)}")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=instants, minutes=st.sampled_from([30, 60, 90]))
def test_every_slot_check_accepts_is_inside_one_working_period_of_a_working_day(calendar, start, minutes):
    start = start.replace(second=0, microsecond=0)
    end = start + timedelta(minutes=minutes)
    try:
        check(
            start,
            end,
            BIG,
            HOST,
            1,
            room_id="R2",
            host_id="H1",
            calendar=calendar,
            busy=BusyView(),
            buffer=RULES.buffer,
            now=start - timedelta(days=400),
        )
    except SlotRuleError as refusal:
        assert refusal.rule in ("non_working_day", "working_time")
        inside = any(a <= start and end <= b for a, b in calendar.working_periods(to_wib(start).date()))
        assert not inside
        return
    day = to_wib(start).date()
    assert calendar.is_working(start) and calendar.is_working(end - timedelta(microseconds=1))
    assert any(a <= start and end <= b for a, b in calendar.working_periods(day))
