"""The requester's reminders (H-1 at 09.00 WIB on the working day before, 07.00 WIB on the day)
on real 2026 dates of the packaged calendar, and the use cases that arm, fire, move and cancel
them (in memory, fake timers); held / no-show refused before the audience's day."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from scheduling_support import personal_fields, submitted, wib, with_resources
from serambi_contracts.scheduling import AudienceReminderDue, AudienceRequested, ReminderKind
from serambi_kit.eventstore import model as eventstore_model
from serambi_scheduling.application import commands, reminders
from serambi_scheduling.application.commands import SlotChoice
from serambi_scheduling.domain import audience as rules_of_audience
from serambi_scheduling.domain.errors import AudienceDayError
from serambi_scheduling.domain.reminders import reminder_instants
from test_scheduling_revision import with_holiday

DAY_BEFORE, SAME_DAY = ReminderKind.DAY_BEFORE, ReminderKind.SAME_DAY
CODE = "AUD-2026-000077"


@pytest.mark.parametrize(
    ("starts", "day_before"),
    [
        ("2026-02-03 10:00", "2026-02-02 09:00"),  # Tuesday → Monday
        ("2026-02-09 09:00", "2026-02-06 09:00"),  # Monday → Friday (the weekend)
        # Wednesday 18 Feb: Tue 17 is Tahun Baru Imlek, Mon 16 its cuti bersama → Friday 13
        ("2026-02-18 09:00", "2026-02-13 09:00"),
        # Wednesday 25 Mar: 18 (cuti Nyepi), 19 (Nyepi), 20 (cuti Idul Fitri), the weekend of Idul
        # Fitri, 23 and 24 (cuti bersama) are all off → Tuesday 17
        ("2026-03-25 13:00", "2026-03-17 09:00"),
        ("2026-05-04 09:00", "2026-04-30 09:00"),  # Monday 4 May: Friday 1 May is Hari Buruh → Thursday
        ("2026-08-18 10:00", "2026-08-14 09:00"),  # Tuesday 18 Aug: Monday 17 is Hari Kemerdekaan
        ("2026-12-28 09:00", "2026-12-23 09:00"),  # Monday 28 Dec: 24 (cuti bersama), 25 (Natal) off
    ],
)
def test_reminders_fall_at_their_times_and_skip_holidays(calendar, starts, day_before):
    at = reminder_instants(wib(starts), calendar)
    assert at[DAY_BEFORE] == wib(day_before)
    assert at[SAME_DAY] == wib(starts).replace(hour=7, minute=0)


async def scheduled_on(ctx, starts: datetime, code: str = CODE):
    await with_resources(ctx)
    await commands.open_request(ctx, submitted(code, calendar=ctx.calendar), f"cause-{code}")
    return await commands.choose_slot(ctx, code, SlotChoice("R1", "H1", starts), "officer")


def reminders_of(ctx) -> list[AudienceReminderDue]:
    return [r.event for r in ctx.store.log if isinstance(r.event, AudienceReminderDue)]


async def test_a_scheduled_audience_arms_both_reminders_and_each_fires_once(ctx):
    state = await scheduled_on(ctx, wib("2026-02-18 09:00"))  # H-1 moved over Imlek
    armed = ctx.timers.armed
    day_before = armed[f"{CODE}-remind-day_before"]
    same_day = armed[f"{CODE}-remind-same_day"]
    assert (day_before.due_at, same_day.due_at) == (wib("2026-02-13 09:00"), wib("2026-02-18 07:00"))

    ctx.now.now = day_before.due_at
    [event] = await reminders.on_due(ctx, day_before)
    assert (event.reminder, event.starts_at, event.room, event.booking_id) == (
        DAY_BEFORE,
        state.placement.starts_at,
        "Ruang Rapat 1",
        state.placement.booking_id,
    )
    assert await reminders.on_due(ctx, day_before) == []  # redelivered: nothing twice
    ctx.now.now = same_day.due_at + timedelta(minutes=3)
    assert [e.reminder for e in await reminders.on_due(ctx, same_day)] == [SAME_DAY]
    assert await reminders.on_due(ctx, same_day) == []
    assert [e.reminder for e in reminders_of(ctx)] == [DAY_BEFORE, SAME_DAY]
    # nothing personal in the public event: no field could hold it
    assert personal_fields(AudienceReminderDue) == []
    assert personal_fields(AudienceRequested) == ["Sealed", "topic"]  # the check does bite


async def test_a_reschedule_moves_the_reminders_and_the_old_timer_sends_nothing(ctx):
    await scheduled_on(ctx, wib("2026-02-04 09:00"))
    old = ctx.timers.armed[f"{CODE}-remind-day_before"]
    assert old.due_at == wib("2026-02-03 09:00")
    moved = await commands.reschedule(
        ctx, CODE, SlotChoice("R1", "H1", wib("2026-02-18 10:00")), "Pejabat berhalangan", "officer"
    )
    assert ctx.timers.armed[f"{CODE}-remind-day_before"].due_at == wib("2026-02-13 09:00")
    assert ctx.timers.armed[f"{CODE}-remind-same_day"].due_at == wib("2026-02-18 07:00")
    ctx.now.now = old.due_at  # the old timer had fired before it was replaced
    assert await reminders.on_due(ctx, old) == []
    ctx.now.now = wib("2026-02-13 09:00")
    [event] = await reminders.on_due(ctx, ctx.timers.armed[f"{CODE}-remind-day_before"])
    assert event.booking_id == moved.placement.booking_id


async def test_a_reminder_already_sent_is_sent_again_for_the_new_slot(ctx):
    await scheduled_on(ctx, wib("2026-02-04 09:00"))
    ctx.now.now = wib("2026-02-03 09:00")
    assert len(await reminders.on_due(ctx, ctx.timers.armed[f"{CODE}-remind-day_before"])) == 1
    await commands.reschedule(ctx, CODE, SlotChoice("R1", "H1", wib("2026-02-06 09:00")), "x", "o")
    ctx.now.now = wib("2026-02-05 09:00")
    assert len(await reminders.on_due(ctx, ctx.timers.armed[f"{CODE}-remind-day_before"])) == 1
    assert len(reminders_of(ctx)) == 2


async def test_a_cancelled_audience_disarms_its_reminders_and_a_late_timer_sends_nothing(ctx):
    await scheduled_on(ctx, wib("2026-02-04 09:00"))
    fired = ctx.timers.armed[f"{CODE}-remind-same_day"]
    await commands.cancel(ctx, CODE, "Pejabat dinas luar", "officer")
    assert not [t for t in ctx.timers.armed if "-remind-" in t]
    assert {f"{CODE}-remind-day_before", f"{CODE}-remind-same_day"} <= set(ctx.timers.cancelled)
    ctx.now.now = fired.due_at
    assert await reminders.on_due(ctx, fired) == []
    assert reminders_of(ctx) == []


async def test_reminders_already_past_when_scheduled_are_not_armed(ctx):
    ctx.now.now = wib("2026-02-03 10:00")  # after the H-1 instant of a Wednesday audience
    await scheduled_on(ctx, wib("2026-02-04 09:00"))
    assert f"{CODE}-remind-day_before" not in ctx.timers.armed
    assert ctx.timers.armed[f"{CODE}-remind-same_day"].due_at == wib("2026-02-04 07:00")


async def test_no_reminder_once_the_audience_has_started(ctx):
    await scheduled_on(ctx, wib("2026-02-04 09:00"))
    due = ctx.timers.armed[f"{CODE}-remind-same_day"]
    ctx.now.now = wib("2026-02-04 09:00")  # the service was down all morning
    assert await reminders.on_due(ctx, due) == []


async def test_held_and_no_show_are_refused_before_the_audience_day(ctx):
    state = await scheduled_on(ctx, wib("2026-02-04 09:00"))
    day_before = wib("2026-02-03 16:00")
    with pytest.raises(AudienceDayError) as refused:
        rules_of_audience.mark_held(state, day_before, "o", None, day_before)
    assert refused.value.rule == "before_audience_day" and str(refused.value.day) == "2026-02-04"
    with pytest.raises(AudienceDayError):
        rules_of_audience.mark_no_show(state, "o", None, day_before)
    ctx.now.now = day_before
    with pytest.raises(AudienceDayError):
        await commands.mark_held(ctx, CODE, "o", None, None)
    ctx.now.now = wib("2026-02-04 10:30")  # its day, after it started
    held = await commands.mark_held(ctx, CODE, "o", None, None)
    assert held.status.value == "held"
    # a held audience is not reminded (the schedules whose instants have passed fired already)
    assert not [t for t, d in ctx.timers.armed.items() if "-remind-" in t and d.due_at > ctx.now()]


@pytest.fixture
def stamped(ctx, monkeypatch):
    """The in-memory store stamps its envelopes with the test's clock (when a booking was made)."""

    class Now(datetime):
        @classmethod
        def now(cls, tz=None):
            return ctx.now()

    monkeypatch.setattr(eventstore_model, "datetime", Now)
    return ctx


def upcoming(ctx, *codes):
    async def ids():
        return list(codes)

    ctx.upcoming_audiences = ids


async def test_a_revision_moving_h1_to_a_morning_already_gone_sends_it_at_once(stamped):
    ctx = stamped
    ctx.now.now = wib("2026-01-30 10:00")  # booked on Friday for Wednesday 4 February
    await scheduled_on(ctx, wib("2026-02-04 09:00"))
    upcoming(ctx, CODE)
    tuesday = ctx.timers.armed[f"{CODE}-remind-day_before"]
    assert tuesday.due_at == wib("2026-02-03 09:00")
    ctx.now.now = wib("2026-02-02 10:00")
    ctx.calendar = with_holiday("2026-02-03")  # Tuesday made a day off: H-1 is Monday 09.00, gone
    await reminders.sweep(ctx)
    [event] = reminders_of(ctx)
    assert (event.reminder, event.due_at) == (DAY_BEFORE, wib("2026-02-02 09:00"))
    assert f"{CODE}-remind-day_before" not in ctx.timers.armed  # the stale Tuesday timer
    assert await reminders.on_due(ctx, tuesday) == []
    await reminders.sweep(ctx)  # another round (or replica): nothing twice
    assert len(reminders_of(ctx)) == 1
    assert ctx.timers.armed[f"{CODE}-remind-same_day"].due_at == wib("2026-02-04 07:00")


async def test_after_a_crash_the_sweep_rearms_a_lost_timer_and_catches_up_a_passed_one(stamped):
    ctx = stamped
    ctx.now.now = wib("2026-01-30 10:00")
    await scheduled_on(ctx, wib("2026-02-04 09:00"))
    upcoming(ctx, CODE)
    ctx.timers.armed.clear()  # crashed between the append and the arming
    ctx.now.now = wib("2026-02-02 10:00")
    await reminders.sweep(ctx)  # back before H-1: both re-armed, nothing sent
    assert {k: d.due_at for k, d in ctx.timers.armed.items()} == {
        f"{CODE}-remind-day_before": wib("2026-02-03 09:00"),
        f"{CODE}-remind-same_day": wib("2026-02-04 07:00"),
    }
    assert reminders_of(ctx) == []
    ctx.timers.armed.clear()
    ctx.now.now = wib("2026-02-03 11:00")  # back after H-1's instant: caught up
    await reminders.sweep(ctx)
    assert [(e.reminder, e.due_at) for e in reminders_of(ctx)] == [(DAY_BEFORE, wib("2026-02-03 09:00"))]
    assert f"{CODE}-remind-same_day" in ctx.timers.armed


async def test_after_an_overnight_outage_only_the_same_day_reminder_goes(stamped):
    ctx = stamped
    ctx.now.now = wib("2026-01-30 10:00")
    await scheduled_on(ctx, wib("2026-02-04 09:00"))
    upcoming(ctx, CODE)
    day_before = ctx.timers.armed[f"{CODE}-remind-day_before"]
    ctx.now.now = wib("2026-02-04 07:05")  # down from Tuesday 08.00 to Wednesday 07.05
    assert await reminders.on_due(ctx, day_before) == []  # the late H-1 timer
    await reminders.sweep(ctx)
    assert [e.reminder for e in reminders_of(ctx)] == [SAME_DAY]


async def test_a_reminder_gone_before_the_booking_is_not_caught_up(stamped):
    ctx = stamped
    ctx.now.now = wib("2026-02-03 10:00")  # booked after Tuesday's H-1 instant
    await scheduled_on(ctx, wib("2026-02-04 09:00"))
    upcoming(ctx, CODE)
    await reminders.sweep(ctx)
    assert reminders_of(ctx) == []


async def test_a_schedule_about_to_fire_is_not_cancelled(ctx):
    await scheduled_on(ctx, wib("2026-02-04 09:00"))
    ctx.now.now = wib("2026-02-03 08:59")
    await commands.cancel(ctx, CODE, "Pejabat dinas luar", "officer")
    assert f"{CODE}-remind-day_before" in ctx.timers.armed  # fires and finds it cancelled
    assert f"{CODE}-remind-same_day" not in ctx.timers.armed


async def test_a_revision_moving_h1_to_a_morning_still_to_come_rearms_it_there(stamped):
    ctx = stamped
    ctx.now.now = wib("2026-01-30 10:00")
    await scheduled_on(ctx, wib("2026-02-04 09:00"))
    upcoming(ctx, CODE)
    ctx.now.now = wib("2026-01-30 12:00")
    ctx.calendar = with_holiday("2026-02-03")
    await reminders.sweep(ctx)  # what the calendar refresh does after a revision
    assert ctx.timers.armed[f"{CODE}-remind-day_before"].due_at == wib("2026-02-02 09:00")
    assert reminders_of(ctx) == []


async def test_the_sweeps_rearm_only_a_timer_the_server_does_not_hold(ctx):
    from serambi_contracts.sla import ClockDue
    from serambi_scheduling.application.timers import rearm_if_missing

    due = ClockDue(case_id=CODE, clock="reminder_same_day", due_at=wib("2026-02-04 07:00"))
    assert await rearm_if_missing(ctx, f"{CODE}-remind-same_day", due, kind="reminder") is True
    assert ctx.timers.armed[f"{CODE}-remind-same_day"] == due
    assert await rearm_if_missing(ctx, f"{CODE}-remind-same_day", due, kind="reminder") is False
