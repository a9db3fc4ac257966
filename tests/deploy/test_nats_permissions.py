"""The NATS users of deploy/nats/auth.conf, exercised for real on a 3-node cluster (issue #8 §4, §5).

The streams are applied the way production applies them — `serambi streams apply` as the ops
user, replicas 3 — and each user then tries what it must be able to do and what it must not.
A refused publish is seen twice: the server reports a permissions violation to the client, and
nothing reaches the stream (a JetStream publish gets no acknowledgement).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import pytest
from nats.js.api import DeliverPolicy, StreamConfig
from serambi_contracts import AggregateRef
from serambi_contracts.sla import SLABreached, SLAWarning
from serambi_kit.eventstore import EventStoreError, JetStreamEventStore
from serambi_kit.settings import ServiceSettings
from serambi_kit.state import kit_state
from serambi_kit.topology import CONTEXTS, stream_name
from serambi_ops.commands.streams import apply_all

from .conftest import SERVICE_NAMES, NatsCluster, violations_after

pytestmark = pytest.mark.slow  # make test-slow (CI runs it after make test)

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
REFUSED = 0.5  # seconds to wait for an acknowledgement that must not come


def case_events(case_id: str) -> list:
    warning = SLAWarning(
        case_id=case_id, clock="ringan", threshold_percent=50, started_at=NOW, due_at=NOW, warned_at=NOW
    )
    breach = SLABreached(case_id=case_id, clock="ringan", started_at=NOW, due_at=NOW, breached_at=NOW)
    return [warning, breach]


@pytest.fixture(scope="module")
async def applied(nats_cluster: NatsCluster, ops_nc) -> list[str]:
    """`serambi streams apply` (streams, timers, bus mirrors) as the ops user, twice: idempotent."""
    settings = ServiceSettings(
        nats_url=nats_cluster.urls()[0],
        nats_user="ops",
        nats_password=nats_cluster.passwords["ops"],
        stream_replicas=3,
    )
    await apply_all(settings)
    lines = await apply_all(settings)
    return lines


async def stream_messages(ops_nc, name: str) -> int:
    return (await ops_nc.jetstream().stream_info(name)).state.messages


async def test_streams_apply_is_idempotent_and_makes_r3_streams_that_never_expire_and_deny_delete(
    nats_cluster: NatsCluster, ops_nc, applied: list[str]
):
    streams = [line for line in applied if line.startswith("stream ")]
    assert {f"stream {stream_name(context)}: up to date" for context in CONTEXTS} <= set(streams)
    assert all(line.endswith(": up to date") for line in streams), streams
    for name in [line.split()[1].rstrip(":") for line in streams]:
        info = await ops_nc.jetstream().stream_info(name)
        assert info.config.num_replicas == 3 and len(info.cluster.replicas) == 2, name
    for context in CONTEXTS:
        config = (await ops_nc.jetstream().stream_info(stream_name(context))).config
        assert config.max_age == 0 and config.max_msgs == -1 and config.max_bytes == -1
        assert config.deny_delete and config.allow_direct
    for node in nats_cluster.nodes:
        assert node.varz()["jetstream"]["config"]["sync_always"] is True


async def test_the_event_streams_deny_purge(ops_nc, applied):
    for context in CONTEXTS:
        assert (await ops_nc.jetstream().stream_info(stream_name(context))).config.deny_purge, context


@pytest.mark.parametrize("service", SERVICE_NAMES)
async def test_a_service_appends_atomic_batches_to_its_own_context_and_loads_them_back(
    nats_cluster: NatsCluster, applied, service: str
):
    errors: list[Exception] = []
    nc = await nats_cluster.connect(service, errors)
    try:
        store = JetStreamEventStore(nc, f"/serambi/{service}", timeout=2)
        ref = AggregateRef(service, "case", f"C-{uuid.uuid4().hex[:12]}")
        appended = await store.append(ref, case_events(ref.id), expected_sequence=0, expected_version=0)
        history = await store.load(ref)
        for _ in range(20):  # direct get may be answered by a follower a moment behind the leader
            if history.events:
                break
            await asyncio.sleep(0.1)
            history = await store.load(ref)
        assert len(appended.sequences) == 2
        assert [type(event).__name__ for event in history.payloads] == ["SLAWarning", "SLABreached"]
        assert await violations_after(errors, nc) == []
    finally:
        await nc.close()


async def test_no_service_can_publish_another_contexts_events(nats_cluster: NatsCluster, ops_nc, applied):
    before = {context: await stream_messages(ops_nc, stream_name(context)) for context in CONTEXTS}

    async def try_foreign_append(service: str, context: str) -> tuple[str, str, list[str], Exception | None]:
        errors: list[Exception] = []
        nc = await nats_cluster.connect(service, errors)
        try:
            store = JetStreamEventStore(nc, f"/serambi/{service}", timeout=REFUSED)
            ref = AggregateRef(context, "case", f"X-{uuid.uuid4().hex[:12]}")
            try:
                await store.append(ref, case_events(ref.id)[:1], expected_sequence=0, expected_version=0)
                outcome = None
            except (TimeoutError, EventStoreError) as exc:
                outcome = exc
            return service, context, await violations_after(errors, nc), outcome
        finally:
            await nc.close()

    attempts = [(s, c) for s in SERVICE_NAMES for c in CONTEXTS if c != s]
    results = await asyncio.gather(*(try_foreign_append(s, c) for s, c in attempts))
    for service, context, violations, outcome in results:
        assert outcome is not None, f"{service} appended to {context}"
        assert any(f'"{context}.case.' in v for v in violations), (service, context, violations)
    assert {context: await stream_messages(ops_nc, stream_name(context)) for context in CONTEXTS} == before


def probe_subject(filter_subject: str) -> tuple[str, str]:
    """A subject the filter matches, and the user allowed to publish it (its context or owner)."""
    subject = filter_subject.replace(".>", ".X1.Probe").replace("*", f"P-{uuid.uuid4().hex[:8]}")
    tokens = subject.split(".")
    return subject, tokens[1] if tokens[0] == "timers" else tokens[0]


async def test_a_service_pulls_and_acks_its_own_durable_consumers_only(
    nats_cluster: NatsCluster, applied, declared_consumers
):
    owners = {spec.durable: spec for specs in declared_consumers.values() for spec in specs}
    consuming = [name for name in SERVICE_NAMES if declared_consumers[name]]
    assert len(consuming) >= 2, "needs two services with consumers to test isolation"
    writers = {user: await nats_cluster.connect(user) for user in SERVICE_NAMES}
    try:
        for service in consuming:
            errors: list[Exception] = []
            nc = await nats_cluster.connect(service, errors)
            try:
                js = nc.jetstream()
                for spec in declared_consumers[service]:
                    await js.add_consumer(spec.stream, spec.config(ack_wait=30, replicas=3))
                    subject, writer = probe_subject(spec.filter_subjects[0])
                    await writers[writer].jetstream().publish(subject, b"{}")
                    subscription = await js.pull_subscribe_bind(durable=spec.durable, stream=spec.stream)
                    seen: list[str] = []
                    while subject not in seen:  # earlier messages of the stream come first
                        for message in await subscription.fetch(64, timeout=5):
                            await message.ack_sync()
                            seen.append(message.subject)
                    await subscription.unsubscribe()
                assert await violations_after(errors, nc) == []

                foreign = next(spec for spec in owners.values() if spec.service != service)
                stolen = await js.pull_subscribe_bind(durable=foreign.durable, stream=foreign.stream)
                with pytest.raises(asyncio.TimeoutError):
                    await stolen.fetch(1, timeout=REFUSED)
                with pytest.raises(asyncio.TimeoutError):
                    await js.add_consumer(
                        foreign.stream, foreign.config(ack_wait=30, replicas=3), timeout=REFUSED
                    )
                violations = await violations_after(errors, nc)
                assert any(f"msg.next.{foreign.stream}.{foreign.durable}".lower() in v for v in violations)
                assert any(f"create.{foreign.stream}.{foreign.durable}".lower() in v for v in violations)
            finally:
                await nc.close()
    finally:
        for writer in writers.values():
            await writer.close()


@pytest.mark.parametrize("service", SERVICE_NAMES)
async def test_no_service_can_create_update_or_delete_a_stream(nats_cluster: NatsCluster, applied, service):
    errors: list[Exception] = []
    nc = await nats_cluster.connect(service, errors)
    try:
        js = nc.jetstream(timeout=REFUSED)
        own = stream_name(service)
        attempts = [
            js.add_stream(StreamConfig(name=f"ROGUE_{service.upper()}", subjects=[f"rogue.{service}.>"])),
            js.update_stream(StreamConfig(name=own, subjects=[f"{service}.>"], max_age=60)),
            js.delete_stream(own),
        ]
        results = await asyncio.gather(*attempts, return_exceptions=True)
        assert all(isinstance(result, asyncio.TimeoutError) for result in results), results
        violations = await violations_after(errors, nc)
        for verb in ("create", "update", "delete"):
            assert any(f"$js.api.stream.{verb}." in v for v in violations), (verb, violations)
    finally:
        await nc.close()


async def test_the_integration_user_replays_a_mirror_from_the_beginning(
    nats_cluster: NatsCluster, ops_nc, applied
):
    writer = await nats_cluster.connect("intake")
    bus_errors: list[Exception] = []
    bus = await nats_cluster.connect("bus", bus_errors)
    try:
        for number in range(5):
            await writer.jetstream().publish(f"intake.request.R-{number}.RequestSubmitted", b"{}")
        source = await ops_nc.jetstream().stream_info("INTAKE")
        for _ in range(100):  # the mirror follows asynchronously
            if await stream_messages(ops_nc, "BUS_INTAKE") == source.state.messages:
                break
            await asyncio.sleep(0.05)

        js = bus.jetstream()
        ordered = await js.subscribe(
            "intake.>", stream="BUS_INTAKE", ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
        )
        replayed = [await ordered.next_msg(timeout=5) for _ in range(source.state.messages)]
        await ordered.unsubscribe()
        assert [m.metadata.sequence.stream for m in replayed] == list(range(1, source.state.messages + 1))
        originals = [await ops_nc.jetstream().get_msg("INTAKE", m.metadata.sequence.stream) for m in replayed]
        assert [m.subject for m in replayed] == [o.subject for o in originals]

        durable = await js.pull_subscribe("intake.>", durable="bus-hub", stream="BUS_INTAKE")
        # a new consumer of an R3 stream answers pulls once its replicas elected a leader: until
        # then a fetch gets 503 (failed so in CI while the cluster was busy)
        deadline = asyncio.get_running_loop().time() + 30
        while not (await ops_nc.jetstream().consumer_info("BUS_INTAKE", "bus-hub")).cluster.leader:
            assert asyncio.get_running_loop().time() < deadline, "the consumer elected no leader"
            await asyncio.sleep(0.1)
        first = (await durable.fetch(1, timeout=5))[0]
        await first.ack_sync()
        assert first.metadata.sequence.stream == 1
        assert await violations_after(bus_errors, bus) == []
    finally:
        await writer.close()
        await bus.close()


async def test_the_integration_user_cannot_publish_or_touch_the_event_streams(
    nats_cluster: NatsCluster, ops_nc, applied, declared_consumers
):
    spec = next(spec for specs in declared_consumers.values() for spec in specs)
    before = await ops_nc.jetstream().consumer_info(spec.stream, spec.durable)
    counts = {context: await stream_messages(ops_nc, stream_name(context)) for context in CONTEXTS}
    errors: list[Exception] = []
    bus = await nats_cluster.connect("bus", errors)
    try:
        hijack = {
            "stream_name": spec.stream,
            "config": {
                "name": spec.durable,
                "ack_policy": "explicit",
                "filter_subjects": [f"{spec.context}.nothing.>"],
            },
        }
        refused = [
            *(f"{context}.case.C-1.SLAWarning" for context in CONTEXTS),
            f"$JS.API.CONSUMER.CREATE.{spec.stream}",  # the legacy ephemeral form: would update
            f"$JS.API.CONSUMER.MSG.NEXT.{spec.stream}.{spec.durable}",
            "$JS.API.STREAM.CREATE.ROGUE",
            "$JS.API.STREAM.UPDATE.BUS_INTAKE",
            "$JS.API.STREAM.DELETE.BUS_INTAKE",
            "$JS.API.STREAM.PURGE.BUS_INTAKE",
            "anything.else",
        ]
        for subject in refused:
            await bus.publish(subject, json.dumps(hijack).encode(), reply=bus.new_inbox())
        with pytest.raises(asyncio.TimeoutError):
            await bus.jetstream().publish(f"{spec.context}.case.C-2.SLAWarning", b"{}", timeout=REFUSED)
        violations = await violations_after(errors, bus)
        assert {subject.lower() for subject in refused} <= {v.split('"')[1] for v in violations}
    finally:
        await bus.close()
    after = await ops_nc.jetstream().consumer_info(spec.stream, spec.durable)
    assert after.config.filter_subjects == before.config.filter_subjects
    assert {context: await stream_messages(ops_nc, stream_name(context)) for context in CONTEXTS} == counts


async def test_no_one_can_delete_an_event_stream_or_purge_or_delete_its_events(
    nats_cluster: NatsCluster, applied
):
    writer = await nats_cluster.connect("intake")
    errors: list[Exception] = []
    ops = await nats_cluster.connect("ops", errors)
    try:
        stored = await writer.jetstream().publish("intake.request.R-keep.RequestSubmitted", b"{}")
        js = ops.jetstream(timeout=REFUSED)
        results = await asyncio.gather(
            js.delete_stream("INTAKE"),
            js.purge_stream("INTAKE"),
            js.delete_msg("INTAKE", stored.seq),
            js.purge_stream("BUS_INTAKE"),
            return_exceptions=True,
        )
        assert all(isinstance(result, asyncio.TimeoutError) for result in results), results
        refused = {v.split('"')[1] for v in await violations_after(errors, ops)}
        assert {
            "$js.api.stream.delete.intake",
            "$js.api.stream.purge.intake",
            "$js.api.stream.msg.delete.intake",
            "$js.api.stream.purge.bus_intake",
        } <= refused
        assert (await js.get_msg("INTAKE", stored.seq)).subject == "intake.request.R-keep.RequestSubmitted"
    finally:
        await writer.close()
        await ops.close()


@pytest.mark.parametrize("service", SERVICE_NAMES)
async def test_a_service_starts_and_is_ready_as_its_own_nats_user(
    nats_cluster: NatsCluster, applied, mongo_url: str, monkeypatch: pytest.MonkeyPatch, service: str
):
    from serambi_ops.services import SERVICES

    for name, value in {
        "SERAMBI_NATS_URL": nats_cluster.urls()[0],
        "SERAMBI_NATS_USER": service,
        "SERAMBI_NATS_PASSWORD": nats_cluster.passwords[service],
        "SERAMBI_MONGO_URL": mongo_url,
        "SERAMBI_STREAM_REPLICAS": "3",
        "SERAMBI_APPLY_STREAMS": "false",
    }.items():
        monkeypatch.setenv(name, value)
    logs = sorted(nats_cluster.directory.glob("*.log"))
    before = [len(log.read_text()) for log in logs]
    app = SERVICES[service].module("main").create_app()
    async with asyncio.timeout(30), app.router.lifespan_context(app):
        assert await kit_state(app).runtime.readiness() == {"nats": "ok", "mongodb": "ok"}
        await asyncio.sleep(1)  # the consumers' first pulls
    logs = "".join(log.read_text()[start:] for log, start in zip(logs, before, strict=True))
    assert f'"SERAMBI/user:{service}" - Publish Violation' not in logs
    assert f'"SERAMBI/user:{service}" - Subscription Violation' not in logs
