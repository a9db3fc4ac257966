"""Complaints' SLA metrics against real servers: a breach is counted once, by its tier and the
complaint's channel, however many keepers check it; the open clocks come from the read model,
and no tracking code ever appears in /metrics."""

from __future__ import annotations

import asyncio

import httpx
from complaints_support import eventually, is_breached, now, received_for
from prometheus_client import REGISTRY, generate_latest
from serambi_complaints.application.sla_timers import ClockKeeper
from serambi_contracts.complaints import ComplaintChannel
from serambi_kit.http import create_service_app
from test_complaint_clocks import RINGAN, record


def breaches(channel: str) -> float:
    return (
        REGISTRY.get_sample_value("serambi_sla_breaches_total", {"clock": "ringan", "channel": channel})
        or 0.0
    )


async def test_a_breach_is_counted_once_by_tier_and_channel_and_no_tracking_code_is_a_label(
    start_service, nats_client
):
    service = await start_service()
    # every tier and channel is exported from the start (increase() sees a first breach)
    assert (
        REGISTRY.get_sample_value("serambi_sla_breaches_total", {"clock": "triage", "channel": "fax"})
        is not None
    )
    before = breaches("email")
    complaint = await record(service, RINGAN, received_at=received_for(1), channel=ComplaintChannel.EMAIL)
    code = complaint.tracking_code

    await eventually(lambda: is_breached(nats_client, code), timeout=5)
    keepers = [service.keeper, ClockKeeper(service.runtime, service.rules)]
    await asyncio.gather(*(keepers[i % 2].check(code, now()) for i in range(6)))
    assert breaches("email") == before + 1

    async def projected() -> bool:
        return bool(await service.runtime.db["complaints"].find_one({"_id": code, "breached": True}))

    await eventually(projected, timeout=5)
    # /metrics of a started service reads the read-model gauges (its own kit app, this loop)
    app = create_service_app(service.runtime, title="complaints")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://complaints"
    ) as client:
        exposition = (await client.get("/metrics")).text
    assert 'serambi_sla_open_clocks{clock="ringan",state="running"} 1.0' in exposition
    assert 'serambi_dependency_up{dependency="mongodb"} 1.0' in exposition
    assert code not in exposition and code not in generate_latest().decode()
