"""Periodic rounds shared by replicas through a lease in the MongoDB-wire server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from serambi_kit.periodic import LEASES, Rounds, claim, release


async def test_a_lease_is_held_by_one_replica_until_it_expires_and_its_holder_keeps_it(mongo_db):
    assert await claim(mongo_db, "sweep", "replica-a", 0.5)
    assert not await claim(mongo_db, "sweep", "replica-b", 0.5)
    assert await claim(mongo_db, "sweep", "replica-a", 0.5)  # the holder renews
    await asyncio.sleep(0.6)
    assert await claim(mongo_db, "sweep", "replica-b", 0.5)
    assert not await claim(mongo_db, "sweep", "replica-a", 0.5)
    assert await claim(mongo_db, "other job", "replica-a", 0.5)


async def eventually(condition, timeout: float = 30.0) -> None:
    """Until ``condition()`` holds (a generous bound: the machine may be busy)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "not within the time allowed"
        await asyncio.sleep(0.05)


async def test_release_shortens_only_the_holders_own_lease(mongo_db):
    assert await claim(mongo_db, "sweep", "replica-a", 60)
    await release(mongo_db, "sweep", "replica-b", datetime.now(UTC))  # not b's to release
    assert not await claim(mongo_db, "sweep", "replica-b", 60)
    await release(mongo_db, "sweep", "replica-a", datetime.now(UTC) + timedelta(days=1))  # never longer
    lease = await mongo_db[LEASES].find_one({"_id": "sweep"})
    assert lease["until"].replace(tzinfo=UTC) < datetime.now(UTC) + timedelta(seconds=61)
    await release(mongo_db, "sweep", "replica-a", datetime.now(UTC))
    assert await claim(mongo_db, "sweep", "replica-b", 60)


async def test_a_round_that_outlasts_its_interval_is_not_started_again_by_another_replica(mongo_db):
    running: list[str] = []
    overlaps: list[list[str]] = []
    finished: list[str] = []

    def job(name: str):
        async def run() -> None:
            running.append(name)
            if len(running) > 1:
                overlaps.append(list(running))
            await asyncio.sleep(1.5)  # the lease alone (one interval) would have run out twice
            running.remove(name)
            finished.append(name)

        return run

    replicas = {name: Rounds(lambda: mongo_db) for name in ("a", "b")}
    for name, rounds in replicas.items():
        rounds.start("long sweep", job(name), every=0.6)
    try:
        await eventually(lambda: len(finished) >= 2)
    finally:
        for rounds in replicas.values():
            await rounds.stop()
    assert overlaps == []


async def test_every_replica_runs_the_start_up_work_and_another_takes_over_when_the_holder_stops(mongo_db):
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
    await eventually(lambda: sorted(started) == ["a", "b"] and sum(done.values()) >= 2)
    holder = "a" if done["a"] else "b"
    other = "b" if holder == "a" else "a"
    await replicas[holder].stop()
    before_takeover = done[other]
    await eventually(lambda: done[other] >= before_takeover + 2)
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


async def test_stopping_while_a_round_winds_down_its_heartbeat_ends_the_loop(mongo_db):
    """The stop's cancellation lands while the round waits for its heartbeat to end: it must
    end the loop, not be taken for the heartbeat's own cancellation (a stop that waited for
    ever held up a service's shutdown, and a CI teardown for 300 s)."""
    rounds = Rounds(lambda: mongo_db)
    rounds_done: list[int] = []

    async def job() -> None:
        rounds_done.append(1)
        if len(rounds_done) == 1:  # queued before the heartbeat's own cancellation step
            asyncio.get_running_loop().call_soon(rounds.tasks[0].cancel)

    rounds.start("sweep", job, every=0.05)
    loop = rounds.tasks[0]
    done, _ = await asyncio.wait({loop}, timeout=2)
    assert done == {loop} and loop.cancelled()
    assert len(rounds_done) == 1


async def test_a_heartbeat_whose_cancellation_the_driver_turned_into_an_error_still_ends(
    mongo_db, monkeypatch
):
    """pymongo's async driver can answer a cancellation with AutoReconnect; the heartbeat's
    claim takes any error for "no database" and went on renewing for ever, so the round, and
    the service's stop, waited for it (seen as 300 s teardown hangs)."""
    from pymongo.errors import AutoReconnect
    from serambi_kit import periodic

    in_claim = asyncio.Event()

    async def claim_cancelled_into_an_error(db, job, holder, seconds):
        if "heartbeat" not in asyncio.current_task().get_name():
            return True
        in_claim.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            raise AutoReconnect("connection closed") from None
        return True

    monkeypatch.setattr(periodic, "claim", claim_cancelled_into_an_error)
    rounds = Rounds(lambda: mongo_db)
    heartbeat = asyncio.create_task(rounds._renew("sweep", 0.03), name="heartbeat")  # noqa: SLF001
    await in_claim.wait()
    heartbeat.cancel()
    done, _ = await asyncio.wait({heartbeat}, timeout=2)
    assert done == {heartbeat}, "the heartbeat went on after its cancellation"
