"""A calendar revision made over HTTP (the admin console's form): scheduling records
WorkingDayRevised, reads it back into its live calendar and moves the open answer deadline it
changes at once — real nats-server (its own: revisions are global to a stream) and SecantusDB."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from serambi_calendar import WIB, Clock, SlaPolicy, WorkingCalendar, load_calendar
from serambi_contracts.base import Sealed
from serambi_contracts.intake import InstitutionType, IntakeChannel, Requester, RequestSubmitted
from serambi_contracts.scheduling import AudienceDeadlineMoved, WorkingDayRevised
from serambi_kit.auth import issue_dev_token
from serambi_kit.calendars import CALENDAR
from serambi_kit.settings import ServiceSettings
from serambi_scheduling.application import commands, placement
from serambi_scheduling.main import create_app
from serambi_scheduling.settings import SchedulingSettings
from serambi_testing import localstack

SEALED = Sealed(key="k1", nonce="AAAAAAAAAAAAAAAA", data="AAAA")
URL = "/api/v1/calendar/working-days"


def bearer(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_dev_token(ServiceSettings(), [role], subject=f'{role}-1')}"}


def first_working_day_after(calendar: WorkingCalendar, instant: datetime) -> date:
    day = instant.astimezone(WIB).date() + timedelta(days=1)
    while not calendar.working_periods(day):
        day += timedelta(days=1)
    return day


@pytest.fixture
def own_nats(tmp_path) -> Iterator[str]:
    process = localstack.nats_server(tmp_path / "nats", localstack.free_port()).start()
    yield localstack.nats_url(process.port)
    process.stop()


@pytest.fixture
async def settings(
    own_nats, mongo_url, mongo_client, monkeypatch, tmp_path
) -> AsyncIterator[SchedulingSettings]:
    name = f"test_{uuid.uuid4().hex[:10]}"
    (tmp_path / "overrides-wd.toml").write_text('version = "wd.1"\n')
    monkeypatch.setenv("SERAMBI_CALENDAR_OVERRIDES", str(tmp_path / "overrides-wd.toml"))
    yield SchedulingSettings(
        nats_url=own_nats,
        mongo_url=mongo_url,
        mongo_database=name,
        vault_database=f"{name}_vault",
        sla_sweep_seconds=0,
        calendar_refresh_seconds=0,
    )
    await localstack.drop_databases(mongo_client, name, f"{name}_vault")


async def test_an_added_cuti_bersama_is_recorded_and_moves_an_open_answer_deadline_at_once(
    settings, tmp_path
):
    policy = SlaPolicy()
    submitted_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    first = load_calendar(tmp_path / "overrides-wd.toml")
    due = Clock("audience_answer", submitted_at).deadline(first, policy)
    holiday = first_working_day_after(first, submitted_at)
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
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        ctx = app.state.scheduling
        await commands.open_request(ctx, request, f"cause-{code}")  # undecided: the clock runs
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://scheduling") as client:
            body = {
                "action": "add",
                "day": holiday.isoformat(),
                "holiday_name": "Cuti bersama (uji)",
                "decree": "SKB 3 Menteri, revisi uji",
            }
            assert (await client.post(URL, json=body)).status_code == 401
            assert (await client.post(URL, json=body, headers=bearer("scheduler"))).status_code == 403
            wrong = await client.post(URL, json={**body, "action": "remove"}, headers=bearer("admin"))
            assert wrong.status_code == 422 and wrong.json()["errors"][0]["rule"] == "not_a_holiday"
            far = await client.post(URL, json={**body, "day": "2001-01-02"}, headers=bearer("admin"))
            assert far.status_code == 422

            done = await client.post(URL, json=body, headers=bearer("admin"))
            assert done.status_code == 201, done.text
            answer = done.json()
            assert answer["revision"] == 1 and answer["moved"] == 1
            assert answer["calendar_revision"] == "overrides-wd.toml vwd.1 + revisi 1"

            listed = (
                await client.get(URL, params={"year": holiday.year}, headers=bearer("scheduler"))
            ).json()
            [day] = [d for d in listed["days"] if d["date"] == holiday.isoformat()]
            assert day["non_working"] and day["reference"] == "SKB 3 Menteri, revisi uji [revisi 1]"
            assert [r["revision"] for r in listed["revisions"]] == [1]

        [moved] = [
            e
            for e in (await ctx.store.load(placement.audience_ref(code))).payloads
            if isinstance(e, AudienceDeadlineMoved)
        ]
        assert moved.previous_due_at == due and moved.due_at > due
        assert moved.calendar_revision == "overrides-wd.toml vwd.1 + revisi 1"
        [revised] = (await ctx.store.load(CALENDAR)).payloads
        assert isinstance(revised, WorkingDayRevised) and revised.revised_by == "admin-1"

    again = create_app(settings)  # a restart reads the revision and moves nothing twice
    async with again.router.lifespan_context(again):
        ctx = again.state.scheduling
        assert ctx.calendar.revision == "overrides-wd.toml vwd.1 + revisi 1"
        assert not ctx.calendar.working_periods(holiday)
        moves = [
            e
            for e in (await ctx.store.load(placement.audience_ref(code))).payloads
            if isinstance(e, AudienceDeadlineMoved)
        ]
        assert len(moves) == 1
