"""The requester's reminders in a running scheduling service on real NATS and SecantusDB: the
server holds their timers at the H-1 and same-day instants, a reschedule moves them, a
cancellation purges them, and a fired timer (delivered twice) appends AudienceReminderDue once.
The hosts' day list: its timer armed for the next working morning, and its morning making
HostDayListDue once for the host."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, time, timedelta

import pytest
from serambi_calendar import WIB
from serambi_contracts import AggregateRef, encode_headers
from serambi_contracts.base import Sealed
from serambi_contracts.intake import InstitutionType, IntakeChannel, Requester, RequestSubmitted
from serambi_contracts.scheduling import AudienceReminderDue, HostDayListDue, ReminderKind
from serambi_contracts.sla import ClockDue
from serambi_kit.eventstore.model import encode_event, make_envelopes
from serambi_kit.timers import schedule_subject
from serambi_scheduling.application import commands, placement, reminders, resources
from serambi_scheduling.application.commands import SlotChoice
from serambi_scheduling.application.context import Context
from serambi_scheduling.application.reminders import timer_id
from serambi_scheduling.domain import daylist
from serambi_scheduling.domain.reminders import reminder_instants, working_day_before
from serambi_scheduling.domain.resources import Host, Room
from serambi_scheduling.main import create_app
from serambi_scheduling.settings import SchedulingSettings
from serambi_testing import localstack

SEALED = Sealed(key="k1", nonce="AAAAAAAAAAAAAAAA", data="AAAA")
DAY_BEFORE, SAME_DAY = ReminderKind.DAY_BEFORE, ReminderKind.SAME_DAY


@pytest.fixture
async def running(nats_url, mongo_url, mongo_client) -> AsyncIterator[Context]:
    name = f"test_{uuid.uuid4().hex[:10]}"
    settings = SchedulingSettings(
        nats_url=nats_url, mongo_url=mongo_url, mongo_database=name, vault_database=f"{name}_vault"
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app.state.scheduling
    await localstack.drop_databases(mongo_client, name, f"{name}_vault")


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "not within the timeout"
        await asyncio.sleep(0.1)


async def scheduled(ctx: Context, working_days_ahead: int):
    """An audience of its own (own room and host), scheduled ``working_days_ahead`` working days
    from now at 09.00 WIB."""
    now = datetime.now(UTC)
    code = f"AUD-2026-{uuid.uuid4().int % 10**9:09d}"
    request = RequestSubmitted(
        tracking_code=code,
        channel=IntakeChannel.ONLINE,
        requester=Requester(
            name=SEALED,
            position="Kepala Dinas",
            institution="Dinas Koperasi",
            institution_type=InstitutionType.LOCAL_GOVERNMENT,
            email=SEALED,
        ),
        topic=SEALED,
        purpose=SEALED,
        participants=4,
        proposed_dates=[],
        submitted_at=now - timedelta(hours=1),
        answer_due_at=now + timedelta(days=3),
        access_token_sha256="0" * 64,
    )
    await commands.open_request(ctx, request, f"cause-{code}")
    suffix = uuid.uuid4().hex[:8]
    room = await resources.register_room(ctx, Room(f"ruang-{suffix}", "Ruang uji", 10, "Lantai 2"), "test")
    host = await resources.register_host(ctx, Host(f"tuan-{suffix}", "Tuan rumah uji", "Kepala"), "test")
    return (
        code,
        room.room_id,
        host.host_id,
        await slot_in(ctx, room.room_id, host.host_id, working_days_ahead),
    )


async def slot_in(ctx: Context, room_id: str, host_id: str, working_days_ahead: int) -> SlotChoice:
    day = ctx.calendar.add_working_days(datetime.now(UTC), working_days_ahead).astimezone(WIB).date()
    return SlotChoice(room_id, host_id, datetime.combine(day, time(9, 0), WIB))


async def armed(ctx: Context, code: str) -> dict[ReminderKind, datetime | None]:
    out = {}
    for kind in ReminderKind:
        due = await ctx.timers.scheduled(timer_id(code, kind))
        out[kind] = None if due is None else due.due_at
    return out


async def fire_now(ctx: Context, code: str | None, due: ClockDue) -> None:
    """The server fires ``due`` within a second or two, as if its instant had come (a schedule of
    its own id, so a second call is a second delivery of the same timer); ``code`` None: the day
    list's timer."""
    tid = (
        daylist.timer_id(due.due_at.astimezone(WIB).date())
        if code is None
        else timer_id(code, ReminderKind(due.clock.removeprefix("reminder_")))
    )
    ref = AggregateRef("timers", "scheduling", tid)
    [envelope] = make_envelopes(
        ctx.timers.source, ref, [due], expected_version=0, event_ids=[uuid.uuid4().hex]
    )
    at = (datetime.now(UTC) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    headers = {
        **encode_headers(envelope),
        "Nats-Schedule": f"@at {at}",
        "Nats-Schedule-Target": ref.subject(ClockDue.name()),
        "Nats-Schedule-TTL": "3600s",
    }
    await ctx.timers.js.publish(schedule_subject("scheduling", ref.id), encode_event(due), headers=headers)


async def test_reminders_are_armed_moved_by_a_reschedule_and_purged_by_a_cancellation(running):
    ctx = running
    code, room_id, host_id, choice = await scheduled(ctx, 4)
    await commands.choose_slot(ctx, code, choice, "officer")
    first = reminder_instants(choice.starts_at, ctx.calendar)
    assert await armed(ctx, code) == first
    assert first[DAY_BEFORE].astimezone(WIB).date() == working_day_before(
        ctx.calendar, choice.starts_at.astimezone(WIB).date()
    )

    moved = await slot_in(ctx, room_id, host_id, 6)
    await commands.reschedule(ctx, code, moved, "Pejabat dinas luar", "officer")
    assert await armed(ctx, code) == reminder_instants(moved.starts_at, ctx.calendar) != first

    await commands.cancel(ctx, code, "", "officer")  # no reason: the fake requester has no data key
    assert await armed(ctx, code) == {DAY_BEFORE: None, SAME_DAY: None}


async def test_a_fired_reminder_delivered_twice_is_recorded_once_and_a_stale_one_not_at_all(running):
    ctx = running
    code, room_id, host_id, choice = await scheduled(ctx, 4)
    await commands.choose_slot(ctx, code, choice, "officer")
    due = await ctx.timers.scheduled(timer_id(code, DAY_BEFORE))
    assert due is not None

    async def recorded() -> list[AudienceReminderDue]:
        events = (await ctx.store.load(placement.audience_ref(code))).payloads
        return [e for e in events if isinstance(e, AudienceReminderDue)]

    await fire_now(ctx, code, due)
    await fire_now(ctx, code, due)  # a second delivery of the same timer
    await eventually(lambda: _has(recorded, 1))
    await asyncio.sleep(1.5)  # the second one has fired and been handled by now
    [event] = await recorded()
    assert (event.reminder, event.starts_at, event.due_at) == (DAY_BEFORE, choice.starts_at, due.due_at)

    # the same-day timer of a slot the audience no longer holds: nothing
    stale = await ctx.timers.scheduled(timer_id(code, SAME_DAY))
    await commands.reschedule(ctx, code, await slot_in(ctx, room_id, host_id, 6), "x", "officer")
    await fire_now(ctx, code, stale)
    await asyncio.sleep(2.5)
    assert len(await recorded()) == 1


async def _has(recorded, n: int) -> bool:
    return len(await recorded()) >= n


async def test_the_day_list_timer_waits_for_the_next_working_morning_and_lists_the_hosts_day_once(running):
    ctx = running
    next_morning = daylist.next_list_instant(ctx.calendar, datetime.now(UTC))
    armed_at = await ctx.timers.scheduled(daylist.timer_id(next_morning.astimezone(WIB).date()))
    assert armed_at is not None  # armed at start-up
    assert armed_at.due_at == next_morning
    code, room_id, host_id, choice = await scheduled(ctx, 3)
    await commands.choose_slot(ctx, code, choice, "officer")
    morning = daylist.list_instant(choice.starts_at.astimezone(WIB).date())
    ctx.now = lambda: morning + timedelta(seconds=1)  # that morning has come
    due = ClockDue(
        case_id=daylist.timer_id(morning.astimezone(WIB).date()), clock=daylist.CLOCK, due_at=morning
    )
    ref = daylist.daylist_ref(host_id, morning.astimezone(WIB).date())

    async def lists() -> list[HostDayListDue]:
        return [e for e in (await ctx.store.load(ref)).payloads if isinstance(e, HostDayListDue)]

    async def seen() -> bool:
        return len(await lists()) >= 1

    await fire_now(ctx, None, due)
    await fire_now(ctx, None, due)
    await eventually(seen)
    await asyncio.sleep(1.5)
    [event] = await lists()
    assert [(a.audience_id, a.starts_at) for a in event.audiences] == [(code, choice.starts_at)]
    after = daylist.next_list_instant(ctx.calendar, morning + timedelta(seconds=1))
    assert (await ctx.timers.scheduled(daylist.timer_id(after.astimezone(WIB).date()))).due_at == after


async def test_the_sweep_rearms_a_lost_reminder_timer_and_catches_up_one_whose_instant_passed(running):
    ctx = running
    code, room_id, host_id, choice = await scheduled(ctx, 4)
    await commands.choose_slot(ctx, code, choice, "officer")

    async def upcoming() -> bool:
        return code in await ctx.upcoming_audiences()  # the read model (queries.upcoming_audience_ids)

    await eventually(upcoming)
    for kind in ReminderKind:
        await ctx.timers.cancel(timer_id(code, kind))  # lost (a crash before the arming)
    assert await armed(ctx, code) == {DAY_BEFORE: None, SAME_DAY: None}
    await reminders.sweep(ctx)
    instants = reminder_instants(choice.starts_at, ctx.calendar)
    assert await armed(ctx, code) == instants

    await ctx.timers.cancel(timer_id(code, DAY_BEFORE))
    ctx.now = lambda: instants[DAY_BEFORE] + timedelta(hours=2)  # back after H-1's instant
    await reminders.sweep(ctx)
    events = (await ctx.store.load(placement.audience_ref(code))).payloads
    [event] = [e for e in events if isinstance(e, AudienceReminderDue)]
    assert (event.reminder, event.due_at) == (DAY_BEFORE, instants[DAY_BEFORE])
    await reminders.sweep(ctx)  # another round: not twice
    events = (await ctx.store.load(placement.audience_ref(code))).payloads
    assert len([e for e in events if isinstance(e, AudienceReminderDue)]) == 1
    assert (await armed(ctx, code))[SAME_DAY] == instants[SAME_DAY]
