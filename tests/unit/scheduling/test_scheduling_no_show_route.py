"""POST /api/v1/audiences/{id}/no-show: the scheduler records that the requester did not come —
a final outcome of its own (AudienceNoShow), not a cancellation. The audience router on the
in-memory use-case context, with development tokens."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from scheduling_support import submitted, with_resources
from serambi_kit.auth import TokenVerifier, issue_dev_token
from serambi_kit.settings import ServiceSettings
from serambi_kit.state import KitState, install
from serambi_scheduling.api import audiences, common
from serambi_scheduling.application import commands
from serambi_scheduling.domain.time import wib_day

CODE = "AUD-2026-000031"


def bearer(*roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_dev_token(ServiceSettings(), list(roles), subject='jadwal')}"}


@pytest.fixture
async def api(ctx):
    app = FastAPI()
    app.include_router(audiences.router)
    common.install_error_handlers(app)
    app.state.scheduling = ctx
    install(app, KitState(ServiceSettings(), token_verifier=TokenVerifier(ServiceSettings())))
    await with_resources(ctx)
    await commands.open_request(ctx, submitted(CODE, calendar=ctx.calendar), "cause")
    state = await commands.place_automatically(ctx, CODE, "cause")
    assert state.status.value == "scheduled"
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://scheduling"
    ) as client:
        yield client, state.placement


async def test_only_a_scheduler_or_admin_may_record_a_no_show(api):
    client, _ = api
    path = f"/api/v1/audiences/{CODE}/no-show"
    assert (await client.post(path, json={})).status_code == 401
    for role in ("desk", "complaint_officer", "complaint_team", "supervisor"):
        assert (await client.post(path, json={}, headers=bearer(role))).status_code == 403, role


async def test_a_no_show_is_refused_before_the_slot_starts_then_recorded_once_as_its_own_outcome(api, ctx):
    client, slot = api
    path = f"/api/v1/audiences/{CODE}/no-show"
    early = await client.post(path, json={}, headers=bearer("scheduler"))  # the day before
    assert early.status_code == 409, early.text
    assert early.json()["error"] == "too_early" and early.json()["rule"] == "before_audience_day"
    assert early.json()["day"] == wib_day(slot.starts_at).isoformat()
    ctx.now.now = slot.starts_at - timedelta(minutes=10)  # its day, before it starts
    early = await client.post(path, json={}, headers=bearer("scheduler"))
    assert early.status_code == 409 and "before it starts" in early.json()["detail"]
    too_long = await client.post(path, json={"notes": "x" * 2001}, headers=bearer("scheduler"))
    assert too_long.status_code == 422 and too_long.json()["detail"][0]["loc"][-1] == "notes"

    ctx.now.now = slot.starts_at + timedelta(minutes=20)
    answer = await client.post(path, json={"notes": "Tidak ada kabar"}, headers=bearer("scheduler"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "no_show"
    assert answer.json()["schedule"]["starts_at"]  # the missed slot stays on record
    [event] = [r.event for r in ctx.store.log if type(r.event).__name__ == "AudienceNoShow"]
    assert (event.recorded_by, event.notes, event.starts_at) == ("jadwal", None, slot.starts_at)
    assert await ctx.vault.reveal(event.notes_sealed) == "Tidak ada kabar"  # sealed, the requester's key
    assert not [r for r in ctx.store.log if type(r.event).__name__ in ("AudienceCancelled", "SlotReleased")]

    again = await client.post(path, json={}, headers=bearer("admin"))
    assert again.status_code == 409 and "it is no_show" in again.json()["detail"]
    cancel = await client.post(
        f"/api/v1/audiences/{CODE}/cancel", json={"reason": "x"}, headers=bearer("admin")
    )
    assert cancel.status_code == 409
