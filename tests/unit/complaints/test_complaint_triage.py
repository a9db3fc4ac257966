"""The triage clock: an unclassified complaint is on a clock from the first minute (3 working
hours by default), with the same warnings and single breach as the tier clocks; classification
stops it and starts the tier's clock from the original receipt. Complaints received before
triage clocks existed fold as they always did."""

from __future__ import annotations

from serambi_calendar import SlaPolicy, load_calendar
from serambi_complaints.domain import (
    TRIAGE,
    ReceiveComplaint,
    Rules,
    check,
    decide_classify,
    decide_pause,
    decide_receive,
    decide_resume,
    fold,
    pending,
    revise_deadline,
    sla_event_id,
)
from serambi_contracts.complaints import ComplaintChannel, ComplaintReceived, ComplaintTier, Disclosure
from serambi_contracts.sla import SLABreached

CODE = "ADU-2026-000001"


def run_until(history, rules, moments):
    emitted = []
    for at in moments:
        events = check(fold(history), rules, at)
        history = [*history, *events]
        emitted += events
    return history, emitted


def test_an_unclassified_complaint_warns_and_breaches_its_triage_clock_exactly_once(received, rules, wib):
    history = received(wib("2026-01-05 09:00"))  # triage due 12:00; 50/75/90 % at 10:30, 11:15, 11:42
    moments = [
        wib(t)
        for t in (
            "2026-01-05 10:30",
            "2026-01-05 11:15",
            "2026-01-05 11:42",
            "2026-01-05 12:00",
            "2026-01-05 12:00:01",
            "2026-01-09 09:00",
        )
    ]
    history, emitted = run_until(history, rules, moments)
    assert [(type(e).__name__, getattr(e, "threshold_percent", None)) for e in emitted] == [
        ("SLAWarning", 50),
        ("SLAWarning", 75),
        ("SLAWarning", 90),
        ("SLABreached", None),
    ]
    assert {e.clock for e in emitted} == {TRIAGE}
    breach = emitted[-1]
    assert breach.due_at == wib("2026-01-05 12:00") and breach.started_at == wib("2026-01-05 09:00")
    assert pending(fold(history), rules) == []  # nothing more to arm


def test_triage_thresholds_have_timer_names_of_their_own(received, rules, wib):
    names = [t.name for t in pending(fold(received(wib("2026-01-05 09:00"))), rules)]
    assert names == ["triage-w50", "triage-w75", "triage-w90", "triage-breach"]


def test_classification_stops_the_triage_clock_and_counts_the_tier_from_receipt(received, rules, wib):
    history = received(wib("2026-01-05 09:00"))
    history, warned = run_until(history, rules, [wib("2026-01-05 10:45")])
    assert [e.threshold_percent for e in warned] == [50]
    [classified] = decide_classify(history, CODE, ComplaintTier.NORMATIF, "officer-1", rules)
    assert classified.clock_started_at == wib("2026-01-05 09:00")
    assert classified.due_at == wib("2026-01-12 16:00")  # 5 working days from receipt
    history = [*history, classified]
    state = fold(history)
    assert state.clock_name == "normatif" and state.due_at == classified.due_at
    assert [t.name for t in pending(state, rules)][-1] == "breach"
    _, emitted = run_until(history, rules, [wib("2026-01-05 12:00"), wib("2026-01-06 09:00")])
    assert not any(e.clock == TRIAGE for e in emitted)


def test_a_ringan_complaint_classified_after_its_triage_breach_breaches_its_own_clock_too(
    received, rules, wib
):
    history, first = run_until(received(wib("2026-01-05 09:00")), rules, [wib("2026-01-05 12:30")])
    assert [(type(e), e.clock) for e in first] == [(SLABreached, TRIAGE)]
    history = [*history, *decide_classify(history, CODE, ComplaintTier.RINGAN, "o", rules)]
    _, second = run_until(history, rules, [wib("2026-01-05 12:31"), wib("2026-01-05 13:00")])
    assert [(type(e), e.clock) for e in second] == [(SLABreached, "ringan")]
    assert sla_event_id(CODE, first[0]) != sla_event_id(CODE, second[0])  # both are stored


def test_a_paused_triage_clock_does_not_breach_and_moves_on_resume(received, rules, wib):
    history = received(wib("2026-01-05 09:00"))
    history = [*history, *decide_pause(history, CODE, "menunggu", "o", wib("2026-01-05 10:00"))]
    _, emitted = run_until(history, rules, [wib("2026-01-05 12:00")])
    assert emitted == []
    [resumed] = decide_resume(history, CODE, "o", wib("2026-01-06 09:00"), rules)
    assert resumed.due_at == wib("2026-01-06 11:00")  # the 2 working hours it had left


def test_the_triage_duration_is_configurable(sealed, wib):
    four_hours = Rules(load_calendar(years=[2026]), SlaPolicy.from_mapping({"triage": "4h"}))
    [event] = decide_receive(
        [],
        ReceiveComplaint(
            tracking_code=CODE,
            channel=ComplaintChannel.ONLINE,
            received_at=wib("2026-01-05 09:00"),
            disclosure=Disclosure.ANONYMOUS,
            summary=sealed(),
            description=sealed(),
            access_token_sha256="ab" * 32,
        ),
        four_hours,
    )
    assert event.triage_due_at == wib("2026-01-05 14:00")  # 12:00-13:00 is the lunch break


def test_a_calendar_revision_moves_the_triage_deadline(received, wib):
    history = received(wib("2026-01-05 09:00"))
    longer = Rules(load_calendar(years=[2026]), SlaPolicy.from_mapping({"triage": "5h"}))
    [moved] = revise_deadline(history, longer)
    assert moved.clock == TRIAGE and moved.due_at == wib("2026-01-05 15:00")
    assert fold([*history, moved]).due_at == wib("2026-01-05 15:00")


def test_an_unclassified_complaint_received_before_triage_clocks_folds_unchanged(received, rules, wib):
    [event] = received(wib("2026-01-05 09:00"))
    older = ComplaintReceived.model_validate_json(
        event.model_copy(update={"triage_due_at": None}).model_dump_json(exclude={"triage_due_at"})
    )
    state = fold([older])
    assert state.clock_name is None and state.clock() is None and state.due_at is None
    assert pending(state, rules) == [] and check(state, rules, wib("2026-06-01 09:00")) == []
    assert revise_deadline([older], rules) == []
