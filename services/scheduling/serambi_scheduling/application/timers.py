"""Re-arming a durable timer the server does not hold at its instant (the sweeps of the answer
clock and of the reminders)."""

from __future__ import annotations

from serambi_contracts.sla import ClockDue
from serambi_kit.eventstore import deterministic_id
from serambi_kit.logging import get_logger

from .context import Context

log = get_logger(__name__)


async def rearm_if_missing(ctx: Context, timer_id: str, due: ClockDue, *, kind: str) -> bool:
    """Arm ``due`` unless the server holds exactly it. A fresh message id (the lost schedule's own
    id may still be in the server's duplicate window); logged as ``<kind>.timer_rearmed``."""
    if await ctx.timers.scheduled(timer_id) == due:
        return False
    prefix = "rearm" if kind == "sla" else f"{kind}-rearm"
    await ctx.timers.arm(
        timer_id,
        due,
        event_id=deterministic_id(prefix, timer_id, due.due_at.isoformat(), ctx.now().isoformat()),
    )
    log.warning(f"{kind}.timer_rearmed", timer_id=timer_id)
    return True
