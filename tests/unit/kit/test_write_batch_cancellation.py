"""Group commit under cancellation: a loop that ends, a stop under a timeout. The collection is
a recorder of ``bulk_write`` calls (the batch's only call; tests/integration/test_write_batch.py
runs the same class against the real server)."""

from __future__ import annotations

import asyncio

from pymongo import UpdateOne
from serambi_kit.writebatch import WriteBatch

OP = UpdateOne({"_id": 1}, {"$set": {"n": 1}})


class Recording:
    def __init__(self, delay: float = 0.0) -> None:
        self.delay, self.written = delay, []

    async def bulk_write(self, operations, ordered):
        await asyncio.sleep(self.delay)
        self.written.extend(operations)


def test_a_batch_whose_loop_ended_during_the_window_still_writes_in_the_next_loop():
    target = Recording()
    batch = WriteBatch(lambda: target, window=0.05)

    async def first() -> None:
        asyncio.create_task(batch.write(OP))
        await asyncio.sleep(0)  # the timer is sleeping when the loop ends and cancels it

    asyncio.run(first())

    async def second() -> None:
        await asyncio.wait_for(batch.write(OP), 1.0)

    asyncio.run(second())
    assert target.written == [OP]  # the first write was never sent: its caller was cancelled


def test_cancelling_a_flush_cancels_no_write_of_a_caller_still_waiting():
    target = Recording(delay=0.2)

    async def scenario() -> None:
        batch = WriteBatch(lambda: target, window=0.01)
        sender = asyncio.create_task(batch.write(OP))
        await asyncio.sleep(0.05)  # its bulk write is under way
        stopping = asyncio.create_task(batch.flush())
        await asyncio.sleep(0.01)
        stopping.cancel()
        assert (await asyncio.gather(sender, return_exceptions=True)) == [None]
        assert target.written == [OP]

    asyncio.run(scenario())


def test_each_caller_of_a_failed_batch_raises_its_own_error_of_the_same_type():
    class Refusing:
        async def bulk_write(self, operations, ordered):
            raise ConnectionResetError("server went away")

    async def scenario() -> list:
        batch = WriteBatch(lambda: Refusing(), window=0.01)
        return await asyncio.gather(*(batch.write(OP) for _ in range(3)), return_exceptions=True)

    errors = asyncio.run(scenario())
    assert all(isinstance(e, ConnectionResetError) for e in errors)
    assert len({id(e) for e in errors}) == 3
