"""KeyedWorkers: up to N jobs at once, one at a time per key, each key's jobs in order."""

from __future__ import annotations

import asyncio

import pytest
from serambi_kit.keyedworkers import KeyedWorkers


async def test_jobs_of_one_key_run_one_after_the_other_in_the_order_given():
    workers = KeyedWorkers(8, "test")
    log: list[str] = []

    def job(name: str, pause: float):
        async def run() -> None:
            log.append(f"start {name}")
            await asyncio.sleep(pause)
            log.append(f"end {name}")

        return run

    await workers.submit("a", job("a1", 0.05))  # the slowest first: the others must wait for it
    await workers.submit("a", job("a2", 0.01))
    await workers.submit("a", job("a3", 0))
    assert await workers.drain(5)
    assert log == ["start a1", "end a1", "start a2", "end a2", "start a3", "end a3"]


async def test_jobs_of_different_keys_overlap_up_to_the_number_of_workers():
    workers = KeyedWorkers(3, "test")
    running = 0
    most = 0

    async def job() -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.02)
        running -= 1

    for number in range(9):
        await workers.submit(f"key-{number}", job)
    assert await workers.drain(5)
    assert most == 3


async def test_submit_waits_for_a_free_worker():
    workers = KeyedWorkers(1, "test")
    release = asyncio.Event()
    await workers.submit("a", release.wait)
    second = asyncio.create_task(workers.submit("b", lambda: asyncio.sleep(0)))
    await asyncio.sleep(0.05)
    assert not second.done()  # the one worker is busy: the consumer is held back
    release.set()
    await asyncio.wait_for(second, 1)
    assert await workers.drain(1)


async def test_a_failing_job_does_not_stop_the_next_one_of_its_key():
    workers = KeyedWorkers(2, "test")
    done: list[str] = []

    async def broken() -> None:
        raise RuntimeError("a bug")

    async def fine() -> None:
        done.append("fine")

    await workers.submit("a", broken)
    await workers.submit("a", fine)
    assert await workers.drain(1)
    assert done == ["fine"]


async def test_drain_waits_for_started_jobs_and_cancels_those_still_running_at_its_timeout():
    workers = KeyedWorkers(2, "test")
    finished: list[str] = []
    cancelled: list[str] = []

    def job(name: str, pause: float):
        async def run() -> None:
            try:
                await asyncio.sleep(pause)
                finished.append(name)
            except asyncio.CancelledError:
                cancelled.append(name)
                raise

        return run

    await workers.submit("quick", job("quick", 0.01))
    await workers.submit("slow", job("slow", 10))
    assert not await workers.drain(0.2)
    assert finished == ["quick"] and cancelled == ["slow"]
    assert await workers.drain(0)  # nothing left
    assert workers.idle == 2  # the cancelled job's worker is free again


def test_at_least_one_worker():
    with pytest.raises(ValueError, match="at least 1"):
        KeyedWorkers(0, "test")
