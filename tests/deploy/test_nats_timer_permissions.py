"""Only the owner of a clock removes its timers: deploy/nats/auth.conf on a real 3-node cluster.

Each owner (scheduling, complaints) has its own timers stream. A service arms and cancels its
own timers as its own NATS user; no other user — service, integration bus or ops — can purge
or delete them, publish on them, or wipe them with a rollup header.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from serambi_contracts.sla import ClockDue
from serambi_kit.settings import ServiceSettings
from serambi_kit.timers import Timers, schedule_subject
from serambi_kit.topology import TIMER_OWNERS, timers_stream
from serambi_ops.commands.streams import apply_all

from .conftest import SERVICE_NAMES, NatsCluster, violations_after

pytestmark = pytest.mark.slow  # make test-slow (CI runs it after make test)

REFUSED = 0.5  # seconds to wait for an answer that must not come


@pytest.fixture(scope="module")
async def applied(nats_cluster: NatsCluster) -> None:
    await apply_all(
        ServiceSettings(
            nats_url=nats_cluster.urls()[0],
            nats_user="ops",
            nats_password=nats_cluster.passwords["ops"],
            stream_replicas=3,
        )
    )


def in_a_day(case_id: str) -> ClockDue:
    return ClockDue(case_id=case_id, clock="ringan", due_at=datetime.now(UTC) + timedelta(days=1))


async def arm_as_owner(cluster: NatsCluster, owner: str) -> str:
    timer_id = f"T-{uuid.uuid4().hex[:10]}-breach"
    nc = await cluster.connect(owner)
    try:
        await Timers(nc.jetstream(), owner, f"/serambi/{owner}").arm(timer_id, in_a_day(timer_id))
    finally:
        await nc.close()
    return timer_id


async def still_scheduled(cluster: NatsCluster, owner: str, timer_id: str) -> bool:
    nc = await cluster.connect("ops")
    try:
        return await Timers(nc.jetstream(), owner, "/serambi/ops").scheduled(timer_id) is not None
    finally:
        await nc.close()


@pytest.mark.parametrize("owner", TIMER_OWNERS)
async def test_an_owner_arms_and_cancels_its_own_timers_as_its_own_user(nats_cluster, applied, owner):
    errors: list[Exception] = []
    nc = await nats_cluster.connect(owner, errors)
    try:
        timers = Timers(nc.jetstream(), owner, f"/serambi/{owner}")
        timer_id = f"T-{uuid.uuid4().hex[:10]}-breach"
        await timers.arm(timer_id, in_a_day(timer_id))
        assert await timers.scheduled(timer_id) is not None
        await timers.cancel(timer_id)
        assert await timers.scheduled(timer_id) is None
        assert await violations_after(errors, nc) == []
    finally:
        await nc.close()


@pytest.mark.parametrize("owner", TIMER_OWNERS)
async def test_no_other_user_can_purge_or_delete_an_owners_timers(nats_cluster, applied, owner):
    timer_id = await arm_as_owner(nats_cluster, owner)
    stream, subject = timers_stream(owner), schedule_subject(owner, timer_id)
    for user in [u for u in (*SERVICE_NAMES, "bus", "ops") if u != owner]:
        errors: list[Exception] = []
        nc = await nats_cluster.connect(user, errors)
        try:
            js = nc.jetstream(timeout=REFUSED)
            results = await asyncio.gather(
                js.purge_stream(stream, subject=subject),
                js.purge_stream(stream),
                js.delete_msg(stream, 1),
                return_exceptions=True,
            )
            assert all(isinstance(result, asyncio.TimeoutError) for result in results), (user, results)
            refused = {v.split('"')[1] for v in await violations_after(errors, nc)}
            assert {
                f"$js.api.stream.purge.{stream}".lower(),
                f"$js.api.stream.msg.delete.{stream}".lower(),
            } <= refused, (user, refused)
        finally:
            await nc.close()
    assert await still_scheduled(nats_cluster, owner, timer_id)


async def test_a_service_cannot_arm_or_replace_another_owners_timers(nats_cluster, applied):
    timer_id = await arm_as_owner(nats_cluster, "complaints")
    subject = schedule_subject("complaints", timer_id)
    for user in ("intake", "scheduling", "notifier"):
        errors: list[Exception] = []
        nc = await nats_cluster.connect(user, errors)
        try:
            with pytest.raises(asyncio.TimeoutError):
                await nc.jetstream().publish(subject, b"{}", headers={"Nats-Rollup": "all"}, timeout=REFUSED)
            assert any(f'"{subject.lower()}"' in v for v in await violations_after(errors, nc)), user
        finally:
            await nc.close()
    assert await still_scheduled(nats_cluster, "complaints", timer_id)


async def test_a_rollup_on_an_owners_own_subject_reaches_only_its_own_timers(nats_cluster, applied):
    """nats-server allows rollup headers on every stream with schedules: one stream per owner
    keeps a service's `Nats-Rollup: all` from wiping the other owner's timers."""
    theirs = await arm_as_owner(nats_cluster, "complaints")
    nc = await nats_cluster.connect("scheduling")
    try:
        await nc.jetstream().publish(
            schedule_subject("scheduling", "wipe"), b"", headers={"Nats-Rollup": "all"}
        )
    finally:
        await nc.close()
    assert await still_scheduled(nats_cluster, "complaints", theirs)


async def test_services_without_clocks_have_no_timers_to_publish(nats_cluster, applied):
    for user in ("intake", "notifier"):
        errors: list[Exception] = []
        nc = await nats_cluster.connect(user, errors)
        try:
            await nc.publish(f"timers.{user}.T-1.Schedule", b"{}")
            assert any(f'"timers.{user}.t-1.schedule"' in v for v in await violations_after(errors, nc)), user
        finally:
            await nc.close()
