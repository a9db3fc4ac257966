"""The audience report is computed from the read model; this test folds the SCHEDULING stream's
audience events independently (no projection code) and checks one month's figures agree —
channels, answers within the deadline, the late ones, outcomes and the median working time."""

from __future__ import annotations

import asyncio
import statistics
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from serambi_calendar import WIB
from serambi_contracts.base import Sealed
from serambi_contracts.intake import InstitutionType, IntakeChannel, Requester, RequestSubmitted
from serambi_kit.eventstore import read_stream
from serambi_kit.state import kit_state
from serambi_scheduling.adapters import reports
from serambi_scheduling.application import commands
from serambi_scheduling.application.context import Context
from serambi_scheduling.main import create_app
from serambi_scheduling.settings import SchedulingSettings
from serambi_testing import localstack

SEALED = Sealed(key="k1", nonce="AAAAAAAAAAAAAAAA", data="AAAA")
MONTH = "2025-05"  # a month no other test submits in


@pytest.fixture
async def running(nats_url, mongo_url, mongo_client) -> AsyncIterator[tuple[Context, Any]]:
    name = f"test_{uuid.uuid4().hex[:10]}"
    settings = SchedulingSettings(
        nats_url=nats_url,
        mongo_url=mongo_url,
        mongo_database=name,
        vault_database=f"{name}_vault",
        sla_sweep_seconds=3600,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app.state.scheduling, kit_state(app).runtime
    await localstack.drop_databases(mongo_client, name, f"{name}_vault")


async def opened(
    ctx: Context, channel: IntakeChannel, submitted: datetime, due: datetime, received: datetime | None = None
) -> str:
    code = f"AUD-2025-{uuid.uuid4().int % 10**9:09d}"
    request = RequestSubmitted(
        tracking_code=code,
        channel=channel,
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
        submitted_at=submitted,
        answer_due_at=due,
        received_at=received,
        access_token_sha256="0" * 64,
    )
    await commands.open_request(ctx, request, f"cause-{code}")
    return code


def may(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 5, day, hour, minute, tzinfo=WIB).astimezone(UTC)


async def replayed(ctx: Context, nc: Any, codes: set[str], now: datetime) -> dict:
    """The month's figures from the events alone."""
    cases: dict[str, dict] = {}
    async for recorded in read_stream(nc, "SCHEDULING", "scheduling.audience.>"):
        code, kind, event = recorded.ref.id, type(recorded.event).__name__, recorded.event
        if code not in codes:
            continue
        case = cases.setdefault(code, {"answer": None, "status": "requested", "breached": False})
        if kind == "AudienceRequested":
            case.update(
                submitted=event.submitted_at,
                due=event.answer_due_at,
                start=event.received_at or event.submitted_at,
                channel=event.channel.value if event.channel else "unknown",
            )
        elif kind in ("AudienceScheduled", "AudienceDeclined"):
            case["answer"] = case["answer"] or recorded.envelope.time
            case["status"] = "scheduled" if kind == "AudienceScheduled" else "declined"
        elif kind == "AudienceCancelled":
            case["status"] = "withdrawn" if event.withdrawn else "cancelled"
            case["ended"] = recorded.envelope.time
        elif kind in ("AudienceHeld", "AudienceNoShow"):
            case["status"] = "held" if kind == "AudienceHeld" else "no_show"
        elif kind == "AudienceDeadlineMoved":
            case.update(due=event.due_at, breached=False)
        elif kind == "SLABreached":
            case["breached"] = True
    first, after = reports.month_bounds(MONTH)
    month = [case for case in cases.values() if first <= case["submitted"] < after]
    answered = [case for case in month if case["answer"]]
    late = [
        case
        for case in month
        if (case["answer"] and case["answer"] > case["due"])
        or (not case["answer"] and case["due"] < now and case["status"] == "requested")
    ]
    due = [
        case
        for case in month
        if case["answer"]
        or (case["due"] < now and (case.get("ended") is None or case["ended"] > case["due"]))
    ]
    hours = [
        ctx.calendar.working_time_between(c["start"], c["answer"]).total_seconds() / 3600 for c in answered
    ]
    return {
        "submitted": len(month),
        "answered": len(answered),
        "due": len(due),
        "on_time": sum(case["answer"] <= case["due"] for case in answered),
        "channels": {ch: sum(case["channel"] == ch for case in month) for ch in reports.CHANNELS},
        "outcomes": {
            o: sum(case["status"] == o for case in month) for o in reports.OUTCOMES if o != "pending"
        },
        "late": sorted(case["submitted"] for case in late),
        "median": round(statistics.median(hours), 2) if hours else None,
    }


async def test_one_months_report_from_the_read_model_agrees_with_a_replay_of_the_events(running):
    ctx, runtime = running
    later = datetime.now(UTC) + timedelta(days=400)
    late, on_time, waiting, past_due, withdrawn, june = [
        await opened(ctx, IntakeChannel.ONLINE, may(5, 8), may(8, 16)),
        await opened(ctx, IntakeChannel.DESK, may(6, 9), later),
        await opened(ctx, IntakeChannel.LETTER, may(12, 10), later, received=may(9, 15)),
        await opened(ctx, IntakeChannel.ONLINE, may(13, 8), may(16, 16)),
        await opened(ctx, IntakeChannel.ONLINE, may(20, 8), later),
        await opened(ctx, IntakeChannel.DESK, datetime(2025, 6, 2, 1, tzinfo=UTC), later),
    ]
    await commands.decline(ctx, late, "agenda penuh", "petugas-jadwal")
    await commands.decline(ctx, on_time, "agenda penuh", "petugas-jadwal")
    await commands.withdraw(ctx, withdrawn, f"withdraw-{withdrawn}")
    now = datetime.now(UTC)
    codes = {late, on_time, waiting, past_due, withdrawn, june}

    deadline = asyncio.get_running_loop().time() + 15
    while True:  # the read model follows the stream
        report = await reports.monthly(runtime.db, MONTH, now, ctx.calendar)
        if report["answered"] == 2 and report["outcomes"]["withdrawn"] == 1:
            break
        assert asyncio.get_running_loop().time() < deadline, report
        await asyncio.sleep(0.1)

    replay = await replayed(ctx, runtime.nc, codes, now)
    assert replay["submitted"] == report["submitted"] == 5
    assert replay["answered"] == report["answered"] and replay["on_time"] == report["on_time"] == 1
    assert replay["due"] == report["due"] == 3 and report["on_time_rate"] == 0.3333  # past_due counts late
    assert replay["channels"] == report["channels"] == {"online": 3, "desk": 1, "letter": 1, "unknown": 0}
    assert replay["outcomes"] == {k: v for k, v in report["outcomes"].items() if k != "pending"}
    assert report["outcomes"]["pending"] == 2 and report["outcomes"]["declined"] == 2
    assert replay["late"] == [row["submitted_at"] for row in report["late"]] == [may(5, 8), may(13, 8)]
    assert [row["code"] for row in report["late"]] == [late, past_due]
    assert report["late"][1]["answered_at"] is None
    assert replay["median"] == report["median_answer_working_hours"] is not None
