"""Scheduling's periodic sweep, in a running service on real NATS and SecantusDB: after
start-up, each round appends overdue SLA events, arms again the timers the server lost and
frees bookings no audience holds."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, time, timedelta

import pytest
from serambi_calendar import WIB
from serambi_contracts.base import Sealed
from serambi_contracts.intake import InstitutionType, IntakeChannel, Requester, RequestSubmitted
from serambi_contracts.sla import SLABreached
from serambi_scheduling.application import commands, placement, resources, sla
from serambi_scheduling.application.context import Context
from serambi_scheduling.domain.audience import audience_of
from serambi_scheduling.domain.resources import Host, Room
from serambi_scheduling.domain.rules import Slot
from serambi_scheduling.main import create_app
from serambi_scheduling.settings import SchedulingSettings
from serambi_testing import localstack

SEALED = Sealed(key="k1", nonce="AAAAAAAAAAAAAAAA", data="AAAA")
ROUND = 0.3  # seconds between sweeps


@pytest.fixture
async def running(nats_url, mongo_url, mongo_client) -> AsyncIterator[Context]:
    name = f"test_{uuid.uuid4().hex[:10]}"
    settings = SchedulingSettings(
        nats_url=nats_url,
        mongo_url=mongo_url,
        mongo_database=name,
        vault_database=f"{name}_vault",
        sla_sweep_seconds=ROUND,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app.state.scheduling
    await localstack.drop_databases(mongo_client, name, f"{name}_vault")


def request(due: datetime) -> RequestSubmitted:
    now = datetime.now(UTC)
    return RequestSubmitted(
        tracking_code=f"AUD-2026-{uuid.uuid4().int % 10**9:09d}",
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
        answer_due_at=due,
        access_token_sha256="0" * 64,
    )


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "not within the timeout"
        await asyncio.sleep(0.1)


async def state_of(ctx: Context, audience_id: str):
    return audience_of((await ctx.store.load(placement.audience_ref(audience_id))).payloads)


async def opened(ctx: Context, due: datetime):
    submitted = request(due)  # the cause's id is unique, as an event's envelope id is
    return await commands.open_request(ctx, submitted, f"cause-{submitted.tracking_code}")


async def test_a_round_after_start_up_reports_an_overdue_clock_and_arms_a_lost_timer_again(running):
    ctx = running
    overdue = await opened(ctx, datetime.now(UTC) - timedelta(minutes=1))
    later = await opened(ctx, datetime.now(UTC) + timedelta(days=3))
    await sla.arm(ctx, later)
    breach = f"{later.audience_id}-breach"
    armed = await ctx.timers.scheduled(breach)
    await ctx.timers.cancel(breach)  # lost, or purged by mistake

    async def breached() -> bool:
        state = await state_of(ctx, overdue.audience_id)
        return state.breaches == {overdue.request.answer_due_at}

    async def armed_again() -> bool:
        return await ctx.timers.scheduled(breach) == armed

    await eventually(breached)
    await eventually(armed_again)
    await asyncio.sleep(3 * ROUND)
    events = (await ctx.store.load(placement.audience_ref(overdue.audience_id))).payloads
    assert len([e for e in events if isinstance(e, SLABreached)]) == 1


async def test_a_round_after_start_up_frees_a_booking_no_audience_holds(running):
    ctx = running
    state = await opened(ctx, datetime.now(UTC) + timedelta(days=3))
    day = ctx.calendar.add_working_days(datetime.now(UTC), 3).astimezone(WIB).date()
    # a room and a host of this test's own: the session's streams hold other tests' room-days,
    # which this test's fresh read model never saw (its projection would wait for their start)
    suffix = uuid.uuid4().hex[:8]
    room = await resources.register_room(ctx, Room(f"ruang-{suffix}", "Ruang uji", 10, "Lantai 2"), "test")
    host = await resources.register_host(ctx, Host(f"tuan-{suffix}", "Tuan rumah uji", "Kepala"), "test")
    await ctx.catalog.refresh()
    starts = datetime.combine(day, time(9, 0), WIB)
    in_flight = await placement.book(ctx, state, Slot(starts, starts + timedelta(hours=1), room, host))

    async def held() -> set[str]:
        return {b["booking_id"] for b in await ctx.bookings.bookings(day, day)}

    async def visible() -> bool:
        return in_flight.booking_id in await held()

    async def freed() -> bool:
        return in_flight.booking_id not in await held()

    await eventually(visible)
    await asyncio.sleep(3 * ROUND)
    assert await visible()  # the audience may still take it: the sweep keeps it
    # the audience moves on without taking it (a crash between the protocol's steps)
    await commands.place_automatically(ctx, state.audience_id, f"cause-{state.audience_id}")
    assert (await state_of(ctx, state.audience_id)).placement.booking_id != in_flight.booking_id
    await eventually(freed)
