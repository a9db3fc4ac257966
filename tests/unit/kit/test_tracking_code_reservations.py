"""Tracking codes when the counter's database does not answer: the callers that need a new
block share one reservation, so they fail together after one timeout, not one after another.
(The counter against the real server: tests/integration/test_tracking_codes.py.)"""

from __future__ import annotations

import asyncio
import time

import pytest
from pymongo.errors import ServerSelectionTimeoutError
from serambi_kit import tracking_links


class HungCounter:
    """A database whose counter write gives up after ``delay`` (a frozen primary)."""

    def __init__(self, delay: float) -> None:
        self.delay, self.calls = delay, 0

    def __getitem__(self, name):
        return self

    async def find_one_and_update(self, *args, **kwargs):
        self.calls += 1
        await asyncio.sleep(self.delay)
        raise ServerSelectionTimeoutError("no primary")


def test_concurrent_callers_share_one_reservation_and_fail_together(monkeypatch):
    monkeypatch.setattr(tracking_links, "_blocks", {})
    db = HungCounter(0.2)

    async def scenario() -> float:
        started = time.monotonic()
        results = await asyncio.gather(
            *(tracking_links.next_tracking_code(db, "AUD", 2099) for _ in range(5)), return_exceptions=True
        )
        assert all(isinstance(r, ServerSelectionTimeoutError) for r in results)
        return time.monotonic() - started

    assert asyncio.run(scenario()) < 0.5
    assert db.calls == 1


def test_a_failed_reservation_is_tried_again_by_the_next_caller(monkeypatch):
    monkeypatch.setattr(tracking_links, "_blocks", {})
    db = HungCounter(0.0)

    async def twice() -> None:
        for _ in range(2):
            with pytest.raises(ServerSelectionTimeoutError):
                await tracking_links.next_tracking_code(db, "ADU", 2099)

    asyncio.run(twice())
    assert db.calls == 2
