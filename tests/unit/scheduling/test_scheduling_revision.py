"""A calendar revision and the audience answer clock: the decision (AudienceDeadlineMoved), how
the audience folds it, and the use case that records it and moves the timers — in memory."""

from __future__ import annotations

from datetime import timedelta

import pytest
from scheduling_support import MONDAY, submitted, wib
from serambi_calendar import SlaPolicy, WorkingCalendar, parse_overrides
from serambi_calendar.settings import calendar_from_overrides
from serambi_contracts.scheduling import AudienceDeadlineMoved
from serambi_contracts.sla import SLABreached
from serambi_scheduling.application import commands, placement, sla
from serambi_scheduling.domain import audience as a
from serambi_scheduling.domain.audience import Status, audience_of
from serambi_scheduling.domain.sla import due_events, revise_deadline, schedule_of

POLICY = SlaPolicy()


def with_holiday(day: str, version: str = "test.2") -> WorkingCalendar:
    """The packaged days plus one more non-working day (a revised SKB)."""
    text = (
        f'version = "{version}"\n[[day]]\naction = "add"\ndate = {day}\n'
        'name = "Cuti bersama (revisi)"\ndecree = "SKB 3 Menteri 2026, revisi"\n'
    )
    return calendar_from_overrides(parse_overrides(text, "overrides.toml"))


@pytest.fixture(scope="module")
def revised() -> WorkingCalendar:
    return with_holiday("2026-02-04")  # the Wednesday inside Monday's three working days


def opened(calendar: WorkingCalendar, **details) -> list:
    return a.open_case([], submitted("AUD-2026-000001", calendar=calendar, **details))


def test_a_holiday_added_inside_the_answer_window_moves_the_deadline_one_working_day(calendar, revised):
    history = opened(calendar)
    state = audience_of(history)
    [moved] = revise_deadline(state, revised, POLICY)
    assert isinstance(moved, AudienceDeadlineMoved)
    assert moved.previous_due_at == state.request.answer_due_at == wib("2026-02-05 16:00")
    assert moved.due_at == wib("2026-02-06 16:30")
    assert moved.calendar_revision == "overrides.toml vtest.2"
    after = audience_of([*history, moved])
    assert after.due_at == moved.due_at
    assert schedule_of(after, revised, POLICY).due_at == moved.due_at
    assert revise_deadline(after, revised, POLICY) == []  # recorded: nothing more to decide


def test_a_holiday_outside_the_window_or_an_answered_audience_moves_nothing(calendar, revised):
    assert revise_deadline(audience_of(opened(calendar)), with_holiday("2026-02-20"), POLICY) == []
    state = audience_of(opened(calendar))
    placement = a.Placement(
        "b1", wib("2026-02-03 09:00"), wib("2026-02-03 10:00"), "R1", "Ruang 1", "H1", "Ir. Budi", "Lantai 2"
    )
    answered = audience_of([*opened(calendar), *a.schedule(state, placement, "auto", None)])
    assert answered.status is Status.SCHEDULED
    assert revise_deadline(answered, revised, POLICY) == []


def test_a_desk_request_received_earlier_keeps_its_clock_from_the_reception(calendar):
    received = MONDAY - timedelta(days=3)  # Friday, recorded on Monday
    request = submitted("AUD-2026-000002", at=MONDAY, due=calendar.add_working_days(received, 3))
    request = request.model_copy(update={"received_at": received})
    [requested] = a.open_case([], request)
    assert requested.received_at == received
    state = audience_of([requested])
    assert state.started_at == received
    assert revise_deadline(state, calendar, POLICY) == []  # the same calendar moves nothing


def test_a_moved_deadline_repeats_no_warning_but_breaches_in_its_turn(calendar, revised):
    history = opened(calendar)
    old = schedule_of(audience_of(history), calendar, POLICY)
    history += due_events(audience_of(history), old, old.warnings[0][1])  # the 50 % warning
    history += revise_deadline(audience_of(history), revised, POLICY)
    state = audience_of(history)
    new = schedule_of(state, revised, POLICY)
    assert not [e for e in due_events(state, new, old.due_at) if isinstance(e, SLABreached)]
    events = due_events(state, new, new.due_at)
    assert [getattr(e, "threshold_percent", None) for e in events] == [75, 90, None]
    assert isinstance(events[-1], SLABreached) and events[-1].due_at == new.due_at


async def test_revising_records_the_move_once_and_moves_the_timers(ctx, revised):
    code = "AUD-2026-000003"
    state = await commands.open_request(ctx, submitted(code, calendar=ctx.calendar), f"cause-{code}")
    await sla.arm(ctx, state)
    assert ctx.timers.armed[f"{code}-breach"].due_at == wib("2026-02-05 16:00")
    ctx.calendar = revised
    assert await sla.revise(ctx) == 1
    assert await sla.revise(ctx) == 0
    events = (await ctx.store.load(placement.audience_ref(code))).payloads
    [moved] = [e for e in events if isinstance(e, AudienceDeadlineMoved)]
    assert ctx.timers.armed[f"{code}-breach"].due_at == moved.due_at == wib("2026-02-06 16:30")
    new = schedule_of(audience_of(events), revised, POLICY)
    assert {ctx.timers.armed[f"{code}-w{p}"].due_at for p in (50, 75, 90)} == {at for _, at in new.warnings}


async def test_revising_to_an_earlier_deadline_that_has_passed_reports_the_breach(ctx):
    code = "AUD-2026-000004"
    late = wib("2026-02-09 08:00")  # told a later deadline than the calendar now gives
    await commands.open_request(ctx, submitted(code, due=late), f"cause-{code}")
    ctx.now = lambda: wib("2026-02-05 17:00")
    assert await sla.revise(ctx) == 1
    events = (await ctx.store.load(placement.audience_ref(code))).payloads
    assert [type(e).__name__ for e in events][1:] == [
        "AudienceDeadlineMoved",
        "SLAWarning",
        "SLAWarning",
        "SLAWarning",
        "SLABreached",
    ]
    assert events[-1].due_at == wib("2026-02-05 16:00")
    assert not ctx.timers.armed  # nothing left to fire
