"""Group commit (``serambi_kit.writebatch``) against the real MongoDB-wire server."""

from __future__ import annotations

import asyncio

import pytest
from pymongo import UpdateOne
from pymongo.errors import BulkWriteError, ServerSelectionTimeoutError
from serambi_kit.writebatch import WriteBatch


class Counted:
    """The collection, counting the commands a batch sends."""

    def __init__(self, collection) -> None:
        self.collection = collection
        self.commands = 0

    async def bulk_write(self, *args, **kwargs):
        self.commands += 1
        return await self.collection.bulk_write(*args, **kwargs)


@pytest.fixture
async def things(mongo_db):
    collection = mongo_db["things"]
    await collection.insert_many([{"_id": i, "n": 0, "text": "t"} for i in range(10)])
    return collection


async def test_writes_inside_the_window_go_as_one_command_and_each_returns_once_written(things):
    counted = Counted(things)
    batch = WriteBatch(lambda: counted, window=0.05)
    await asyncio.gather(*(batch.write(UpdateOne({"_id": i}, {"$set": {"n": i + 1}})) for i in range(10)))
    assert counted.commands == 1
    assert [d["n"] async for d in things.find({}).sort("_id")] == list(range(1, 11))


async def test_a_write_the_server_refuses_fails_only_its_own_caller(things):
    batch = WriteBatch(lambda: things, window=0.05)
    results = await asyncio.gather(
        batch.write(UpdateOne({"_id": 1}, {"$set": {"n": 5}})),
        batch.write(UpdateOne({"_id": 2}, {"$inc": {"text": 1}})),  # $inc on a string
        batch.write(UpdateOne({"_id": 3}, {"$set": {"n": 7}})),
        return_exceptions=True,
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], BulkWriteError)
    assert {d["_id"]: d["n"] async for d in things.find({"_id": {"$in": [1, 2, 3]}})} == {1: 5, 2: 0, 3: 7}


async def test_a_full_batch_does_not_wait_for_the_window(things):
    batch = WriteBatch(lambda: things, window=30, limit=3)
    writes = [batch.write(UpdateOne({"_id": i}, {"$set": {"n": 9}})) for i in range(3)]
    await asyncio.wait_for(asyncio.gather(*writes), 10)
    assert await things.count_documents({"n": 9}) == 3


async def test_a_caller_cancelled_while_waiting_does_not_cancel_its_write(things):
    batch = WriteBatch(lambda: things, window=0.2)
    waiting = asyncio.create_task(batch.write(UpdateOne({"_id": 4}, {"$set": {"n": 44}})))
    await asyncio.sleep(0.05)
    waiting.cancel()
    await batch.flush()
    assert (await things.find_one({"_id": 4}))["n"] == 44


async def test_a_server_that_cannot_be_reached_fails_every_caller_of_the_batch():
    from pymongo import AsyncMongoClient

    client = AsyncMongoClient("mongodb://127.0.0.1:9", serverSelectionTimeoutMS=200)
    batch = WriteBatch(lambda: client["nowhere"]["things"], window=0.01)
    results = await asyncio.gather(
        *(batch.write(UpdateOne({"_id": i}, {"$set": {"n": 1}})) for i in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, ServerSelectionTimeoutError) for r in results)
    await client.close()
