"""SLA decisions: warnings and the breach at most once per clock and deadline, never for an
answered or paused complaint; what to arm; deadlines a calendar revision moves."""

from __future__ import annotations

from datetime import timedelta

from serambi_calendar import SlaPolicy, WorkingCalendar, fixed_source
from serambi_complaints.domain import (
    Rules,
    check,
    decide_answer,
    decide_assign,
    decide_classify,
    decide_pause,
    decide_resume,
    fold,
    pending,
    revise_deadline,
    sla_event_id,
)
from serambi_contracts.complaints import ComplaintDeadlineMoved, ComplaintTier
from serambi_contracts.sla import SLABreached, SLAWarning

CODE = "ADU-2026-000001"
RINGAN = ComplaintTier.RINGAN


def run_until(history, rules, moments):
    """Check at each moment, appending whatever is decided; returns history and the new events."""
    emitted = []
    for at in moments:
        events = check(fold(history), rules, at)
        history = [*history, *events]
        emitted += events
    return history, emitted


def test_each_warning_and_the_breach_are_reported_once_at_their_instants(received, rules, wib):
    history = received(wib("2026-01-05 09:00"), RINGAN)  # due 12:00; 50/75/90 % at 10:30, 11:15, 11:42
    moments = [
        wib(t)
        for t in (
            "2026-01-05 10:29:59",
            "2026-01-05 10:30",
            "2026-01-05 10:31",
            "2026-01-05 11:15",
            "2026-01-05 11:42",
            "2026-01-05 11:59:59",
            "2026-01-05 12:00",
            "2026-01-05 12:00:01",
            "2026-01-06 09:00",
        )
    ]
    _, emitted = run_until(history, rules, moments)
    assert [(type(e).__name__, getattr(e, "threshold_percent", None)) for e in emitted] == [
        ("SLAWarning", 50),
        ("SLAWarning", 75),
        ("SLAWarning", 90),
        ("SLABreached", None),
    ]
    breach = emitted[-1]
    assert breach.due_at == wib("2026-01-05 12:00") and breach.breached_at == wib("2026-01-05 12:00")
    assert breach.escalate_to == "supervisor" and breach.clock == "ringan"


def test_after_missing_several_thresholds_only_the_latest_fact_is_reported(received, rules, wib):
    history = received(wib("2026-01-05 09:00"), RINGAN)
    _, emitted = run_until(history, rules, [wib("2026-01-05 11:20")])
    assert [e.threshold_percent for e in emitted] == [75]
    _, emitted = run_until(history, rules, [wib("2026-01-06 08:00")])
    assert [type(e) for e in emitted] == [SLABreached]


def test_an_answered_complaint_never_breaches(received, rules, wib, sealed):
    history = received(wib("2026-01-05 09:00"), RINGAN)
    history = [*history, *decide_assign(history, CODE, "Tim", None, "o")]
    history = [*history, *decide_answer(history, CODE, sealed(), "t", wib("2026-01-05 10:00"), rules)]
    assert pending(fold(history), rules) == []
    _, emitted = run_until(history, rules, [wib("2026-01-05 12:00"), wib("2026-02-05 12:00")])
    assert emitted == []


def test_a_paused_clock_does_not_breach_and_its_deadline_moves_on_resume(received, rules, wib):
    history = received(wib("2026-01-05 09:00"), RINGAN)
    history = [*history, *decide_pause(history, CODE, "menunggu", "o", wib("2026-01-05 10:00"))]
    _, emitted = run_until(history, rules, [wib("2026-01-05 12:00"), wib("2026-01-07 12:00")])
    assert emitted == [] and pending(fold(history), rules) == []
    history = [*history, *decide_resume(history, CODE, "o", wib("2026-01-07 13:00"), rules)]
    assert [t.at for t in pending(fold(history), rules)][-1] == wib("2026-01-07 15:00")


def test_reclassifying_before_the_deadline_moves_every_pending_instant(received, rules, wib):
    history = received(wib("2026-01-05 09:00"), RINGAN)
    before = {t.name: t.at for t in pending(fold(history), rules)}
    history = [*history, *decide_classify(history, CODE, ComplaintTier.NORMATIF, "o", rules)]
    after = {t.name: t.at for t in pending(fold(history), rules)}
    assert before["breach"] == wib("2026-01-05 12:00") and after["breach"] == wib("2026-01-12 16:00")
    assert set(after) == {"w50", "w75", "w90", "breach"}
    _, emitted = run_until(history, rules, [wib("2026-01-05 12:00:01")])
    assert emitted == []  # the old deadline passes quietly


def test_a_breach_under_one_deadline_does_not_hide_a_breach_under_another(received, rules, wib):
    history = received(wib("2026-01-05 09:00"), RINGAN)
    history, first = run_until(history, rules, [wib("2026-01-05 13:00")])
    history = [*history, *decide_classify(history, CODE, ComplaintTier.NORMATIF, "o", rules)]
    _, second = run_until(history, rules, [wib("2026-01-13 08:00")])
    assert [type(e) for e in first] == [type(e) for e in second] == [SLABreached]
    assert first[0].due_at != second[0].due_at


def test_replicas_deciding_the_same_breach_derive_the_same_event_id(received, rules, wib):
    history = received(wib("2026-01-05 09:00"), RINGAN)
    [one] = check(fold(history), rules, wib("2026-01-05 12:00:00"))
    [two] = check(fold(history), rules, wib("2026-01-05 12:00:03"))
    assert sla_event_id(CODE, one) == sla_event_id(CODE, two)
    [warning] = check(fold(history), rules, wib("2026-01-05 10:31"))
    assert isinstance(warning, SLAWarning) and sla_event_id(CODE, warning) != sla_event_id(CODE, one)


def test_a_calendar_revision_that_adds_a_holiday_moves_an_open_deadline(received, rules, wib):
    history = received(wib("2026-01-05 09:00"), ComplaintTier.NORMATIF)  # due 12 Jan 16:00
    assert revise_deadline(history, rules) == []
    holidays = {day: name for day, name in ((e.date, e.name) for e in rules.calendar.days(2026))}
    holidays[wib("2026-01-07 00:00").date()] = "Cuti bersama (revisi)"
    revised = WorkingCalendar(fixed_source(holidays), revision="overrides.toml v2026.2")
    [moved] = revise_deadline(history, Rules(revised, rules.policy))
    assert isinstance(moved, ComplaintDeadlineMoved)
    assert moved.previous_due_at == wib("2026-01-12 16:00") and moved.due_at == wib("2026-01-13 16:00")
    assert moved.calendar_revision == "overrides.toml v2026.2"
    assert revise_deadline([*history, moved], Rules(revised, rules.policy)) == []


def test_changed_durations_also_move_open_deadlines_and_change_the_fingerprint(received, rules, wib):
    history = received(wib("2026-01-05 09:00"), RINGAN)
    shorter = Rules(rules.calendar, SlaPolicy.from_mapping({"ringan": "2h"}))
    [moved] = revise_deadline(history, shorter)
    assert moved.due_at == wib("2026-01-05 11:00")
    assert shorter.fingerprint != rules.fingerprint
    assert rules.fingerprint.startswith(rules.calendar.revision)


def test_pending_instants_follow_the_warnings_already_reported(received, rules, wib):
    history = received(wib("2026-01-05 09:00"), RINGAN)
    history, _ = run_until(history, rules, [wib("2026-01-05 11:16")])
    assert [t.name for t in pending(fold(history), rules)] == ["w90", "breach"]
    history, _ = run_until(history, rules, [wib("2026-01-05 12:00")])
    assert pending(fold(history), rules) == []


def test_the_remaining_working_time_is_negative_once_overdue(received, rules, wib):
    clock = fold(received(wib("2026-01-05 09:00"), RINGAN)).clock()
    assert rules.remaining(clock, wib("2026-01-05 10:00")) == timedelta(hours=2)
    assert rules.remaining(clock, wib("2026-01-05 13:30")) == -timedelta(minutes=30)  # 12-13 is a break
