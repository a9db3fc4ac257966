"""Tracking codes when the counter's database does not answer: the callers that need a new
block share one reservation, so they fail together after one timeout, not one after another.
(The counter against the real server: tests/integration/test_tracking_codes.py.)"""

from __future__ import annotations

import asyncio
import threading
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


class InstantCounter:
    """A counter that answers at once (the reservation finishes in the step that starts it)."""

    def __init__(self) -> None:
        self.value = 0

    def __getitem__(self, name):
        return self

    async def find_one_and_update(self, query, update, **kwargs):
        self.value += update["$inc"]["value"]
        return {"_id": query["_id"], "value": self.value}


def test_callers_arriving_as_a_reservation_finishes_get_codes_and_never_spin(monkeypatch):
    """Under load a caller can find the reservation just done: it must see that reservation's
    block (a version that set the block in a done callback looped there without yielding, and
    the service stopped answering at 100 % CPU)."""
    monkeypatch.setattr(tracking_links, "_blocks", {})
    db = InstantCounter()
    codes: list[str] = []

    async def caller(delay: int) -> None:
        for _ in range(delay):
            await asyncio.sleep(0)
        codes.append(await tracking_links.next_tracking_code(db, "AUD", 2099))

    async def scenario() -> None:
        await asyncio.gather(*(caller(i % 7) for i in range(200)))

    worker = threading.Thread(target=asyncio.run, args=(scenario(),), daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "next_tracking_code spun without yielding"
    assert len(set(codes)) == 200


def test_a_reservation_cancelled_before_it_ran_does_not_block_the_counter(monkeypatch):
    monkeypatch.setattr(tracking_links, "_blocks", {})
    db = InstantCounter()

    async def scenario() -> str:
        first = asyncio.ensure_future(tracking_links.next_tracking_code(db, "AUD", 2099))
        await asyncio.sleep(0)  # the caller started the reservation; it has not run yet
        [block] = tracking_links._blocks.values()
        assert block.reserving is not None
        block.reserving.cancel()  # as an ending event loop cancels what is left
        with pytest.raises(asyncio.CancelledError):
            await first
        return await asyncio.wait_for(tracking_links.next_tracking_code(db, "AUD", 2099), 2)

    assert asyncio.run(scenario()) == "AUD-2099-000001"
