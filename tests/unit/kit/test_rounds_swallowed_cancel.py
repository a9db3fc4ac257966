"""A periodic job whose library swallows the round's cancellation, or turns it into an error of
its own (pymongo's async driver does, closing its connection), must not keep the round alive
while the service stops: the teardown hangs seen in the complaints integration tests."""

from __future__ import annotations

import asyncio

import pytest
from serambi_kit.periodic import Rounds


class Swallowed(Exception):
    pass


@pytest.mark.parametrize("how", ["swallowed", "turned_into_an_error"])
async def test_a_round_whose_job_swallows_the_cancellation_still_stops(how: str) -> None:
    started = asyncio.Event()

    async def job() -> None:
        started.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            if how == "swallowed":
                return
            raise Swallowed("operation cancelled") from None

    rounds = Rounds(lambda: None)
    rounds.start("job", job, every=0.01, lease=False)
    await asyncio.wait_for(started.wait(), 5)
    await asyncio.wait_for(rounds.stop(), 5)  # ends instead of running rounds for ever
