"""The audience answer clock's warnings and breaches are counted once, where appended: a timer
delivered twice (a redelivery, another replica) counts nothing twice."""

from __future__ import annotations

from prometheus_client import REGISTRY
from scheduling_support import Clock, submitted, with_resources
from serambi_scheduling.application import commands, placement, sla
from serambi_scheduling.domain.audience import audience_of


def counted(kind: str) -> float:
    labels = {"clock": "audience_answer", "channel": "none"}
    return REGISTRY.get_sample_value(f"serambi_sla_{kind}_total", labels) or 0.0


async def test_each_warning_and_the_breach_are_counted_once_however_often_their_timer_fires(ctx):
    await with_resources(ctx)
    request = submitted("AUD-2026-000001", calendar=ctx.calendar, participants=99)  # referred
    await commands.open_request(ctx, request, "cause-1")
    await commands.place_automatically(ctx, "AUD-2026-000001", "cause-1")
    state = audience_of((await ctx.store.load(placement.audience_ref("AUD-2026-000001"))).payloads)
    await sla.arm(ctx, state)
    before = counted("warnings"), counted("breaches")
    ctx.now = Clock(ctx.timers.armed["AUD-2026-000001-breach"].due_at)
    for due in list(ctx.timers.armed.values()) * 2:  # every timer, each delivered twice
        await sla.on_due(ctx, due)
    assert (counted("warnings") - before[0], counted("breaches") - before[1]) == (3, 1)
