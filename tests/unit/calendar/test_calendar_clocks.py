"""SLA clocks: pause and resume, reclassification, warnings, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from serambi_calendar import (
    Clock,
    ClockStateError,
    NaiveDatetimeError,
    Pause,
    SlaPolicy,
    UnknownClockError,
    local,
)


def test_an_hours_clock_does_not_count_while_paused(calendar, policy, wib):
    clock = Clock("ringan", wib("2026-01-05 09:00")).pause(wib("2026-01-05 10:00"))
    assert clock.deadline(calendar, policy) is None
    clock = clock.resume(wib("2026-01-06 10:00"))
    assert local(clock.deadline(calendar, policy)) == wib("2026-01-06 12:00")
    assert clock.elapsed(calendar, wib("2026-01-06 11:00")) == timedelta(hours=2)


def test_a_clock_paused_after_its_deadline_keeps_that_deadline(calendar, policy, wib):
    clock = Clock("ringan", wib("2026-01-05 09:00")).pause(wib("2026-01-05 13:30"))
    assert clock.deadline(calendar, policy) == wib("2026-01-05 12:00")


def test_a_days_clock_paused_two_whole_days_moves_two_working_days(calendar, policy, wib):
    clock = Clock("normatif", wib("2026-01-05 09:00"))
    assert clock.deadline(calendar, policy) == wib("2026-01-12 16:00")
    clock = clock.pause(wib("2026-01-06 07:00")).resume(wib("2026-01-08 07:00"))
    assert clock.deadline(calendar, policy) == wib("2026-01-14 16:00")


def test_a_days_pause_counts_in_days_even_when_the_hours_change_for_ramadan(calendar, policy, wib):
    # Paused two standard days (2 x 7.5 h); the deadline moves two Ramadan days (2 x 6.5 h).
    clock = Clock("normatif", wib("2026-02-10 09:00"))
    assert clock.deadline(calendar, policy) == wib("2026-02-19 15:00")
    clock = clock.pause(wib("2026-02-11 07:00")).resume(wib("2026-02-13 07:00"))
    assert clock.deadline(calendar, policy) == wib("2026-02-23 15:00")


def test_a_days_pause_of_part_of_a_day_counts_that_share_of_the_day(calendar, policy, wib):
    clock = Clock("normatif", wib("2026-01-05 09:00"))
    clock = clock.pause(wib("2026-01-06 07:30")).resume(wib("2026-01-06 13:00"))  # 4.5 of 7.5 h
    assert clock.deadline(calendar, policy) == wib("2026-01-13 12:00")


def test_a_pause_outside_working_time_changes_nothing(calendar, policy, wib):
    clock = Clock("audience_answer", wib("2026-01-05 09:00"))
    paused = clock.pause(wib("2026-01-05 17:00")).resume(wib("2026-01-06 07:00"))
    assert paused.deadline(calendar, policy) == clock.deadline(calendar, policy)


def test_reclassifying_keeps_the_start_and_recomputes_the_deadline(calendar, policy, wib):
    clock = Clock("ringan", wib("2026-01-05 09:00"))
    assert clock.deadline(calendar, policy) == wib("2026-01-05 12:00")
    tier = clock.reclassify("normatif", policy)
    assert tier.started_at == clock.started_at
    assert tier.deadline(calendar, policy) == wib("2026-01-12 16:00")


def test_reclassifying_to_an_unknown_tier_names_the_known_ones(policy, wib):
    with pytest.raises(UnknownClockError, match="'sedang'.*audience_answer.*ringan"):
        Clock("ringan", wib("2026-01-05 09:00")).reclassify("sedang", policy)


def test_an_unknown_clock_has_no_deadline(calendar, policy, wib):
    with pytest.raises(UnknownClockError, match="unknown clock 'urgent'"):
        Clock("urgent", wib("2026-01-05 09:00")).deadline(calendar, policy)


def test_warnings_of_an_hours_clock_fall_at_50_75_90_percent(calendar, policy, wib):
    warnings = Clock("ringan", wib("2026-01-05 09:00")).warning_instants(calendar, policy)
    assert [(w.percent, local(w.at)) for w in warnings] == [
        (50, wib("2026-01-05 10:30")),
        (75, wib("2026-01-05 11:15")),
        (90, wib("2026-01-05 11:42")),
    ]


def test_warnings_of_a_days_clock_count_the_start_day_and_the_working_days(calendar, policy, wib):
    # Monday 07:30 + the whole Monday + 3 days = 4 days of working time.
    warnings = Clock("audience_answer", wib("2026-01-05 07:30")).warning_instants(calendar, policy)
    assert [local(w.at) for w in warnings] == [
        wib("2026-01-06 16:00"),
        wib("2026-01-07 16:00"),
        wib("2026-01-08 12:00"),
    ]


def test_warnings_fall_on_whole_seconds(calendar, policy, wib):
    warnings = Clock("berkadar_pengawasan", wib("2026-03-02 09:00")).warning_instants(calendar, policy)
    assert all(w.at.microsecond == 0 for w in warnings)


def test_warnings_after_an_open_pause_are_unknown(calendar, policy, wib):
    clock = Clock("ringan", wib("2026-01-05 09:00")).pause(wib("2026-01-05 11:00"))
    assert [w.percent for w in clock.warning_instants(calendar, policy)] == [50]


def test_custom_warning_thresholds(calendar, wib):
    policy = SlaPolicy(warnings=(80,))
    warnings = Clock("ringan", wib("2026-01-05 09:00")).warning_instants(calendar, policy)
    assert [local(w.at) for w in warnings] == [wib("2026-01-05 11:24")]


def test_pausing_twice_or_resuming_a_running_clock_is_refused(wib):
    clock = Clock("ringan", wib("2026-01-05 09:00"))
    with pytest.raises(ClockStateError, match="not paused"):
        clock.resume(wib("2026-01-05 10:00"))
    with pytest.raises(ClockStateError, match="already paused"):
        clock.pause(wib("2026-01-05 10:00")).pause(wib("2026-01-05 11:00"))


def test_a_pause_before_the_start_is_refused(wib):
    with pytest.raises(ClockStateError, match="in order"):
        Clock("ringan", wib("2026-01-05 09:00")).pause(wib("2026-01-05 08:00"))
    with pytest.raises(ClockStateError, match="only the last"):
        Clock(
            "ringan",
            wib("2026-01-05 09:00"),
            (Pause(wib("2026-01-05 10:00")), Pause(wib("2026-01-05 11:00"))),
        )


def test_clock_instants_are_stored_in_utc(wib):
    clock = Clock("ringan", wib("2026-01-05 09:00")).pause(wib("2026-01-05 10:00"))
    assert clock.started_at == datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
    assert clock.started_at.tzinfo is UTC and clock.pauses[0].paused_at.tzinfo is UTC


def test_a_clock_refuses_a_naive_start_or_pause(wib):
    with pytest.raises(NaiveDatetimeError, match="clock start"):
        Clock("ringan", datetime(2026, 1, 5, 9, 0))
    with pytest.raises(NaiveDatetimeError, match="pause"):
        Clock("ringan", wib("2026-01-05 09:00")).pause(datetime(2026, 1, 5, 10, 0))
