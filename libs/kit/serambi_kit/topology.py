"""Streams and durable consumers: the one place their configuration lives.

Applied idempotently by ``serambi streams apply`` and at every service's start-up.
Development runs R1; production runs R3 (``SERAMBI_STREAM_REPLICAS=3``) on servers configured
with ``sync_interval: always`` (see docs/operations.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

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
#: The services that own SLA clocks: each has its own timers stream (``timers_config``).
TIMER_OWNERS = ("scheduling", "complaints")
#: How long a fired timer (ClockDue) stays for its consumer. A schedule waiting to fire never
#: expires (see ``timers_config``); a fired one not consumed within this is caught by the sweep.
FIRED_TIMER_TTL_SECONDS = 30 * 24 * 3600
#: The single timers stream of earlier versions (any service could purge every timer there).
LEGACY_TIMERS = "TIMERS"


def stream_name(context: str) -> str:
    return context.upper()


class _PermanentRecord(TypedDict):
    retention: RetentionPolicy
    storage: StorageType
    num_replicas: int
    max_age: float
    max_msgs: int
    max_bytes: int
    deny_delete: bool
    deny_purge: bool
    allow_direct: bool


def _permanent_record(replicas: int) -> _PermanentRecord:
    """What every copy of the event record shares: on disk, never expiring, nothing deletable."""
    return {
        "retention": RetentionPolicy.LIMITS,
        "storage": StorageType.FILE,
        "num_replicas": replicas,
        "max_age": 0,
        "max_msgs": -1,
        "max_bytes": -1,
        "deny_delete": True,
        "deny_purge": True,
        "allow_direct": True,
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
        # that allows schedules. Timers live on their owners' streams (timers_config).
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


def timers_stream(owner: str) -> str:
    return f"TIMERS_{owner.upper()}"


def timers_config(owner: str, replicas: int = 1) -> StreamConfig:
    """An owner's durable timers (JetStream message schedules), not a record. Subjects
    ``timers.<owner>.<timer_id>.Schedule`` (armed) and ``timers.<owner>.<timer_id>.ClockDue``
    (fired).

    - **No max age.** A schedule is an ordinary message of the stream until it fires, so a
      ``max_age`` would delete every schedule armed longer ago than that — a 60-working-day
      deadline is about 85 calendar days, durations are configurable and a calendar revision
      can move a deadline later still. Without one, a schedule stays until it fires (the server
      then removes it), is replaced by its owner arming it again, or is cancelled (purged) by
      its owner: the stream holds the pending timers, whatever the longest clock.
    - **Fired timers expire** after ``FIRED_TIMER_TTL_SECONDS``: each schedule asks the server
      for that TTL on the message it fires (``Nats-Schedule-TTL``, hence ``allow_msg_ttl``).
    - **One stream per owner**: nats-server forces ``allow_rollup_hdrs`` on (and ``deny_purge``
      off) for a stream that allows schedules, so on a shared stream any service allowed to
      publish one timer could wipe them all (``Nats-Rollup: all``) or purge them (the purge's
      subject filter travels in the request body). Here the stream name is in the purge
      subject and an owner's rollup reaches only its own timers (deploy/nats/auth.conf).
    """
    return StreamConfig(
        name=timers_stream(owner),
        description=f"Serambi {owner} SLA timers (message schedules)",
        subjects=[f"timers.{owner}.>"],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        num_replicas=replicas,
        max_age=0,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        allow_direct=True,
        allow_msg_schedules=True,
        allow_msg_ttl=True,
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
        return timers_stream(self.service) if self.context == "timers" else stream_name(self.context)

    def config(self, *, ack_wait: float, replicas: int = 1) -> ConsumerConfig:
        """The server never gives up on a message (``max_deliver=-1``): a consumer that cannot
        handle one keeps it until a dependency is back, or dead-letters it itself and acks
        (``messaging.deliver``); a server-side limit would drop the last delivery silently."""
        return ConsumerConfig(
            durable_name=self.durable,
            description=f"{self.service}: {self.purpose}",
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=ack_wait,
            max_deliver=-1,
            max_ack_pending=self.max_ack_pending,
            filter_subjects=list(self.filter_subjects),
            num_replicas=replicas,
        )


async def apply_streams(js: JetStreamContext, replicas: int = 1) -> list[str]:
    """Create or update every context stream. Returns what it did, one line each."""
    done = []
    configs = [stream_config(context, replicas) for context in CONTEXTS]
    mirrors = [bus_mirror_config(context, replicas) for context in CONTEXTS]
    timers = [timers_config(owner, replicas) for owner in TIMER_OWNERS]
    done += await _retire_legacy_timers(js)
    for config in [*configs, *timers, *mirrors]:
        assert config.name is not None  # every config above is named
        try:
            await js.stream_info(config.name)
        except NotFoundError:
            await js.add_stream(config)
            done.append(f"stream {config.name}: created")
        else:
            await js.update_stream(config)
            done.append(f"stream {config.name}: up to date")
    return done


async def _retire_legacy_timers(js: JetStreamContext) -> list[str]:
    """Delete the single TIMERS stream of earlier versions: its subjects overlap the owners'
    streams. Nothing is lost for good: owners re-arm their clocks' timers from their records
    (the periodic sweep). Refused to the production ``ops`` user (it deletes no stream): an
    operator with the system account deletes it once (docs/operations.md)."""
    try:
        await js.stream_info(LEGACY_TIMERS)
    except NotFoundError:
        return []
    try:
        await js.delete_stream(LEGACY_TIMERS)
    except TimeoutError:  # a permissions violation gets no answer
        raise RuntimeError(
            f"stream {LEGACY_TIMERS} (timers of an earlier version) must be deleted first, by a "
            "user allowed to delete streams: see docs/operations.md"
        ) from None
    owners = ", ".join(map(timers_stream, TIMER_OWNERS))
    return [f"stream {LEGACY_TIMERS}: deleted (timers now live on {owners})"]


def stream_names() -> list[str]:
    return [*(stream_name(context) for context in CONTEXTS), *map(timers_stream, TIMER_OWNERS)]


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
    ack_wait: float,
    replicas: int = 1,
) -> list[str]:
    done = []
    for spec in consumers:
        config = spec.config(ack_wait=ack_wait, replicas=replicas)
        await js.add_consumer(spec.stream, config)  # create-or-update, idempotent
        done.append(f"consumer {spec.stream}/{spec.durable}: applied")
    return done
