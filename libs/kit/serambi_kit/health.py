"""Is each durable consumer of a service making progress?

A consumer whose messages wait on a dependency, or keep failing, stops acknowledging while its
backlog grows. :class:`ConsumerWatch` reads each consumer's state from JetStream on an interval
(pending, waiting for an ack, redelivered, the ack floor) and calls a consumer **stalled** when
it has messages to handle and its ack floor has not moved for ``stall_after`` seconds. Its
verdicts are Prometheus gauges and the ``consumers`` detail of ``/readyz``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from nats.js import JetStreamContext
from prometheus_client import Gauge

from .topology import ConsumerSpec

PENDING = Gauge("serambi_consumer_pending", "Messages not yet delivered to the consumer", ["consumer"])
ACK_PENDING = Gauge("serambi_consumer_ack_pending", "Messages delivered, not yet acknowledged", ["consumer"])
REDELIVERED = Gauge(
    "serambi_consumer_redelivered", "Messages delivered more than once, not yet acknowledged", ["consumer"]
)
STALLED = Gauge(
    "serambi_consumer_stalled", "1 when the consumer has work and its ack floor stands still", ["consumer"]
)
SINCE_PROGRESS = Gauge(
    "serambi_consumer_seconds_since_progress",
    "Seconds since the ack floor last moved (0 without work)",
    ["consumer"],
)


@dataclass
class _Progress:
    ack_floor: int = -1
    moved_at: float = 0.0
    verdict: str = "unknown"


class ConsumerWatch:
    def __init__(
        self,
        consumers: list[ConsumerSpec],
        stall_after: float,  # the runtime's own list
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.consumers = consumers
        self.stall_after = stall_after
        self.clock = clock
        self.progress: dict[str, _Progress] = {}

    def verdicts(self) -> dict[str, str]:
        return {spec.durable: self._of(spec.durable).verdict for spec in self.consumers}

    def _of(self, durable: str) -> _Progress:
        return self.progress.setdefault(durable, _Progress())

    async def check(self, js: JetStreamContext) -> dict[str, str]:
        """Read every consumer once and update the verdicts (``ok``, ``stalled: …`` or
        ``unknown: …`` when JetStream does not answer)."""
        now = self.clock()
        for spec in self.consumers:
            progress = self._of(spec.durable)
            try:
                info = await js.consumer_info(spec.stream, spec.durable, timeout=2.0)
            except Exception as exc:  # noqa: BLE001 — NATS down: said so, retried next round
                progress.verdict = f"unknown: {type(exc).__name__}"
                continue
            self.observe(
                spec.durable,
                info.num_pending or 0,
                info.num_ack_pending or 0,
                info.num_redelivered or 0,
                info.ack_floor.consumer_seq if info.ack_floor else 0,
                now,
            )
        return self.verdicts()

    def observe(
        self, durable: str, pending: int, ack_pending: int, redelivered: int, ack_floor: int, now: float
    ) -> str:
        progress = self._of(durable)
        if ack_floor != progress.ack_floor:
            progress.ack_floor, progress.moved_at = ack_floor, now
        work = pending + ack_pending
        if not work:
            progress.moved_at = now  # nothing to do is not standing still
        idle_for = now - progress.moved_at
        stalled = work > 0 and idle_for >= self.stall_after
        progress.verdict = (
            f"stalled: {work} messages waiting, no progress for {idle_for:.0f}s" if stalled else "ok"
        )
        PENDING.labels(durable).set(pending)
        ACK_PENDING.labels(durable).set(ack_pending)
        REDELIVERED.labels(durable).set(redelivered)
        STALLED.labels(durable).set(1 if stalled else 0)
        SINCE_PROGRESS.labels(durable).set(idle_for if work else 0)
        return progress.verdict
