"""A message held by an outage stops retrying when its handler is being cancelled, even when a
library below turned the cancellation into an outage-looking error (pymongo's async driver
closes its connection and raises AutoReconnect)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from pymongo.errors import AutoReconnect
from serambi_kit.messaging import DeliveryPolicy, Hold


async def test_a_cancellation_turned_into_an_outage_error_is_not_retried():
    attempts: list[int] = []
    started = asyncio.Event()

    async def step() -> None:
        attempts.append(1)
        started.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            raise AutoReconnect("connection closed") from None  # what the driver does

    msg = SimpleNamespace(
        subject="complaints.x",
        _client=SimpleNamespace(is_draining=False, is_closed=False),
        in_progress=lambda: asyncio.sleep(0),
    )
    hold = Hold("complaints-test", DeliveryPolicy(max_deliver=5, retry_delays=(0.01,)), [msg])
    handler = asyncio.create_task(hold.until_done(step))
    await started.wait()
    handler.cancel()
    done, _ = await asyncio.wait({handler}, timeout=2)
    assert done == {handler}, "the held message kept retrying while its handler was being cancelled"
    with pytest.raises(asyncio.CancelledError):
        handler.result()
    assert len(attempts) == 1
