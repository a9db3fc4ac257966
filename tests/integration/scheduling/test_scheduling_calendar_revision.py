"""A calendar revision and the audience answer clock, in a running scheduling service on real NATS
and SecantusDB: a revised override file that adds a holiday inside an open audience's answer
window moves its deadline (AudienceDeadlineMoved), its timers and its read model at the next
start; the same calendar again appends nothing, nor does a revision outside the window."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from serambi_calendar import WIB, Clock, SlaPolicy, WorkingCalendar, load_calendar
from serambi_contracts.base import Sealed
from serambi_contracts.intake import InstitutionType, IntakeChannel, Requester, RequestSubmitted
from serambi_contracts.scheduling import AudienceDeadlineMoved
from serambi_kit.revisions import recorded_fingerprint
from serambi_scheduling.adapters.projections import AUDIENCES
from serambi_scheduling.application import commands, placement, sla
from serambi_scheduling.application.context import Context
from serambi_scheduling.main import create_app
from serambi_scheduling.settings import SchedulingSettings
from serambi_testing import localstack

SEALED = Sealed(key="k1", nonce="AAAAAAAAAAAAAAAA", data="AAAA")


def overrides(path: Path, version: str, *holidays: date) -> Path:
    """An override file: the packaged days plus ``holidays`` (a revised SKB)."""
    days = "".join(
        f'\n[[day]]\naction = "add"\ndate = {day.isoformat()}\nname = "Cuti bersama (revisi)"\n'
        f'decree = "SKB 3 Menteri, revisi {version}"\n'
        for day in holidays
    )
    path.write_text(f'version = "{version}"\n{days}')
    return path


def first_working_day_after(calendar: WorkingCalendar, instant: datetime) -> date:
    day = instant.astimezone(WIB).date() + timedelta(days=1)
    while not calendar.working_periods(day):
        day += timedelta(days=1)
    return day


class Service:
    """Starts scheduling on a given calendar, on one database for every start of the test."""

    def __init__(self, settings: SchedulingSettings, db, folder: Path, monkeypatch) -> None:
        self.settings, self.db, self.folder, self.monkeypatch = settings, db, folder, monkeypatch

    def calendar(self, version: str, *holidays: date) -> Path:
        return overrides(self.folder / f"overrides-{version}.toml", version, *holidays)

    @asynccontextmanager
    async def run(self, version: str, *holidays: date) -> AsyncIterator[Context]:
        self.monkeypatch.setenv("SERAMBI_CALENDAR_OVERRIDES", str(self.calendar(version, *holidays)))
        app = create_app(self.settings)
        async with app.router.lifespan_context(app):
            yield app.state.scheduling


@pytest.fixture
async def service(nats_url, mongo_url, mongo_client, monkeypatch, tmp_path) -> AsyncIterator[Service]:
    name = f"test_{uuid.uuid4().hex[:10]}"
    settings = SchedulingSettings(
        nats_url=nats_url,
        mongo_url=mongo_url,
        mongo_database=name,
        vault_database=f"{name}_vault",
        sla_sweep_seconds=0,
    )
    yield Service(settings, mongo_client[name], tmp_path, monkeypatch)
    await localstack.drop_databases(mongo_client, name, f"{name}_vault")


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "not within the timeout"
        await asyncio.sleep(0.1)


async def moves(ctx: Context, audience_id: str) -> list[AudienceDeadlineMoved]:
    events = (await ctx.store.load(placement.audience_ref(audience_id))).payloads
    return [e for e in events if isinstance(e, AudienceDeadlineMoved)]


async def test_a_revision_with_a_holiday_in_the_answer_window_moves_the_deadline_and_its_timers_once(service):
    policy = SlaPolicy()
    submitted_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    first = load_calendar(service.calendar("it.1"))
    due = Clock("audience_answer", submitted_at).deadline(first, policy)
    holiday = first_working_day_after(first, submitted_at)
    assert holiday <= due.astimezone(WIB).date()  # inside the three working days
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
        submitted_at=submitted_at,
        answer_due_at=due,
        access_token_sha256="0" * 64,
    )

    async with service.run("it.1") as ctx:
        state = await commands.open_request(ctx, request, f"cause-{code}")  # undecided: the clock runs
        await sla.arm(ctx, state)
        assert (await ctx.timers.scheduled(f"{code}-breach")).due_at == due

        async def listed() -> bool:
            return code in await ctx.open_audiences()

        await eventually(listed)

    async with service.run("it.2", holiday) as ctx:
        [moved] = await moves(ctx, code)
        expected = Clock("audience_answer", submitted_at).deadline(ctx.calendar, policy)
        assert moved.previous_due_at == due
        assert moved.due_at == expected > due
        assert moved.calendar_revision == "overrides-it.2.toml vit.2"
        assert (await ctx.timers.scheduled(f"{code}-breach")).due_at == expected

        async def projected() -> bool:
            document = await service.db[AUDIENCES].find_one({"_id": code})
            return document["answer_due_at"].replace(tzinfo=UTC) == expected

        await eventually(projected)
        assert (await recorded_fingerprint(service.db)).startswith("overrides-it.2.toml vit.2")

    async with service.run("it.2", holiday) as ctx:  # restarted on the same calendar
        assert len(await moves(ctx, code)) == 1
        assert (await ctx.timers.scheduled(f"{code}-breach")).due_at == expected

    later = first_working_day_after(first, expected + timedelta(days=30))
    async with service.run("it.3", holiday, later) as ctx:  # a revision outside the window
        assert len(await moves(ctx, code)) == 1
        assert (await ctx.timers.scheduled(f"{code}-breach")).due_at == expected
        assert (await recorded_fingerprint(service.db)).startswith("overrides-it.3.toml vit.3")
