"""Read-side helpers: durations, the SLA part of every view, queue filters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from serambi_complaints.adapters.projections import NO_DEADLINE, STAGES
from serambi_complaints.adapters.queries import QueueFilter, iso_duration, sla_view
from serambi_complaints.domain import Status


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(0), "PT0S"),
        (timedelta(hours=7, minutes=30), "PT7H30M"),
        (timedelta(hours=100, seconds=5), "PT100H5S"),
        (-timedelta(minutes=15), "-PT15M"),
    ],
)
def test_working_time_is_an_iso_8601_duration_in_hours(value, text):
    assert iso_duration(value) == text


def document(wib, status=Status.CLASSIFIED, **fields):
    return {
        "tier": "ringan",
        "clock_started_at": wib("2026-01-05 09:00"),
        "pauses": [],
        "open_pause": None,
        "due_at": wib("2026-01-05 12:00"),
        "stage": STAGES[status],
        **fields,
    }


def test_an_open_complaint_shows_its_deadline_and_the_working_time_left(rules, wib):
    view = sla_view(document(wib), rules, wib("2026-01-05 11:15"))
    assert view == {
        "clock": "ringan",
        "due_at": wib("2026-01-05 12:00"),
        "working_time_remaining": "PT45M",
        "working_seconds_remaining": 2700,
        "paused": False,
        "overdue": False,
    }
    late = sla_view(document(wib), rules, wib("2026-01-05 13:30"))
    assert late["overdue"] and late["working_time_remaining"] == "-PT30M"


def test_an_unclassified_complaint_shows_its_triage_deadline(rules, wib):
    waiting = document(wib, Status.RECEIVED, tier=None, clock="triage")
    view = sla_view(waiting, rules, wib("2026-01-05 11:15"))
    assert view["clock"] == "triage" and view["due_at"] == wib("2026-01-05 12:00")
    assert view["working_time_remaining"] == "PT45M" and not view["overdue"]


def test_an_unclassified_complaint_from_before_triage_clocks_shows_no_deadline(rules, wib):
    older = document(wib, Status.RECEIVED, tier=None, due_at=None)  # no "clock" field
    view = sla_view(older, rules, wib("2026-01-05 11:15"))
    assert view["clock"] is None and view["due_at"] is None and view["working_time_remaining"] is None


def test_a_paused_complaint_keeps_the_time_it_had_left(rules, wib):
    paused = document(
        wib, open_pause={"paused_at": wib("2026-01-05 10:00"), "reason": "menunggu"}, due_at=None
    )
    for now in ("2026-01-05 11:00", "2026-01-09 15:00"):
        view = sla_view(paused, rules, wib(now))
        assert view["paused"] and view["due_at"] is None and view["working_time_remaining"] == "PT2H"


def test_an_answered_complaint_has_no_time_left_and_is_not_overdue(rules, wib):
    view = sla_view(document(wib, Status.ANSWERED), rules, wib("2026-01-06 09:00"))
    assert view["working_time_remaining"] is None and not view["overdue"]


def test_queue_filters_combine_into_one_query(wib):
    query = QueueFilter(
        tier="ringan",
        channel="fax",
        due_before=wib("2026-03-10 00:00"),
        breached=True,
        paused=False,
        open=True,
        team="Tim",
    ).query()
    assert query == {
        "tier": "ringan",
        "channel": "fax",
        "stage": {"$lt": 4},
        "due_at": {"$lt": wib("2026-03-10 00:00")},
        "breached": True,
        "open_pause": None,
        "team": "Tim",
    }
    assert QueueFilter(status="reopened", open=False).query() == {"stage": STAGES[Status.REOPENED]}
    assert QueueFilter(paused=True).query() == {"open_pause": {"$ne": None}}
    assert QueueFilter(assignee="tim", open=True).query() == {"assignee": "tim", "stage": {"$lt": 4}}
    assert NO_DEADLINE.year == 9999
