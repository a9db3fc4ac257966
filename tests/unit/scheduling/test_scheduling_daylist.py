"""The host's day list: each working morning at 07.00 WIB (2026 dates of the packaged
calendar), the audiences still scheduled with the host that day, once per host and day."""

from __future__ import annotations

from datetime import timedelta

from scheduling_support import personal_fields, submitted, wib, with_resources
from serambi_contracts.scheduling import HostDayListDue
from serambi_contracts.sla import ClockDue
from serambi_scheduling.application import commands, daylist
from serambi_scheduling.application.commands import SlotChoice
from serambi_scheduling.domain.daylist import CLOCK, due_on, next_list_instant, timer_id


def test_the_list_falls_at_seven_on_the_next_working_morning(calendar):
    assert next_list_instant(calendar, wib("2026-02-03 06:59")) == wib("2026-02-03 07:00")
    assert next_list_instant(calendar, wib("2026-02-03 07:00")) == wib("2026-02-04 07:00")
    assert next_list_instant(calendar, wib("2026-02-06 08:00")) == wib("2026-02-09 07:00")  # weekend
    # Friday 13 Feb 2026: Monday 16 (cuti bersama Imlek) and Tuesday 17 (Imlek) are off
    assert next_list_instant(calendar, wib("2026-02-13 08:00")) == wib("2026-02-18 07:00")
    assert due_on(calendar, wib("2026-02-18 07:00"), wib("2026-02-18 07:00:01")).isoformat() == "2026-02-18"
    assert due_on(calendar, wib("2026-02-18 07:00"), wib("2026-02-19 07:00")) is None  # handled too late
    assert due_on(calendar, wib("2026-02-17 07:00"), wib("2026-02-17 07:00")) is None  # a holiday


def lists(ctx) -> list[HostDayListDue]:
    return [r.event for r in ctx.store.log if isinstance(r.event, HostDayListDue)]


async def test_each_host_gets_the_audiences_still_scheduled_that_day_once(ctx):
    await with_resources(ctx)
    for n, starts in enumerate(
        ("2026-02-04 13:00", "2026-02-04 09:00", "2026-02-04 10:30", "2026-02-05 09:00")
    ):
        code = f"AUD-2026-00010{n}"
        await commands.open_request(ctx, submitted(code, calendar=ctx.calendar), f"cause-{code}")
        await commands.choose_slot(ctx, code, SlotChoice("R1", "H1", wib(starts)), "officer")
    await commands.cancel(ctx, "AUD-2026-000102", "", "officer")  # 10.30: cancelled before the morning
    await daylist.arm(ctx)
    assert ctx.timers.armed["host-day-list-20260203"].due_at == wib("2026-02-03 07:00")  # tomorrow: Tuesday
    ctx.now.now = wib("2026-02-04 07:00:01")
    due = ClockDue(case_id="host-day-list-20260204", clock=CLOCK, due_at=wib("2026-02-04 07:00"))
    [event] = await daylist.on_due(ctx, due)
    assert (event.host_id, event.host, event.day.isoformat()) == ("H1", "Ir. Budi", "2026-02-04")
    assert [a.audience_id for a in event.audiences] == ["AUD-2026-000101", "AUD-2026-000100"]  # by start
    assert event.audiences[0].institution == "Dinas Perindustrian Kota Singkawang"
    assert personal_fields(HostDayListDue) == []  # no field for sealed or requester's data
    assert await daylist.on_due(ctx, due) == []  # redelivered: once per host and day
    assert len(lists(ctx)) == 1
    assert ctx.timers.armed["host-day-list-20260205"].due_at == wib("2026-02-05 07:00")  # the next morning
    ctx.now.now += timedelta(days=1)  # handled a day late: no stale list
    assert await daylist.on_due(ctx, due) == []


async def test_a_list_decided_late_leaves_out_the_audiences_started_and_none_left_sends_nothing(ctx):
    await with_resources(ctx)
    for n, starts in enumerate(("2026-02-04 08:00", "2026-02-04 13:00")):
        code = f"AUD-2026-00020{n}"
        await commands.open_request(ctx, submitted(code, calendar=ctx.calendar), f"cause-{code}")
        await commands.choose_slot(ctx, code, SlotChoice("R1", "H1", wib(starts)), "officer")
    due = ClockDue(case_id="host-day-list-20260204", clock=CLOCK, due_at=wib("2026-02-04 07:00"))
    ctx.now.now = wib("2026-02-04 22:30")  # scheduling back at night: both over
    assert await daylist.on_due(ctx, due) == []
    ctx.now.now = wib("2026-02-04 09:30")  # back mid-morning: only the one still to come
    [event] = await daylist.on_due(ctx, due)
    assert [a.audience_id for a in event.audiences] == ["AUD-2026-000201"]


async def test_arming_the_next_morning_at_seven_leaves_this_mornings_timer_to_fire(ctx):
    ctx.now.now = wib("2026-02-03 06:00")
    await daylist.arm(ctx)
    ctx.now.now = wib("2026-02-03 07:00")  # a replica's sweep, before this morning's timer fired
    await daylist.arm(ctx)
    assert {t: d.due_at for t, d in ctx.timers.armed.items() if t.startswith("host-day-list")} == {
        "host-day-list-20260203": wib("2026-02-03 07:00"),
        "host-day-list-20260204": wib("2026-02-04 07:00"),
    }
    assert timer_id(wib("2026-02-04 07:00").date()) == "host-day-list-20260204"
