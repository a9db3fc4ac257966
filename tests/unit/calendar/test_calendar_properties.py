"""Property-based tests (hypothesis) of the clock arithmetic, against a day-by-day reference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from serambi_calendar import WIB, Clock

SETTINGS = settings(max_examples=150, deadline=None)
instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 6, 30), timezones=st.just(UTC)
)
# Working hours up to ~1.5 working months, at minute or microsecond resolution.
durations = st.one_of(
    st.integers(0, 250 * 60).map(lambda m: timedelta(minutes=m)),
    st.integers(0, 250 * 3600 * 10**6).map(lambda us: timedelta(microseconds=us)),
)
positive = durations.filter(lambda d: d > timedelta(0))
day_counts = st.integers(0, 60)


def is_working_or_period_end(calendar, instant: datetime) -> bool:
    ends = [end for _, end in calendar.working_periods(instant.astimezone(WIB).date())]
    return calendar.is_working(instant) or instant in ends


@SETTINGS
@given(start=instants, hours=positive)
def test_an_hours_deadline_is_a_working_instant_or_the_end_of_a_working_period(calendar, start, hours):
    assert is_working_or_period_end(calendar, calendar.add_working_time(start, hours))


@SETTINGS
@given(start=instants, n=day_counts)
def test_a_days_deadline_is_the_end_of_a_working_period(calendar, start, n):
    deadline = calendar.add_working_days(start, n)
    assert not calendar.is_working(deadline)
    assert is_working_or_period_end(calendar, deadline)


@SETTINGS
@given(a=instants, b=instants, hours=durations, n=day_counts)
def test_deadlines_are_monotone_in_the_start(calendar, a, b, hours, n):
    a, b = min(a, b), max(a, b)
    assert calendar.add_working_time(a, hours) <= calendar.add_working_time(b, hours)
    assert calendar.add_working_days(a, n) <= calendar.add_working_days(b, n)


@SETTINGS
@given(start=instants, a=durations, b=positive)
def test_adding_a_then_b_working_hours_equals_adding_a_plus_b(calendar, start, a, b):
    # b > 0: adding nothing to an instant at a period's end moves it to the next working instant.
    twice = calendar.add_working_time(calendar.add_working_time(start, a), b)
    assert twice == calendar.add_working_time(start, a + b)


@SETTINGS
@given(start=instants, hours=durations)
def test_elapsed_between_start_and_start_plus_h_is_h(calendar, start, hours):
    assert calendar.working_time_between(start, calendar.add_working_time(start, hours)) == hours


@SETTINGS
@given(start=instants, hours=durations)
def test_add_working_time_matches_the_day_by_day_reference(calendar, reference, start, hours):
    assert calendar.add_working_time(start, hours) == reference.add(start, hours)


@SETTINGS
@given(start=instants, n=day_counts)
def test_add_working_days_matches_the_day_by_day_reference(calendar, reference, start, n):
    assert calendar.add_working_days(start, n) == reference.add_days(start, n)


@SETTINGS
@given(a=instants, b=instants)
def test_working_time_between_matches_the_day_by_day_reference(calendar, reference, a, b):
    a, b = min(a, b), max(a, b)
    assert calendar.working_time_between(a, b) == reference.between(a, b)


@SETTINGS
@given(start=instants)
def test_next_working_instant_is_working_and_nothing_before_it_is(calendar, start):
    found = calendar.next_working_instant(start)
    assert calendar.is_working(found)
    assert calendar.working_time_between(start, found) == timedelta(0)


clock_names = st.sampled_from(
    ["audience_answer", "ringan", "normatif", "tidak_berkadar_pengawasan", "berkadar_pengawasan"]
)


@SETTINGS
@given(start=instants, name=clock_names)
def test_a_zero_length_pause_changes_no_deadline(calendar, policy, start, name):
    clock = Clock(name, start)
    paused = clock.pause(start).resume(start)
    assert paused.deadline(calendar, policy) == clock.deadline(calendar, policy)


@SETTINGS
@given(start=instants, name=clock_names, pause=durations, length=durations)
def test_pausing_never_brings_a_deadline_forward(calendar, policy, start, name, pause, length):
    clock = Clock(name, start)
    paused = clock.pause(start + pause).resume(start + pause + length)
    deadline = paused.deadline(calendar, policy)
    assert deadline >= clock.deadline(calendar, policy)
    warnings = [w.at for w in paused.warning_instants(calendar, policy)]
    assert warnings == sorted(warnings) and warnings[-1] <= deadline
