"""A service's connections: NATS (event store), MongoDB (read models), dead letters.

The composition root of each service builds one Runtime, and the HTTP app's lifespan starts and
stops it. Start-up applies the streams and the service's consumers (idempotent), connects
MongoDB and the vault, runs the service's ``before_consuming`` steps (its indexes), and only then
starts the consumers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import nats
from faststream.nats import NatsBroker, NatsUserPassword
from nats.aio.client import Client
from pymongo import AsyncMongoClient
from serambi_contracts import Event

from .deadletters import DeadLetters
from .eventstore import JetStreamEventStore, RecordedEvent
from .health import ConsumerWatch
from .logging import get_logger
from .messaging import Backlog, Concurrent, DeliveryPolicy, Handler, redrive, subscribe, subscribe_batches
from .mongo import Database, Document, connect, database
from .pii import Vault, parse_master_key
from .projections import Projection, apply_batch, projector_handler
from .settings import ServiceSettings
from .slametrics import DEPENDENCY_UP, ScrapeGauges
from .tasks import cancel_and_wait, cancel_requested
from .topology import ConsumerSpec, apply_consumers, apply_streams, require_streams

log = get_logger(__name__)


class NotStartedError(RuntimeError):
    """A connection was used before the runtime started."""


class Runtime:
    #: how often a running service looks for dead letters marked for redrive
    redrive_interval: float = 2.0
    #: how long a stop waits for the concurrent handlers already started (``consume(workers=)``)
    WORKERS_DRAIN_SECONDS: float = 10.0

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.consumers: list[ConsumerSpec] = []
        self.handlers: dict[str, Handler] = {}  # by durable consumer name, for redrives
        self._redrive_task: asyncio.Task[None] | None = None
        self._concurrent: list[Concurrent] = []  # consumers' concurrent handlers, drained at stop
        #: run by ``start()`` once MongoDB and the vault are connected, before any consumer starts:
        #: the service's indexes. Built while consumers upsert into the same new collections,
        #: SecantusDB 0.7 deadlocked (createIndexes' collection creation against an upsert's
        #: transaction), and MongoDB would build them under write load (docs/architecture.md,
        #: "Start-up order")
        self.before_consuming: list[Callable[[], Awaitable[None]]] = []
        self.source = f"/serambi/{settings.service}"
        credentials = settings.nats_options()
        self.broker = NatsBroker(
            settings.nats_url,
            logger=logging.getLogger("serambi.faststream"),
            log_level=logging.DEBUG,
            max_reconnect_attempts=-1,  # an outage of minutes ends in a reconnect, never a give-up
            security=NatsUserPassword(credentials["user"], credentials["password"]) if credentials else None,
        )
        self.policy = DeliveryPolicy(
            settings.consumer_max_deliver,
            settings.retry_delays_seconds,
            settings.consumer_ack_wait_seconds,
            settings.outage_retry_max_seconds,
        )
        self.watch = ConsumerWatch(self.consumers, settings.consumer_stall_seconds)
        #: gauges read from the read models when /metrics is scraped (serambi_kit.slametrics)
        self.gauges = ScrapeGauges()
        self.gauges.add("dependencies", lambda _db: self._dependencies_metric())
        self._watch_task: asyncio.Task[None] | None = None
        self._nc: Client | None = None
        self._mongo: AsyncMongoClient[Document] | None = None
        self._store: JetStreamEventStore | None = None
        self._vault: Vault | None = None
        self._stopping = False

    async def start(self) -> None:
        self._stopping = False
        self._nc = await nats.connect(
            self.settings.nats_url,
            name=f"serambi-{self.settings.service}",
            max_reconnect_attempts=-1,
            **self.settings.nats_options(),
        )
        js = self._nc.jetstream()
        replicas = self.settings.stream_replicas
        if self.settings.apply_streams:
            await apply_streams(js, replicas)
        else:
            await require_streams(js)
        await apply_consumers(
            js,
            tuple(self.consumers),
            ack_wait=self.settings.consumer_ack_wait_seconds,
            replicas=replicas,
        )
        self._store = JetStreamEventStore(self._nc, self.source)
        self._mongo = connect(
            self.settings.mongo_url.get_secret_value(), traced=self.settings.tracing != "off"
        )
        await self._mongo.admin.command("ping")
        self._vault = Vault(
            database(self._mongo, self.settings.vault_database),
            parse_master_key(self.settings.pii_master_key.get_secret_value()),
            cache_seconds=self.settings.pii_key_cache_seconds,
            cache_size=self.settings.pii_key_cache_size,
        )
        try:
            for step in self.before_consuming:
                await step()
        except BaseException:
            await self._close()  # nothing consumes yet: the connections go with the failed start
            raise
        await self.broker.start()
        if self.handlers:
            self._redrive_task = asyncio.create_task(self._redrive_loop())
        if self.consumers:
            self._watch_task = asyncio.create_task(self._watch_loop())
        log.info("runtime.started", nats=self.settings.nats_url, database=self.settings.database)

    async def _redrive_loop(self) -> None:
        while not cancel_requested():  # a driver may turn the stop's cancellation into an error
            await asyncio.sleep(self.redrive_interval)
            try:
                await redrive(self.nc.jetstream(), self.dead_letters(), self.handlers)
            except Exception as exc:  # noqa: BLE001 — tried again on the next round
                log.warning("redrive.unavailable", error=repr(exc))

    async def _watch_loop(self) -> None:
        while not cancel_requested():
            await self.watch.check(self.nc.jetstream())
            await asyncio.sleep(self.settings.consumer_watch_seconds)

    async def stop(self) -> None:
        await self.stop_consuming()
        await self.broker.stop()
        await self._close()

    async def stop_consuming(self) -> None:
        """No new deliveries, then the handlers already started end and ack while the
        connections are still open; what never started is naked (redelivered). A subclass that
        stops more (the notifier's sends) calls this first. Idempotent."""
        self._stopping = True  # a projection draining a backlog ends after its current batch
        await cancel_and_wait(self._redrive_task, self._watch_task)
        self._redrive_task = self._watch_task = None
        stopped = await asyncio.gather(
            *(subscriber.stop() for subscriber in self.broker.subscribers), return_exceptions=True
        )
        for error in (outcome for outcome in stopped if isinstance(outcome, BaseException)):
            log.warning("runtime.subscriber_stop_failed", error=repr(error))
        await asyncio.gather(*(workers.drain(self.WORKERS_DRAIN_SECONDS) for workers in self._concurrent))

    async def _close(self) -> None:
        if self._nc is not None:
            await self._nc.drain()
        if self._mongo is not None:
            await self._mongo.close()

    @property
    def nc(self) -> Client:
        if self._nc is None:
            raise NotStartedError("NATS is not connected yet")
        return self._nc

    @property
    def store(self) -> JetStreamEventStore:
        if self._store is None:
            raise NotStartedError("the event store is not connected yet")
        return self._store

    @property
    def mongo_connected(self) -> bool:
        return self._mongo is not None

    @property
    def db(self) -> Database:
        if self._mongo is None:
            raise NotStartedError("MongoDB is not connected yet")
        return database(self._mongo, self.settings.database)

    def _claim(self, spec: ConsumerSpec) -> None:
        if spec.service != self.settings.service:
            raise ValueError(f"{spec.durable} belongs to {spec.service}, not {self.settings.service}")
        self.consumers.append(spec)

    def consume(
        self,
        spec: ConsumerSpec,
        handle: Handler,
        description: str,
        *,
        ignore_unknown_types: bool = False,
        workers: int = 1,
    ) -> None:
        """Run ``handle`` for every message of the durable consumer ``spec``.

        ``ignore_unknown_types``: ack and ignore event types not in the catalogue instead of
        dead-lettering them (see ``messaging.deliver``). ``workers``: messages handled at once,
        one at a time per aggregate (see ``messaging.subscribe``)."""
        self._claim(spec)
        self.handlers[spec.durable] = handle
        concurrent = subscribe(
            self.broker,
            spec,
            handle,
            dead_letters=self.dead_letters,
            policy=self.policy,
            batch_size=self.settings.consumer_batch_size,
            description=description,
            ignore_unknown_types=ignore_unknown_types,
            workers=workers,
            backlog=Backlog(lambda: self.nc, spec) if workers > 1 else None,
        )
        if concurrent is not None:
            self._concurrent.append(concurrent)

    def project(self, spec: ConsumerSpec, projection: Projection) -> None:
        """Keep ``projection`` up to date from the events ``spec`` delivers, in batches."""
        self._claim(spec)

        self.handlers[spec.durable] = projector_handler(projection, lambda: self.db)

        async def fast_path(batch: list[RecordedEvent]) -> bool:
            return await apply_batch(self.db[projection.collection], projection, batch)

        subscribe_batches(
            self.broker,
            spec,
            fast_path,
            projector_handler(projection, lambda: self.db),
            backlog=Backlog(lambda: self.nc, spec),
            dead_letters=self.dead_letters,
            policy=self.policy,
            batch_size=self.settings.projection_batch_size,
            stopping=lambda: self._stopping,
            description=f"Projects {', '.join(projection.sources)} into read model "
            f"{projection.collection!r}.",
        )

    def publishes(self, context: str, aggregate: str, *events: type[Event]) -> None:
        """Declare (for the AsyncAPI document) the events this service appends."""
        for event in events:
            self.broker.publisher(
                f"{context}.{aggregate}.{{{aggregate}_id}}.{event.name()}",
                schema=event,
                title=event.event_type(),
                description=(event.__doc__ or "").strip(),
            )

    @property
    def vault(self) -> Vault:
        if self._vault is None:
            raise NotStartedError("the vault is not connected yet")
        return self._vault

    def dead_letters(self) -> DeadLetters:
        return DeadLetters(self.db)

    async def readiness(self) -> dict[str, str]:
        """Each dependency's state: ``ok`` or the reason it is not. A dependency that does not
        answer within ``readiness_timeout_seconds`` (a stopped server holds connections open)
        is unavailable too."""

        async def check(probe: Callable[[], Awaitable[object]]) -> str:
            try:
                await asyncio.wait_for(probe(), self.settings.readiness_timeout_seconds)
            except Exception as exc:  # noqa: BLE001 — reported, not raised
                return f"unavailable: {type(exc).__name__}"
            return "ok"

        nats_state, mongo_state = await asyncio.gather(  # at once: one timeout, not two in a row
            check(lambda: self.nc.jetstream().account_info()), check(lambda: self.db.command("ping"))
        )
        return {"nats": nats_state, "mongodb": mongo_state}

    async def _dependencies_metric(self) -> None:
        for dependency, state in (await self.readiness()).items():
            DEPENDENCY_UP.labels(dependency).set(1 if state == "ok" else 0)

    def consumer_health(self) -> dict[str, str]:
        """Each consumer's last verdict (``ok``, ``stalled: …``): detail for operators, not a
        reason to take the service out of rotation."""
        return self.watch.verdicts()
