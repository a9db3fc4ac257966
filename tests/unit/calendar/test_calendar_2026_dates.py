"""Table tests on real 2026 dates: weekends, breaks, Friday's longer day, holidays, cuti bersama,
the Ramadan profile, year end. Expected values are worked out by hand in the comments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from serambi_calendar import CalendarRangeError, Clock, NaiveDatetimeError, load_calendar, local

DEADLINES = [
    # (event WIB, clock, deadline WIB, why)
    ("2026-01-10 10:00", "ringan", "2026-01-12 10:30", "Saturday: the clock starts Monday 07:30"),
    ("2026-01-10 10:00", "audience_answer", "2026-01-15 16:00", "start day Monday not counted"),
    ("2026-01-05 11:00", "ringan", "2026-01-05 15:00", "1 h before the break, 2 h after"),
    ("2026-01-05 12:30", "ringan", "2026-01-05 16:00", "starts after the break, ends at 16:00"),
    ("2026-01-08 15:00", "ringan", "2026-01-09 09:30", "Thursday ends at 16:00"),
    ("2026-01-09 15:00", "ringan", "2026-01-12 09:00", "Friday runs until 16:30"),
    ("2026-01-09 11:00", "ringan", "2026-01-09 15:30", "Friday break is 11:30-13:00"),
    ("2026-01-05 09:00", "audience_answer", "2026-01-08 16:00", "Mon -> Thu"),
    ("2026-01-06 09:00", "audience_answer", "2026-01-09 16:30", "ends on a Friday: 16:30"),
    ("2026-01-05 15:59", "audience_answer", "2026-01-08 16:00", "a minute before closing"),
    ("2026-01-05 16:00", "audience_answer", "2026-01-09 16:30", "16:00 is after hours"),
    ("2026-01-15 10:00", "audience_answer", "2026-01-21 16:00", "Fri 16 Jan Isra Mikraj"),
    (
        "2026-02-13 10:00",
        "audience_answer",
        "2026-02-20 15:30",
        "16 Feb cuti bersama, 17 Feb Imlek; 19-20 Feb Ramadan hours",
    ),
    ("2026-02-13 15:00", "ringan", "2026-02-18 09:00", "Imlek days skipped; 18 Feb not Ramadan"),
    ("2026-03-02 09:00", "ringan", "2026-03-02 12:00", "Ramadan morning ends 12:00"),
    ("2026-03-02 11:00", "ringan", "2026-03-02 14:30", "Ramadan break 12:00-12:30"),
    ("2026-03-06 11:00", "ringan", "2026-03-06 15:00", "Ramadan Friday 12:30-15:30"),
    ("2026-03-06 17:00", "audience_answer", "2026-03-12 15:00", "Ramadan Thursday ends 15:00"),
    (
        "2026-03-17 10:00",
        "audience_answer",
        "2026-03-27 16:30",
        "18-24 Mar Nyepi, Idul Fitri and cuti bersama; standard hours again",
    ),
    ("2026-03-17 14:00", "ringan", "2026-03-25 09:30", "1 h in Ramadan, 2 h after Lebaran"),
    ("2026-05-13 10:00", "normatif", "2026-05-22 16:30", "14 May Kenaikan, 15 May cuti"),
    ("2026-05-26 10:00", "normatif", "2026-06-05 16:30", "27-28 May Idul Adha, 1 Jun Pancasila"),
    ("2026-12-23 10:00", "audience_answer", "2026-12-30 16:00", "24 cuti, 25 Natal"),
    ("2026-12-30 10:00", "audience_answer", "2027-01-06 16:00", "1 Jan and 5 Jan 2027 off"),
    ("2026-01-05 09:00", "tidak_berkadar_pengawasan", "2026-01-26 16:00", "14 working days"),
    (
        "2026-01-05 09:00",
        "berkadar_pengawasan",
        "2026-04-10 16:30",
        "60 working days across Imlek, Ramadan, Lebaran and Good Friday",
    ),
]


@pytest.mark.parametrize(("event", "name", "expected", "why"), DEADLINES)
def test_a_clock_deadline_on_a_2026_date_matches_the_hand_count(
    calendar, policy, wib, event, name, expected, why
):
    deadline = Clock(name, wib(event)).deadline(calendar, policy)
    assert local(deadline) == wib(expected), why


def test_a_clock_started_on_saturday_starts_on_monday_0730(calendar, wib):
    assert calendar.next_working_instant(wib("2026-01-10 10:00")) == wib("2026-01-12 07:30")


def test_a_ramadan_morning_starts_at_0800_not_0730(calendar, wib):
    assert not calendar.is_working(wib("2026-02-19 07:45"))
    assert calendar.next_working_instant(wib("2026-02-19 07:45")) == wib("2026-02-19 08:00")
    assert calendar.is_working(wib("2026-02-18 07:45"))  # the day before Ramadan


@pytest.mark.parametrize(
    ("instant", "working"),
    [
        ("2026-01-05 07:29:59", False),
        ("2026-01-05 07:30", True),
        ("2026-01-05 11:59:59", True),
        ("2026-01-05 12:00", False),
        ("2026-01-05 13:00", True),
        ("2026-01-05 16:00", False),
        ("2026-01-09 16:15", True),
        ("2026-01-09 11:45", False),
        ("2026-01-10 10:00", False),
        ("2026-02-16 10:00", False),
        ("2026-03-20 10:00", False),
        ("2026-03-25 10:00", True),
    ],
)
def test_is_working_follows_hours_breaks_weekends_and_holidays(calendar, wib, instant, working):
    assert calendar.is_working(wib(instant)) is working


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        ("2026-01-05 00:00", "2026-01-10 00:00", 37.5),  # a standard week
        ("2026-03-02 00:00", "2026-03-07 00:00", 32.5),  # a Ramadan week
        ("2026-03-16 00:00", "2026-03-25 00:00", 13.0),  # two Ramadan days, then Lebaran
        ("2026-01-05 11:00", "2026-01-05 14:00", 2.0),  # the break is not counted
        ("2026-01-09 16:00", "2026-01-12 08:00", 1.0),  # Friday 16:00-16:30, Monday 07:30-08:00
    ],
)
def test_working_time_between_two_instants(calendar, wib, start, end, hours):
    assert calendar.working_time_between(wib(start), wib(end)) == timedelta(hours=hours)


def test_working_time_backwards_is_negative(calendar, wib):
    between = calendar.working_time_between(wib("2026-01-06 07:30"), wib("2026-01-05 07:30"))
    assert between == -timedelta(hours=7.5)


def test_instants_in_utc_and_in_wib_give_the_same_deadline(calendar, wib):
    utc_start = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)  # 09:00 WIB
    assert calendar.add_working_time(utc_start, timedelta(hours=3)) == wib("2026-01-05 12:00")
    assert calendar.add_working_time(utc_start, timedelta(hours=3)).tzinfo is UTC


def test_add_working_days_zero_is_the_end_of_the_start_day(calendar, wib):
    assert calendar.add_working_days(wib("2026-01-09 08:00"), 0) == wib("2026-01-09 16:30")


def test_2026_non_working_days_are_the_skb_with_cuti_bersama_pinned_by_the_override(calendar):
    days = calendar.non_working_days(2026)
    assert len(days) == 25  # SKB 3 Menteri 2026: 17 libur nasional + 8 cuti bersama
    pinned = sorted(d.date.isoformat() for d in days if d.source == "override")
    assert pinned == [
        "2026-02-16",
        "2026-03-18",
        "2026-03-20",
        "2026-03-23",
        "2026-03-24",
        "2026-05-15",
        "2026-05-28",
        "2026-12-24",
    ]
    assert all("SKB 3 Menteri 2026" in d.reference for d in days if d.source == "override")
    assert all(d.reference.startswith("holidays ") for d in days if d.source == "package")


@pytest.mark.parametrize(
    "call",
    [
        lambda cal, t: cal.is_working(t),
        lambda cal, t: cal.next_working_instant(t),
        lambda cal, t: cal.add_working_time(t, timedelta(hours=1)),
        lambda cal, t: cal.add_working_days(t, 3),
        lambda cal, t: cal.working_time_between(t, t),
    ],
)
def test_naive_datetimes_are_refused_with_a_clear_error(calendar, call):
    with pytest.raises(NaiveDatetimeError, match="no time zone"):
        call(calendar, datetime(2026, 1, 5, 9, 0))


def test_negative_durations_are_refused(calendar, wib):
    with pytest.raises(ValueError, match="non-negative"):
        calendar.add_working_time(wib("2026-01-05 09:00"), timedelta(hours=-1))
    with pytest.raises(ValueError, match=">= 0"):
        calendar.add_working_days(wib("2026-01-05 09:00"), -1)


def test_a_computation_beyond_fifty_years_is_refused_rather_than_looping(wib):
    with pytest.raises(CalendarRangeError, match="more than 50 years"):
        load_calendar().add_working_days(wib("2026-01-05 09:00"), 250 * 60)
