"""Streams and durable consumers: the one place their configuration lives.

Applied idempotently by ``serambi streams apply`` and at every service's start-up.
Development runs R1; production runs R3 (``SERAMBI_STREAM_REPLICAS=3``) on servers configured
with ``sync_interval: always`` (see docs/operations.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
    StreamSource,
)
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

CONTEXTS = ("intake", "scheduling", "complaints", "notifier")
DUPLICATE_WINDOW_SECONDS = 120.0
TIMERS = "TIMERS"
TIMER_RETENTION_SECONDS = 30 * 24 * 3600.0


def stream_name(context: str) -> str:
    return context.upper()


def _permanent_record(replicas: int) -> dict:
    """What every copy of the event record shares: on disk, never expiring, nothing deletable."""
    return {
        "retention": RetentionPolicy.LIMITS, "storage": StorageType.FILE, "num_replicas": replicas,
        "max_age": 0, "max_msgs": -1, "max_bytes": -1,
        "deny_delete": True, "deny_purge": True, "allow_direct": True,
    }


def stream_config(context: str, replicas: int = 1) -> StreamConfig:
    """An event stream: the context's record. Never expires, denies delete and purge."""
    return StreamConfig(
        name=stream_name(context),
        description=f"Serambi {context} events (source of truth)",
        subjects=[f"{context}.>"],
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        allow_atomic=True,
        **_permanent_record(replicas),
        # No allow_msg_schedules here: nats-server 2.15 silently clears deny_purge on a stream
        # that allows schedules. Timers live on their own stream (TIMERS).
    )


def bus_mirror_config(context: str, replicas: int = 1) -> StreamConfig:
    """A read-only mirror of a context's stream for the integration bus: same messages,
    subjects and sequences. Subscribers replay and consume here, never on the event streams,
    so no outside system can touch a service's consumers (deploy/nats/auth.conf)."""
    source = stream_name(context)
    return StreamConfig(
        name=f"BUS_{source}",
        description=f"Read-only mirror of {source} for the integration bus",
        mirror=StreamSource(name=source),
        **_permanent_record(replicas),
    )


def timers_config(replicas: int = 1) -> StreamConfig:
    """Durable timers (JetStream message schedules), not a record: purge cancels a timer, and
    fired messages expire after 30 days. Subjects ``timers.<owner>.<timer_id>.Schedule`` (armed)
    and ``timers.<owner>.<timer_id>.ClockDue`` (fired)."""
    return StreamConfig(
        name=TIMERS,
        description="Serambi SLA timers (message schedules)",
        subjects=["timers.>"],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        num_replicas=replicas,
        max_age=TIMER_RETENTION_SECONDS,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        allow_direct=True,
        allow_msg_schedules=True,
    )


@dataclass(frozen=True, slots=True)
class ConsumerSpec:
    """A durable pull consumer, one per (service, purpose), shared by the service's replicas."""

    service: str
    purpose: str
    context: str
    filter_subjects: tuple[str, ...]
    max_ack_pending: int = 1000

    @property
    def durable(self) -> str:
        return f"{self.service}-{self.purpose}"

    @property
    def stream(self) -> str:
        return TIMERS if self.context == "timers" else stream_name(self.context)

    def config(self, *, max_deliver: int, ack_wait: float, replicas: int = 1) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.durable,
            description=f"{self.service}: {self.purpose}",
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=ack_wait,
            max_deliver=max_deliver,
            max_ack_pending=self.max_ack_pending,
            filter_subjects=list(self.filter_subjects),
            num_replicas=replicas,
        )


async def apply_streams(js: JetStreamContext, replicas: int = 1) -> list[str]:
    """Create or update every context stream. Returns what it did, one line each."""
    done = []
    configs = [stream_config(context, replicas) for context in CONTEXTS]
    mirrors = [bus_mirror_config(context, replicas) for context in CONTEXTS]
    for config in [*configs, timers_config(replicas), *mirrors]:
        try:
            await js.stream_info(config.name)
        except NotFoundError:
            await js.add_stream(config)
            done.append(f"stream {config.name}: created")
        else:
            await js.update_stream(config)
            done.append(f"stream {config.name}: up to date")
    return done


def stream_names() -> list[str]:
    return [*(stream_name(context) for context in CONTEXTS), TIMERS]


async def require_streams(js: JetStreamContext) -> None:
    """Fail clearly when a stream a service needs does not exist (production start-up)."""
    for name in stream_names():
        try:
            await js.stream_info(name)
        except NotFoundError:
            raise RuntimeError(f"stream {name} does not exist: run `serambi streams apply`") from None


async def apply_consumers(
    js: JetStreamContext,
    consumers: tuple[ConsumerSpec, ...],
    *,
    max_deliver: int,
    ack_wait: float,
    replicas: int = 1,
) -> list[str]:
    done = []
    for spec in consumers:
        config = spec.config(max_deliver=max_deliver, ack_wait=ack_wait, replicas=replicas)
        await js.add_consumer(spec.stream, config)  # create-or-update, idempotent
        done.append(f"consumer {spec.stream}/{spec.durable}: applied")
    return done
