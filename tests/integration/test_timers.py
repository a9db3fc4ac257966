"""Durable timers on JetStream message schedules."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from serambi_contracts import decode_headers
from serambi_contracts.sla import ClockDue
from serambi_kit.timers import Timers


async def fired(nc, owner: str, seconds: float) -> list[tuple[str, ClockDue]]:
    """Every ClockDue fired for ``owner`` within ``seconds``."""
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
            out.append((msg.subject.split(".")[2], ClockDue.model_validate_json(msg.data)))
    finally:
        await sub.unsubscribe()
    return out


def due(case: str, seconds: float, percent: int | None = None) -> ClockDue:
    return ClockDue(case_id=case, clock="ringan", threshold_percent=percent,
                    due_at=datetime.now(UTC) + timedelta(seconds=seconds))


async def test_a_timer_fires_at_its_time_and_a_past_one_fires_at_once(nc):
    owner = "o" + uuid.uuid4().hex[:8]
    timers = Timers(nc.jetstream(), owner, "/serambi/test")
    await timers.arm("late", due("c1", -3600))
    await timers.arm("soon", due("c2", 1.2, 50))
    result = await fired(nc, owner, 4)
    assert [timer_id for timer_id, _ in result] == ["late", "soon"]
    assert result[1][1].threshold_percent == 50


async def test_arming_again_replaces_and_cancel_stops_a_timer(nc):
    owner = "o" + uuid.uuid4().hex[:8]
    timers = Timers(nc.jetstream(), owner, "/serambi/test")
    await timers.arm("moved", due("c1", 1.0))
    await timers.arm("moved", due("c1-again", 1.5))
    await timers.arm("cancelled", due("c2", 1.0))
    await timers.cancel("cancelled")
    result = await fired(nc, owner, 4)
    assert [(timer_id, d.case_id) for timer_id, d in result] == [("moved", "c1-again")]
