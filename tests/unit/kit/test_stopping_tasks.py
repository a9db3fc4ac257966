"""Stopping background tasks: bounded, and a job stops at its next item once cancelled."""

from __future__ import annotations

import asyncio
import time

import pytest
from serambi_kit.tasks import cancel_and_wait, raise_if_cancel_requested


async def test_a_task_that_will_not_stop_is_logged_and_left_behind(capsys):
    release = asyncio.Event()

    async def stubborn() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            pass  # what a library below might do
        await release.wait()

    task = asyncio.create_task(stubborn(), name="stubborn")
    await asyncio.sleep(0)
    started = time.monotonic()
    await cancel_and_wait(task, within=0.2)
    assert time.monotonic() - started < 2
    assert "task.did_not_stop" in capsys.readouterr().out and not task.done()
    release.set()
    await task


async def test_a_loop_over_items_stops_at_the_first_error_once_its_task_is_cancelled():
    handled: list[int] = []
    first = asyncio.Event()

    async def work_through(items: range) -> None:
        for item in items:
            try:
                first.set()
                await asyncio.sleep(0.01)
                handled.append(item)
            except asyncio.CancelledError as cancelled:  # a driver turning it into its own error
                try:
                    raise ConnectionError("connection closed") from cancelled
                except Exception as exc:  # noqa: BLE001
                    raise_if_cancel_requested(exc)

    task = asyncio.create_task(work_through(range(100)))
    await first.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(handled) < 3
