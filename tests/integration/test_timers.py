"""Durable timers on JetStream message schedules, on a real nats-server."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import nats
import pytest
from nats.js.api import StreamConfig
from serambi_contracts import decode_headers
from serambi_contracts.sla import ClockDue
from serambi_kit.timers import Timers, schedule_subject
from serambi_kit.topology import (
    FIRED_TIMER_TTL_SECONDS,
    LEGACY_TIMERS,
    TIMER_OWNERS,
    apply_streams,
    timers_config,
    timers_stream,
)
from serambi_testing import localstack


@pytest.fixture
async def owner(nc) -> AsyncIterator[str]:
    """A timer owner of its own, with its stream as ``serambi streams apply`` makes it."""
    name = "o" + uuid.uuid4().hex[:8]
    await nc.jetstream().add_stream(timers_config(name))
    yield name
    await nc.jetstream().delete_stream(timers_stream(name))


async def fired(nc, owner: str, seconds: float) -> list[tuple[str, ClockDue]]:
    """Every ClockDue fired for ``owner`` within ``seconds``."""
    return [
        (msg.subject.split(".")[2], ClockDue.model_validate_json(msg.data))
        for msg in await fired_messages(nc, owner, seconds)
    ]


async def fired_messages(nc, owner: str, seconds: float) -> list:
    js = nc.jetstream()
    sub = await js.subscribe(f"timers.{owner}.*.ClockDue", ordered_consumer=True)
    out = []
    deadline = asyncio.get_running_loop().time() + seconds
    try:
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            try:
                msg = await sub.next_msg(timeout=left)
            except Exception:  # noqa: BLE001 — nats TimeoutError: nothing more fired
                break
            assert decode_headers(msg.headers).type == ClockDue.event_type()
            out.append(msg)
    finally:
        await sub.unsubscribe()
    return out


def due(case: str, seconds: float, percent: int | None = None) -> ClockDue:
    return ClockDue(
        case_id=case,
        clock="ringan",
        threshold_percent=percent,
        due_at=datetime.now(UTC) + timedelta(seconds=seconds),
    )


async def test_a_timer_fires_at_its_time_and_a_past_one_fires_at_once(nc, owner):
    timers = Timers(nc.jetstream(), owner, "/serambi/test")
    await timers.arm("late", due("c1", -3600))
    await timers.arm("soon", due("c2", 1.2, 50))
    result = await fired(nc, owner, 4)
    assert [timer_id for timer_id, _ in result] == ["late", "soon"]
    assert result[1][1].threshold_percent == 50


async def test_arming_again_replaces_and_cancel_stops_a_timer(nc, owner):
    timers = Timers(nc.jetstream(), owner, "/serambi/test")
    await timers.arm("moved", due("c1", 1.0))
    await timers.arm("moved", due("c1-again", 1.5))
    await timers.arm("cancelled", due("c2", 1.0))
    await timers.cancel("cancelled")
    result = await fired(nc, owner, 4)
    assert [(timer_id, d.case_id) for timer_id, d in result] == [("moved", "c1-again")]


async def test_scheduled_tells_what_a_timer_will_fire_and_none_once_cancelled(nc, owner):
    timers = Timers(nc.jetstream(), owner, "/serambi/test")
    armed = due("c1", 3600, 75)
    await timers.arm("later", armed)
    assert await timers.scheduled("later") == armed
    await timers.cancel("later")
    assert await timers.scheduled("later") is None
    assert await timers.scheduled("never-armed") is None


async def test_a_schedule_never_expires_before_it_fires_and_a_fired_timer_expires_after_its_ttl(nc, owner):
    js = nc.jetstream()
    config = (await js.stream_info(timers_stream(owner))).config
    assert config.max_age == 0 and config.allow_msg_ttl and config.allow_msg_schedules
    timers = Timers(js, owner, "/serambi/test")
    await timers.arm("deadline", due("c1", 1.0))
    schedule = await js.get_last_msg(timers_stream(owner), schedule_subject(owner, "deadline"))
    assert "Nats-TTL" not in (schedule.headers or {})  # only firing or its owner removes it
    [message] = await fired_messages(nc, owner, 3)
    assert message.headers["Nats-TTL"] in (f"{FIRED_TIMER_TTL_SECONDS}s", str(FIRED_TIMER_TTL_SECONDS))
    assert await timers.scheduled("deadline") is None  # the server removed the fired schedule


async def test_a_stream_max_age_would_delete_a_schedule_before_it_fires(nc):
    """Why timers streams have no max age: a schedule is a message like any other."""
    owner = "o" + uuid.uuid4().hex[:8]
    js = nc.jetstream()
    await js.add_stream(dataclasses.replace(timers_config(owner), max_age=1.0, duplicate_window=1.0))
    try:
        timers = Timers(js, owner, "/serambi/test")
        await timers.arm("deadline", due("c1", 3.0))
        assert await timers.scheduled("deadline") is not None
        assert await fired(nc, owner, 5) == []
        assert await timers.scheduled("deadline") is None
    finally:
        await js.delete_stream(timers_stream(owner))


async def test_streams_apply_replaces_the_single_timers_stream_of_earlier_versions(tmp_path):
    server = localstack.nats_server(tmp_path, localstack.free_port()).start()
    try:
        client = await nats.connect(localstack.nats_url(server.port))
        js = client.jetstream()
        await js.add_stream(StreamConfig(name=LEGACY_TIMERS, subjects=["timers.>"], allow_msg_schedules=True))
        done = await apply_streams(js)
        assert done[0].startswith(f"stream {LEGACY_TIMERS}: deleted")
        names = {info.config.name for info in await js.streams_info()}
        assert LEGACY_TIMERS not in names and {timers_stream(o) for o in TIMER_OWNERS} <= names
        assert not [line for line in await apply_streams(js) if "deleted" in line]
        await client.close()
    finally:
        server.stop()
