"""The audience answer report: on time is the first answer at or before the told deadline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from serambi_scheduling.reports import month_bounds, recap

DUE = datetime(2031, 3, 7, 9, 0, tzinfo=UTC)
NOW = datetime(2031, 3, 20, tzinfo=UTC)


def audience(answers: list[timedelta], status: str = "scheduled", breached: bool = False) -> dict:
    timeline = [{"step": "requested", "at": (DUE - timedelta(days=3)).replace(tzinfo=None)}]
    timeline += [{"step": "scheduled", "at": (DUE + offset).replace(tzinfo=None)} for offset in answers]
    return {"answer_due_at": DUE.replace(tzinfo=None), "timeline": timeline, "status": status,
            "sla": {"breached_at": DUE} if breached else {}}


def test_the_first_answer_decides_and_unanswered_past_due_audiences_are_counted_apart():
    report = recap("2031-03", [
        audience([-timedelta(hours=1), timedelta(days=2)]),  # answered in time, rescheduled later
        audience([timedelta(minutes=1)], breached=True),  # one minute late
        audience([], status="requested", breached=True),  # still waiting
        audience([], status="cancelled"),  # withdrawn: not waiting for an answer
    ], NOW)
    assert report == {"month": "2031-03", "submitted": 4, "answered": 2, "on_time": 1, "on_time_rate": 0.5,
                      "breached": 2, "open_past_due": 1}


def test_a_month_without_answers_has_no_rate():
    assert recap("2031-03", [audience([], status="requested")], DUE - timedelta(days=1))["on_time_rate"] is None


def test_a_month_runs_from_its_first_to_the_next_months_first_day_in_wib():
    first, after = month_bounds("2031-12")
    assert first.isoformat() == "2031-12-01T00:00:00+07:00" and after.isoformat() == "2032-01-01T00:00:00+07:00"
    with pytest.raises(ValueError, match="YYYY-MM"):
        month_bounds("2031-13")
