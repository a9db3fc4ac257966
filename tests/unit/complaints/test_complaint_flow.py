"""The complaint flow as pure decisions: each step, its deadline, and refusals in the wrong state."""

from __future__ import annotations

from datetime import timedelta

import pytest
from serambi_complaints.domain import (
    ComplaintError,
    ComplaintExistsError,
    ReceiveComplaint,
    Status,
    UnknownComplaintError,
    decide_answer,
    decide_assign,
    decide_classify,
    decide_close,
    decide_pause,
    decide_receive,
    decide_reopen,
    decide_resume,
    fold,
)
from serambi_contracts.complaints import (
    ComplaintAnswered,
    ComplaintClassified,
    ComplaintReopened,
    ComplaintTier,
    DisputeSource,
)

CODE = "ADU-2026-000001"
NORMATIF = ComplaintTier.NORMATIF
RINGAN = ComplaintTier.RINGAN


def step(history: list, events: list) -> list:
    assert events, "the decision produced no event"
    return [*history, *events]


def assigned(received, rules, wib, tier=NORMATIF):
    history = received(wib("2026-01-05 09:00"), tier)
    return step(history, decide_assign(history, CODE, "Tim Pengelola Pengaduan", None, "officer-1"))


def test_a_complaint_received_with_its_tier_is_due_at_the_tiers_deadline(received, wib):
    [event] = received(wib("2026-01-05 09:00"), NORMATIF)
    assert event.due_at == wib("2026-01-12 16:00")  # 5 working days, Monday's 16:00 end
    state = fold([event])
    assert state.status is Status.CLASSIFIED and state.is_open


def test_a_complaint_without_a_tier_is_due_at_its_triage_deadline_until_classified(received, rules, wib):
    history = received(wib("2026-01-05 09:00"))
    assert history[0].due_at is None and history[0].triage_due_at == wib("2026-01-05 12:00")
    state = fold(history)
    assert state.status is Status.RECEIVED and state.clock_name == "triage"
    assert state.due_at == wib("2026-01-05 12:00")  # 3 working hours from receipt
    [classified] = decide_classify(history, CODE, RINGAN, "officer-1", rules)
    assert classified.due_at == wib("2026-01-05 12:00")  # 3 working hours from receipt
    assert classified.clock_started_at == wib("2026-01-05 09:00")


def test_reclassification_counts_the_new_tier_from_the_original_start(received, rules, wib):
    history = received(wib("2026-01-05 09:00"), RINGAN)
    [event] = decide_classify(history, CODE, ComplaintTier.TIDAK_BERKADAR_PENGAWASAN, "o", rules)
    assert isinstance(event, ComplaintClassified)
    assert event.previous_tier is RINGAN
    assert event.due_at == rules.calendar.add_working_days(wib("2026-01-05 09:00"), 14)
    # hand count: 6-9, 12-15 (16 Jan is Isra Mikraj), 19-23, 26 January → Monday 16:00
    assert event.due_at == wib("2026-01-26 16:00")


def test_classifying_with_the_same_tier_is_refused(received, rules, wib):
    history = received(wib("2026-01-05 09:00"), NORMATIF)
    with pytest.raises(ComplaintError, match="already classified as normatif"):
        decide_classify(history, CODE, NORMATIF, "o", rules)


def test_assigning_before_classification_is_refused(received, wib):
    with pytest.raises(ComplaintError, match="classify complaint .* before assigning"):
        decide_assign(received(wib("2026-01-05 09:00")), CODE, "Tim", None, "o")


def test_answering_before_assignment_is_refused(received, rules, wib, sealed):
    history = received(wib("2026-01-05 09:00"), NORMATIF)
    with pytest.raises(ComplaintError, match="assign complaint .* before answering"):
        decide_answer(history, CODE, sealed(), "o", wib("2026-01-06 09:00"), rules)


def test_an_answer_stops_the_clock_and_says_whether_it_was_on_time(received, rules, wib, sealed):
    history = assigned(received, rules, wib)
    [early] = decide_answer(history, CODE, sealed(), "team-1", wib("2026-01-12 15:59"), rules)
    [late] = decide_answer(history, CODE, sealed(), "team-1", wib("2026-01-12 16:01"), rules)
    assert isinstance(early, ComplaintAnswered) and early.on_time and not late.on_time
    assert fold([*history, early]).status is Status.ANSWERED
    assert not fold([*history, early]).is_open


def test_closing_needs_an_answer_and_a_closed_complaint_takes_no_more_steps(received, rules, wib, sealed):
    history = assigned(received, rules, wib)
    with pytest.raises(ComplaintError, match="not answered"):
        decide_close(history, CODE, "o", wib("2026-01-06 09:00"))
    history = step(history, decide_answer(history, CODE, sealed(), "t", wib("2026-01-06 09:00"), rules))
    history = step(history, decide_close(history, CODE, "o", wib("2026-01-06 10:00")))
    assert fold(history).status is Status.CLOSED
    for refused in (
        lambda: decide_classify(history, CODE, RINGAN, "o", rules),
        lambda: decide_assign(history, CODE, "Tim B", None, "o"),
        lambda: decide_answer(history, CODE, sealed(), "t", wib("2026-01-06 11:00"), rules),
        lambda: decide_pause(history, CODE, "menunggu dokumen", "o", wib("2026-01-06 11:00")),
        lambda: decide_close(history, CODE, "o", wib("2026-01-06 11:00")),
    ):
        with pytest.raises(ComplaintError, match="closed"):
            refused()


def test_a_dispute_within_the_window_starts_a_new_round_with_a_fresh_deadline(received, rules, wib, sealed):
    history = assigned(received, rules, wib)
    history = step(history, decide_answer(history, CODE, sealed(), "t", wib("2026-01-06 09:00"), rules))
    [reopened] = decide_reopen(
        history, CODE, sealed("tidak puas"), DisputeSource.COMPLAINANT, None, wib("2026-01-08 10:00"), rules
    )
    assert isinstance(reopened, ComplaintReopened) and reopened.round == 2
    assert reopened.due_at == wib("2026-01-15 16:00")  # normatif again, from the dispute
    state = fold([*history, reopened])
    assert state.status is Status.REOPENED and state.is_open and state.team == "Tim Pengelola Pengaduan"
    assert state.clock().started_at == wib("2026-01-08 10:00")


def test_a_dispute_after_the_window_is_refused_with_the_window_end(received, rules, wib, sealed):
    history = assigned(received, rules, wib)
    history = step(history, decide_answer(history, CODE, sealed(), "t", wib("2026-01-06 09:00"), rules))
    # 10 working days after Tuesday 6 January: 7-9, 12-15 (not 16, Isra Mikraj), 19-21 January
    assert rules.reopen_until(wib("2026-01-06 09:00")) == wib("2026-01-21 16:00")
    decide_reopen(history, CODE, sealed(), DisputeSource.OFFICER, "o", wib("2026-01-21 15:59"), rules)
    with pytest.raises(ComplaintError, match=r"can no longer be disputed.*2026-01-21T16:00:00\+07:00"):
        decide_reopen(history, CODE, sealed(), DisputeSource.OFFICER, "o", wib("2026-01-21 16:01"), rules)


def test_a_complaint_that_is_not_answered_cannot_be_reopened(received, rules, wib, sealed):
    history = assigned(received, rules, wib)
    with pytest.raises(ComplaintError, match="not answered"):
        decide_reopen(history, CODE, sealed(), DisputeSource.OFFICER, "o", wib("2026-01-06 09:00"), rules)


def test_a_pause_moves_the_deadline_by_the_working_time_spent_waiting(received, rules, wib):
    history = received(wib("2026-01-05 09:00"), NORMATIF)
    history = step(history, decide_pause(history, CODE, "menunggu dokumen", "o", wib("2026-01-06 07:00")))
    state = fold(history)
    assert state.paused and state.due_at is None and rules.deadline(state.clock()) is None
    with pytest.raises(ComplaintError, match="already paused"):
        decide_pause(history, CODE, "lagi", "o", wib("2026-01-06 08:00"))
    [resumed] = decide_resume(history, CODE, "o", wib("2026-01-08 07:00"), rules)
    assert resumed.due_at == wib("2026-01-14 16:00")  # two whole working days later (docs/calendar.md)
    with pytest.raises(ComplaintError, match="not paused"):
        decide_resume([*history, resumed], CODE, "o", wib("2026-01-08 08:00"), rules)


def test_a_paused_clock_keeps_the_working_time_it_had_left(received, rules, wib):
    history = received(wib("2026-01-05 09:00"), RINGAN)  # due 12:00
    history = step(history, decide_pause(history, CODE, "menunggu", "o", wib("2026-01-05 10:00")))
    clock = fold(history).clock()
    assert rules.remaining(clock, wib("2026-01-07 10:00")) == timedelta(hours=2)


def test_answering_a_paused_complaint_ends_the_wait(received, rules, wib, sealed):
    history = assigned(received, rules, wib, RINGAN)
    history = step(history, decide_pause(history, CODE, "menunggu", "o", wib("2026-01-05 10:00")))
    [answer] = decide_answer(history, CODE, sealed(), "t", wib("2026-01-06 08:00"), rules)
    # 1 of 3 hours used before the pause; 2 left from the answer at 08:00
    assert answer.on_time and answer.due_at == wib("2026-01-06 10:00")


def test_steps_on_an_unknown_complaint_say_so(rules, wib):
    with pytest.raises(UnknownComplaintError, match="no complaint ADU-2026-000001"):
        decide_classify([], CODE, RINGAN, "o", rules)


def test_the_same_tracking_code_cannot_be_received_twice(received, rules, wib, sealed):
    history = received(wib("2026-01-05 09:00"))
    command = ReceiveComplaint(
        tracking_code=CODE,
        channel=history[0].channel,
        received_at=wib("2026-01-05 10:00"),
        disclosure=history[0].disclosure,
        summary=sealed(),
        description=sealed(),
        access_token_sha256="cd" * 32,
    )
    with pytest.raises(ComplaintExistsError):
        decide_receive(history, command, rules)


def test_reassigning_to_the_same_team_is_refused_and_to_another_is_recorded(received, rules, wib):
    history = assigned(received, rules, wib)
    with pytest.raises(ComplaintError, match="already assigned"):
        decide_assign(history, CODE, "Tim Pengelola Pengaduan", None, "o")
    [event] = decide_assign(history, CODE, "Subbag Perekonomian", "team-7", "o")
    assert event.previous_team == "Tim Pengelola Pengaduan" and event.assignee == "team-7"
