"""Periodic rounds shared by replicas through a lease in the MongoDB-wire server."""

from __future__ import annotations

import asyncio

from serambi_kit.periodic import Rounds, claim


async def test_a_lease_is_held_by_one_replica_until_it_expires_and_its_holder_keeps_it(mongo_db):
    assert await claim(mongo_db, "sweep", "replica-a", 0.5)
    assert not await claim(mongo_db, "sweep", "replica-b", 0.5)
    assert await claim(mongo_db, "sweep", "replica-a", 0.5)  # the holder renews
    await asyncio.sleep(0.6)
    assert await claim(mongo_db, "sweep", "replica-b", 0.5)
    assert not await claim(mongo_db, "sweep", "replica-a", 0.5)
    assert await claim(mongo_db, "other job", "replica-a", 0.5)


async def test_replicas_do_each_round_once_and_another_takes_over_when_the_holder_stops(mongo_db):
    done: dict[str, int] = {"a": 0, "b": 0}
    started: list[str] = []

    def job(name: str):
        async def run() -> None:
            done[name] += 1

        return run

    def before(name: str):
        async def run() -> None:
            started.append(name)

        return run

    replicas = {name: Rounds(lambda: mongo_db) for name in done}
    for name, rounds in replicas.items():
        rounds.start("sweep", job(name), before=before(name), every=0.2)
    await asyncio.sleep(1.5)
    assert sorted(started) == ["a", "b"]  # start-up work runs in every replica
    assert 4 <= done["a"] + done["b"] <= 8 and 0 in done.values(), done
    holder = "a" if done["a"] else "b"
    other = "b" if holder == "a" else "a"
    await replicas[holder].stop()
    before_takeover = done[other]
    await asyncio.sleep(1.0)
    assert done[other] >= before_takeover + 2
    await replicas[other].stop()


async def test_a_failing_round_is_logged_and_the_next_one_runs(mongo_db):
    calls: list[int] = []

    async def flaky() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the database blinked")

    rounds = Rounds(lambda: mongo_db)
    rounds.start("flaky", flaky, every=0.1, lease=False)
    await asyncio.sleep(0.5)
    await rounds.stop()
    assert len(calls) >= 3
