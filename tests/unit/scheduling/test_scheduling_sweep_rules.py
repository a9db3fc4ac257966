"""The periodic sweep of the audience answer clock, in memory: it arms again only the timers the
server lost or holds for another instant, and leaves the rest alone."""

from __future__ import annotations

from datetime import timedelta

from scheduling_support import MONDAY, submitted
from serambi_contracts.sla import ClockDue
from serambi_scheduling.application import commands, sla


class CountingTimers:
    def __init__(self, timers) -> None:
        self.inner = timers
        self.armed_ids: list[str] = []

    async def arm(self, timer_id: str, due: ClockDue, *, event_id: str | None = None) -> None:
        self.armed_ids.append(timer_id)
        await self.inner.arm(timer_id, due, event_id=event_id)

    async def cancel(self, timer_id: str) -> None:
        await self.inner.cancel(timer_id)

    async def scheduled(self, timer_id: str) -> ClockDue | None:
        return await self.inner.scheduled(timer_id)


async def test_a_periodic_sweep_arms_again_only_lost_or_misplaced_timers(ctx):
    code = "AUD-2026-000001"
    state = await commands.open_request(ctx, submitted(code, calendar=ctx.calendar), f"cause-{code}")
    ctx.open_audiences = lambda: _ids(code)
    await sla.arm(ctx, state)
    ctx.now = lambda: MONDAY
    ctx.timers = counting = CountingTimers(ctx.timers)
    assert await sla.sweep(ctx, missing_only=True) == 1
    assert counting.armed_ids == []  # every timer is where it should be
    await counting.cancel(f"{code}-w75")
    wrong = counting.inner.armed[f"{code}-breach"]
    counting.inner.armed[f"{code}-breach"] = wrong.model_copy(
        update={"due_at": wrong.due_at + timedelta(days=1)}
    )
    await sla.sweep(ctx, missing_only=True)
    assert sorted(counting.armed_ids) == [f"{code}-breach", f"{code}-w75"]
    assert counting.inner.armed[f"{code}-breach"] == wrong


async def _ids(*codes: str) -> list[str]:
    return list(codes)
