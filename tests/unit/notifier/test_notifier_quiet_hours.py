"""Quiet hours for SMS to citizens: 21:00–06:00 WIB by default; held texts go out at the end."""

from __future__ import annotations

from datetime import UTC, datetime

from serambi_notifier.domain.quiet_hours import WIB, QuietHours

DEFAULT = QuietHours.parse("21:00", "06:00")


def wib(hour: int, minute: int = 0, day: int = 2) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=WIB)


def test_the_default_window_wraps_midnight_in_wib():
    assert DEFAULT.contains(wib(21, 0))
    assert DEFAULT.contains(wib(23, 59))
    assert DEFAULT.contains(wib(3, 0))
    assert not DEFAULT.contains(wib(6, 0))
    assert not DEFAULT.contains(wib(20, 59))


def test_instants_are_judged_in_wib_whatever_their_zone():
    assert DEFAULT.contains(datetime(2026, 3, 2, 14, 30, tzinfo=UTC))  # 21:30 WIB
    assert not DEFAULT.contains(datetime(2026, 3, 2, 13, 30, tzinfo=UTC))  # 20:30 WIB


def test_a_text_held_in_the_evening_goes_out_at_six_the_next_morning():
    assert DEFAULT.release(wib(22, 15)) == wib(6, 0, day=3)


def test_a_text_held_after_midnight_goes_out_at_six_the_same_morning():
    assert DEFAULT.release(wib(1, 30, day=3)) == wib(6, 0, day=3)


def test_outside_the_window_a_text_is_not_held():
    assert DEFAULT.release(wib(10, 0)) == wib(10, 0)


def test_a_window_within_one_day_and_an_empty_window():
    afternoon = QuietHours.parse("12:00", "13:00")
    assert afternoon.contains(wib(12, 30)) and not afternoon.contains(wib(13, 0))
    assert afternoon.release(wib(12, 30)) == wib(13, 0)
    assert not QuietHours.parse("00:00", "00:00").contains(wib(3, 0))
