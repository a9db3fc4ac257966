"""Consumers that handle several messages at once (FastStream ``max_workers``).

The kit's ``Runtime.consume`` handles one message at a time per process, which keeps
per-aggregate order for free but makes a burst of fired timers (many deadlines on the same
second) wait in line. The SLA handlers do not need that order — fired timers are independent
checks, and the timer reactor enforces each complaint's order itself — so they run ``workers``
at a time. Same delivery policy as the kit (ack after the effect, nak with backoff, dead letter).

TODO(kit): this belongs in ``Runtime.consume(..., workers=N)``; moved here to avoid editing the
kit while it is being reworked (see the report of issue #6).
"""

from __future__ import annotations

import time

from faststream.middlewares import AckPolicy
from faststream.nats import JStream, NatsMessage, PullSub
from serambi_kit.messaging import CONSUMED, HANDLE_SECONDS, Handler, deliver
from serambi_kit.runtime import Runtime
from serambi_kit.topology import ConsumerSpec


def consume_concurrently(
    runtime: Runtime, spec: ConsumerSpec, handle: Handler, description: str, workers: int
) -> None:
    if workers <= 1:
        runtime.consume(spec, handle, description)
        return
    if spec.service != runtime.settings.service:
        raise ValueError(f"{spec.durable} belongs to {spec.service}, not {runtime.settings.service}")
    runtime.consumers.append(spec)
    policy = runtime.policy

    async def on_message(message: NatsMessage) -> None:
        started = time.perf_counter()
        outcome = await deliver(message.raw_message, spec.durable, handle, runtime.dead_letters(), policy)
        CONSUMED.labels(spec.durable, outcome).inc()
        HANDLE_SECONDS.labels(spec.durable).observe(time.perf_counter() - started)

    runtime.broker.subscriber(
        spec.filter_subjects[0] if len(spec.filter_subjects) == 1 else f"{spec.context}.>",
        stream=JStream(spec.stream, declare=False),
        durable=spec.durable,
        config=spec.config(max_deliver=policy.max_deliver, ack_wait=30.0),
        pull_sub=PullSub(batch_size=1, timeout=5.0),
        ack_policy=AckPolicy.MANUAL,
        max_workers=workers,
        title=f"{spec.durable}:consume",
        description=description,
    )(on_message)
