"""Benchmark: scheduling decisions per second with 1,000 bookings in the horizon, and the
end-to-end latency RequestSubmitted → AudienceScheduled through a running scheduling process.

    .venv/bin/python bench/scheduling_bench.py [--existing 1000] [--decisions 200] [--latency 200]

On its own nats-server and SecantusDB (free ports, temporary directory):
1. registers 20 rooms and 20 hosts and books ``--existing`` audiences over a 30-working-day
   horizon through the real use case (read model projected as it goes);
2. (a) the pure rule: earliest-slot searches/s over an in-memory view of those bookings;
   (b) full decisions/s: open the case, search, book room-day and host-day, render and store
       the answer letter, append AudienceScheduled — sequentially, then 8 at a time (racing);
3. starts the scheduling service as its own process on that data and measures, for
   ``--latency`` requests appended to INTAKE one after another (at 5/s, then at 20/s), the time
   from the append's acknowledgement to the AudienceScheduled message on the SCHEDULING stream.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nats

sys.path.insert(0, str(Path(__file__).parent))
from common import Stopwatch, percentile, servers, summary  # noqa: E402
from serambi_calendar import SlaPolicy, load_calendar  # noqa: E402
from serambi_contracts import AggregateRef  # noqa: E402
from serambi_contracts.base import Sealed  # noqa: E402
from serambi_contracts.intake import (  # noqa: E402
    InstitutionType,
    IntakeChannel,
    Requester,
    RequestSubmitted,
)
from serambi_kit.eventstore import JetStreamEventStore, read_stream  # noqa: E402
from serambi_kit.logging import configure_logging  # noqa: E402
from serambi_kit.mongo import connect, database  # noqa: E402
from serambi_kit.pii import Vault  # noqa: E402
from serambi_kit.projections import projector_handler  # noqa: E402
from serambi_kit.topology import apply_streams  # noqa: E402
from serambi_scheduling.adapters import queries  # noqa: E402
from serambi_scheduling.adapters.letters import LetterStore  # noqa: E402
from serambi_scheduling.adapters.projections import PROJECTIONS  # noqa: E402
from serambi_scheduling.application import commands, resources  # noqa: E402
from serambi_scheduling.application.context import Catalog, Context  # noqa: E402
from serambi_scheduling.domain.audience import Status  # noqa: E402
from serambi_scheduling.domain.resources import Host, Room  # noqa: E402
from serambi_scheduling.domain.rules import BusyView, Request, Rules, find_slot  # noqa: E402
from serambi_testing import localstack  # noqa: E402

HORIZON = 30
RESOURCES = 20
SEALED = Sealed(key="k1", nonce="AAAAAAAAAAAAAAAA", data="AAAA")
CALENDAR = load_calendar()


class NoTimers:
    async def arm(self, timer_id, due) -> None: ...

    async def cancel(self, timer_id) -> None: ...


def request(code: str, now: datetime, topic: Sealed = SEALED) -> RequestSubmitted:
    return RequestSubmitted(
        tracking_code=code,
        channel=IntakeChannel.ONLINE,
        requester=Requester(
            name=SEALED,
            position="Kepala Dinas",
            institution="Dinas Koperasi",
            institution_type=InstitutionType.LOCAL_GOVERNMENT,
            email=SEALED,
        ),
        topic=topic,
        purpose=SEALED,
        participants=6,
        submitted_at=now,
        answer_due_at=CALENDAR.add_working_days(now, 3),
        access_token_sha256="0" * 64,
    )


async def project_new(nc, db, handlers, since: int) -> int:
    last = since
    async for recorded in read_stream(nc, "SCHEDULING", "scheduling.>", from_sequence=since + 1):
        for handle in handlers:
            await handle(recorded)
        last = recorded.sequence
    return last


async def in_process(nats_url: str, mongo_url: str, existing: int, decisions: int) -> None:
    nc = await nats.connect(nats_url)
    await apply_streams(nc.jetstream())
    mongo = connect(mongo_url)
    db = database(mongo, "serambi_scheduling")

    def fetch(subject_filter: str, from_sequence: int):
        return read_stream(nc, "SCHEDULING", subject_filter, from_sequence=from_sequence)

    async def no_open() -> list[str]:
        return []

    vault = Vault(database(mongo, "serambi_vault"), os.urandom(32))
    requester = await vault.new_subject()  # each letter is sealed under the requester's key
    topic = await vault.seal(requester, "Koordinasi program hilirisasi lada")
    ctx = Context(
        store=JetStreamEventStore(nc, "/serambi/scheduling"),
        catalog=Catalog(fetch),
        bookings=queries.MongoBookingSource(db),
        letters=LetterStore(db, "bench-secret", vault),
        timers=NoTimers(),
        open_audiences=no_open,
        calendar=CALENDAR,
        policy=SlaPolicy(),
        rules=Rules(horizon_days=HORIZON),
        vault=vault,  # reveals each letter's topic and seals the letter
    )
    for n in range(RESOURCES):
        await resources.register_room(ctx, Room(f"room-{n:02d}", f"Ruang {n}", 10 + n, "Lt 2"), "bench")
        await resources.register_host(ctx, Host(f"host-{n:02d}", f"Pejabat {n}", "Kepala Bagian"), "bench")
    handlers = [projector_handler(p, lambda: db) for p in PROJECTIONS]
    await queries.ensure_indexes(db)
    now = datetime.now(UTC)
    position = 0

    async def decide(code: str) -> Status:
        await commands.open_request(ctx, request(code, now, topic), f"bench-{code}")
        state = await commands.place_automatically(ctx, code, f"bench-{code}")
        return state.status

    started = Stopwatch()
    for n in range(existing):
        assert await decide(f"PRE-{n:05d}") is Status.SCHEDULED
        if n % 50 == 49:
            position = await project_new(nc, db, handlers, position)
    position = await project_new(nc, db, handlers, position)
    print(
        f"setup: {existing} audiences booked over {HORIZON} working days, "
        f"{RESOURCES} rooms x {RESOURCES} hosts, in {started.seconds:.1f} s"
    )

    # (a) the rule alone, over an in-memory view of every booking
    view: BusyView = await ctx.bookings.busy(
        [(now + timedelta(days=d)).date() for d in range(HORIZON * 2 + 14)]
    )
    booked = sum(len(v) for v in view.intervals.values()) // 2
    rooms, hosts = list(ctx.catalog.rooms.values()), list(ctx.catalog.hosts.values())
    timer = Stopwatch()
    searches = 0
    while timer.seconds < 2.0:
        find_slot(Request(6), rooms, hosts, view, CALENDAR, ctx.rules, now)
        searches += 1
    print(
        f"(a) earliest-slot search over {booked} bookings: {searches / timer.seconds:,.0f} searches/s "
        f"({timer.seconds / searches * 1e6:.0f} µs each)"
    )

    # (b) full decisions, sequential then 8 at a time
    latencies = []
    timer = Stopwatch()
    for n in range(decisions):
        one = time.perf_counter()
        assert await decide(f"SEQ-{n:05d}") is Status.SCHEDULED
        latencies.append((time.perf_counter() - one) * 1000)
        if n % 20 == 19:
            position = await project_new(nc, db, handlers, position)
    rate = decisions / timer.seconds
    print(f"(b) full decisions, sequential: {rate:,.0f}/s ({summary(latencies)})")
    position = await project_new(nc, db, handlers, position)
    timer = Stopwatch()
    codes = [f"PAR-{n:05d}" for n in range(decisions)]
    for chunk in range(0, decisions, 8):
        results = await asyncio.gather(*(decide(code) for code in codes[chunk : chunk + 8]))
        assert set(results) == {Status.SCHEDULED}
        if chunk % 40 == 32:
            position = await project_new(nc, db, handlers, position)
    print(f"(b) full decisions, 8 concurrent on one process: {decisions / timer.seconds:,.0f}/s")
    await project_new(nc, db, handlers, position)
    await nc.drain()
    await mongo.close()


async def latency(stack_env: dict[str, str], count: int, rate: float, prefix: str) -> None:
    nc = await nats.connect(stack_env["SERAMBI_NATS_URL"])
    store = JetStreamEventStore(nc, "/serambi/intake")
    arrived: dict[str, float] = {}
    everything = asyncio.Event()

    async def on_scheduled(msg) -> None:
        arrived[msg.subject.split(".")[2]] = time.perf_counter()
        if len(arrived) >= count:
            everything.set()

    subscription = await nc.subscribe("scheduling.audience.*.AudienceScheduled", cb=on_scheduled)
    sent: dict[str, float] = {}
    for n in range(count):
        code = f"{prefix}-{n:05d}"
        await store.append(
            AggregateRef("intake", "request", code),
            [request(code, datetime.now(UTC))],
            expected_sequence=0,
            expected_version=0,
        )
        sent[code] = time.perf_counter()
        await asyncio.sleep(1 / rate)
    try:
        await asyncio.wait_for(everything.wait(), 30)
    except TimeoutError:
        pass
    await subscription.unsubscribe()
    await nc.drain()
    samples = [(arrived[c] - sent[c]) * 1000 for c in sent if c in arrived]
    print(
        f"(c) RequestSubmitted → AudienceScheduled via the service process at {rate:g}/s, "
        f"{len(samples)}/{count}: {summary(samples)}, max {max(samples):.1f} ms"
    )
    if len(samples) < count:
        print("    some requests were not scheduled within 30 s", file=sys.stderr)
    assert percentile(samples, 50) > 0


def run_service(servers_, base: Path) -> localstack.ManagedProcess:
    port = localstack.free_port()
    env = {
        "SERAMBI_NATS_URL": servers_.nats_url,
        "SERAMBI_MONGO_URL": servers_.mongo_url,
        "SERAMBI_ENVIRONMENT": "test",
        "SERAMBI_LOG_LEVEL": "WARNING",
        "SERAMBI_HTTP_PORT": str(port),
        "SERAMBI_HORIZON_WORKING_DAYS": str(HORIZON),
        "SERAMBI_SEED_RESOURCES": "false",
    }
    process = localstack.ManagedProcess(
        "scheduling", [sys.executable, "-m", "serambi_scheduling"], port, base / "scheduling.log", env=env
    )
    return process.start(ready_timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--existing", type=int, default=1000)
    parser.add_argument("--decisions", type=int, default=200)
    parser.add_argument("--latency", type=int, default=100)
    args = parser.parse_args()
    configure_logging("bench", "WARNING")
    print(f"scheduling benchmark on {os.cpu_count()} CPU(s)")
    with servers() as running, tempfile.TemporaryDirectory(prefix="serambi-bench-") as tmp:
        asyncio.run(in_process(running.nats_url, running.mongo_url, args.existing, args.decisions))
        if not args.latency:
            return
        service = run_service(running, Path(tmp))
        try:
            time.sleep(1.0)
            for rate, prefix in ((5.0, "SLOW"), (20.0, "FAST")):
                asyncio.run(latency({"SERAMBI_NATS_URL": running.nats_url}, args.latency, rate, prefix))
        finally:
            service.stop()


if __name__ == "__main__":
    main()
