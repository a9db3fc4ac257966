"""The whole stack under load through its public APIs, next to its floor and a peer (issue #9).

The stack (``serambi_testing.stack``): nats-server, SecantusDB, the SMTP and SMS sinks, and intake,
scheduling, complaints and notifier, each its own OS process on loopback, logging at WARNING.

1. **Fixed rate** (open loop): ``--rate`` audience requests per second and a quarter as many
   complaints for ``--seconds``. Each case's latency runs from the moment it was due to be sent
   (a stalled service cannot hide its queue), to:
   - request: *submitted* (the 201), *scheduled* (scheduling's decision on the bus — booked,
     proposed, referred or declined —, by its ``ce-time``), *notified* (the NotificationSent
     caused by that decision, by its ``sent_at``);
   - complaint: *received* (the 201) and *acknowledged* (the NotificationSent caused by its
     ComplaintReceived).
2. **Saturation** (closed loop): ``--clients`` clients submit requests back to back for
   ``--seconds``; then the run waits until each is decided and notified. *Sustained* is the
   number of requests submitted and scheduled inside the window divided by the window: a
   backlog that grows does not count.
3. In each phase, CPU (% of one core) and peak RSS of every process, and the stack's total.
4. Baselines from the same run on the same machine, ``--clients`` concurrent writers each,
   on the stack's own servers before and after the load: raw JetStream publishes (one event
   with CloudEvents headers and a msg id) and raw MongoDB-wire ``insert_one`` — the physical
   floor of this stack; with the server operations one case costs (MongoDB-wire opcounters,
   JetStream messages stored), they bound what the stack can reach. Then the peer: the
   ``eventsourcing`` library on SQLite doing the same submit-and-schedule commands
   (``peer_eventsourcing.py``).

With ``--replicas N`` every service runs as N processes against the same NATS and database (the
clients spread their calls over the intake and complaints replicas), and the run also checks
what replicas must never cause: double bookings (two live audiences in one room or with one host
at overlapping times) and duplicate notifications (an e-mail resent under the same Message-ID,
an SMS under the same client message id, two NotificationSent events for one delivery).

Requests carry two small documents (a PDF letter and a PNG identity document) unless
``--no-documents``. Every request must end decided and notified, every complaint acknowledged;
otherwise the run fails (exit 1), since a fast lossy run measures nothing.

Run: .venv/bin/python bench/load_bench.py [--rate 20] [--seconds 30] [--clients 16] [--replicas 2]
     [--env SERAMBI_NOTIFY_WORKERS=1 ...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import nats
from pymongo import AsyncMongoClient

sys.path.insert(0, str(Path(__file__).parent))
import peer_eventsourcing  # noqa: E402
from common import cpu_seconds, percentile, rss_mb  # noqa: E402
from eventstore_bench import warning  # noqa: E402
from serambi_contracts import AggregateRef, encode_headers  # noqa: E402
from serambi_kit.eventstore.model import encode_event, make_envelopes  # noqa: E402
from serambi_ops.commands.demo import SAMPLE_DOCUMENTS, request_form  # noqa: E402
from serambi_testing.stack import LocalStack, local_stack, sample_complaint, sample_request  # noqa: E402

SERVICES = ("intake", "scheduling", "complaints", "notifier")
DECISIONS = {"AudienceScheduled", "AudienceProposed", "AudienceReferred", "AudienceDeclined"}
GENERATOR = "load generator + sinks"  # this process: the clients, the SMTP and SMS sinks
QUIET = {"SERAMBI_LOG_LEVEL": "WARNING", "SERAMBI_DELIVERY_LEASE_SECONDS": "30"}


# -- cases and what the bus says about them ---------------------------------------------------


@dataclass
class Case:
    kind: str  # "request" | "complaint"
    number: int
    due: float  # wall-clock time (epoch seconds) it was due to be sent
    code: str | None = None
    answered: float | None = None  # the 201
    error: str | None = None


@dataclass
class Bus:
    """Decisions and notifications seen on the bus, by tracking code (times from the events)."""

    decided: dict[str, float] = field(default_factory=dict)
    decided_seen: dict[str, float] = field(default_factory=dict)  # when the bench saw them
    notified: dict[tuple[str, str], float] = field(default_factory=dict)  # (code, cause type)

    async def watch(self, nc: Any) -> None:
        async def on_decision(msg: Any) -> None:
            kind = msg.subject.rsplit(".", 1)[-1]
            if kind in DECISIONS:
                code = json.loads(msg.data)["request_tracking_code"]
                self.decided.setdefault(code, _epoch(msg.headers["ce-time"]))
                self.decided_seen.setdefault(code, time.time())

        async def on_notice(msg: Any) -> None:
            if msg.subject.endswith(".NotificationSent"):
                body = json.loads(msg.data)
                cause = body["cause_type"].rsplit(".", 2)[-2]  # <prefix>.<EventName>.v<N>
                self.notified.setdefault((body["case_id"], cause), _epoch(body["sent_at"]))

        await nc.subscribe("scheduling.audience.*.*", cb=on_decision)
        await nc.subscribe("notifier.delivery.*.*", cb=on_notice)

    def request_notified(self, code: str) -> float | None:
        times = [self.notified.get((code, kind)) for kind in DECISIONS]
        return min((t for t in times if t is not None), default=None)


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


class Client:
    """Public-API calls; a failed call is recorded on its case, never retried (a load test
    that retries hides its errors)."""

    def __init__(self, stack: LocalStack, connections: int, documents: bool) -> None:
        self.stack = stack
        self.documents = documents
        self.http = httpx.AsyncClient(timeout=30.0, limits=httpx.Limits(max_connections=connections))

    def url(self, service: str, case: Case) -> str:
        """One of the service's replicas, in turn by case number."""
        replicas = sorted(name for name in self.stack.services if name.split("-")[0] == service)
        return self.stack.url(replicas[case.number % len(replicas)])

    async def send(self, case: Case) -> None:
        try:
            if case.kind == "request":
                response = await self.http.post(
                    f"{self.url('intake', case)}/api/v1/requests",
                    data=request_form(sample_request(f"L{case.number}")),
                    files=dict(SAMPLE_DOCUMENTS) if self.documents else None,
                )
            else:
                response = await self.http.post(
                    f"{self.url('complaints', case)}/api/v1/complaints",
                    json=sample_complaint(f"L{case.number}"),
                )
        except httpx.HTTPError as exc:
            case.error = f"{type(exc).__name__}: {exc}"
            return
        if response.status_code != 201:
            case.error = f"{response.status_code} {response.text[:200]}"
            return
        case.answered, case.code = time.time(), response.json()["tracking_code"]

    async def close(self) -> None:
        await self.http.aclose()


# -- per-process CPU and memory ----------------------------------------------------------------


class Meter:
    """CPU time used between start and stop, and peak RSS sampled every 0.25 s, per process."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.peak = dict.fromkeys(pids, 0.0)
        self.stop_sampling = threading.Event()
        self.cpu: dict[str, float] = {}

    def __enter__(self) -> Meter:
        self.started = time.perf_counter()
        self.cpu_start = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self) -> None:
        while True:
            total = 0.0
            for name, pid in self.pids.items():
                rss = rss_mb(pid)
                self.peak[name] = max(self.peak[name], rss)
                total += rss if name != GENERATOR else 0.0
            self.peak["stack"] = max(self.peak.get("stack", 0.0), total)
            if self.stop_sampling.wait(0.25):
                return

    def __exit__(self, *_: object) -> None:
        self.seconds = time.perf_counter() - self.started
        self.stop_sampling.set()
        self.thread.join()
        self.cpu = {
            name: 100 * (cpu_seconds(pid) - self.cpu_start[name]) / self.seconds
            for name, pid in self.pids.items()
        }

    def cpu_ms_per_case(self, name: str, cases: int) -> float:
        return self.cpu[name] / 100 * self.seconds / cases * 1000

    def lines(self) -> list[str]:
        out = [
            f"    {name:<22} CPU {self.cpu[name]:5.0f}%   peak RSS {self.peak[name]:6.0f} MB"
            for name in self.pids
        ]
        cpu = sum(v for k, v in self.cpu.items() if k != GENERATOR)
        out.append(
            f"    {'the stack (all but the generator)':<22} CPU {cpu:5.0f}%   peak RSS "
            f"{self.peak['stack']:6.0f} MB (goal ≤ 700 MB)"
        )
        return out


def stack_pids(stack: LocalStack) -> dict[str, int]:
    pids = {name: process.pid for name, process in stack.services.items()}
    return pids | {"nats-server": stack.nats.pid, "secantusdb": stack.mongo.pid, GENERATOR: os.getpid()}


# -- what one case costs the servers ----------------------------------------------------------


@dataclass
class Work:
    """Server-side operations so far: MongoDB-wire opcounters and JetStream messages stored."""

    mongo: dict[str, int]
    messages: int

    @classmethod
    async def now(cls, mongo: AsyncMongoClient, js: Any) -> Work:
        status = await mongo.admin.command("serverStatus")
        counters = {k: int(v) for k, v in status["opcounters"].items()}
        messages = sum(stream.state.messages for stream in await js.streams_info())
        return cls(counters, messages)

    def per_case(self, before: Work, cases: int, meter: Meter) -> str:
        ops = {k: (v - before.mongo.get(k, 0)) / cases for k, v in self.mongo.items()}
        detail = ", ".join(f"{k} {v:.1f}" for k, v in ops.items() if v >= 0.05)
        return (
            f"    per case: {sum(ops.values()):.1f} MongoDB-wire operations ({detail}) costing "
            f"{meter.cpu_ms_per_case('secantusdb', cases):.0f} ms of SecantusDB CPU; "
            f"{(self.messages - before.messages) / cases:.1f} JetStream messages stored "
            f"(events, bus mirrors, timers)"
        )


# -- the phases ---------------------------------------------------------------------------------


async def settle(cases: list[Case], bus: Bus, timeout: float) -> float:
    """Wait until every answered case is decided/acknowledged and notified; returns when."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(_complete(case, bus) for case in cases if case.code):
            break
        await asyncio.sleep(0.2)
    return time.time()


def _complete(case: Case, bus: Bus) -> bool:
    if case.kind == "request":
        return case.code in bus.decided and bus.request_notified(case.code) is not None
    return (case.code, "ComplaintReceived") in bus.notified


async def fixed_rate(client: Client, rate: float, seconds: float, first: int) -> list[Case]:
    cases: list[Case] = []
    tasks: list[asyncio.Task] = []
    start = time.time() + 0.5
    requests = int(rate * seconds)
    for i in range(requests):
        cases.append(Case("request", first + i, start + i / rate))
        if i % 4 == 3:  # a complaint for every four requests
            cases.append(Case("complaint", first + i, start + (i + 0.5) / rate))
    for case in cases:
        await asyncio.sleep(max(0.0, case.due - time.time()))
        tasks.append(asyncio.create_task(client.send(case)))
    await asyncio.gather(*tasks)
    return cases


async def saturation(
    client: Client, clients: int, seconds: float, first: int
) -> tuple[list[Case], float, float]:
    cases: list[Case] = []
    start = time.time()
    end = start + seconds

    async def worker() -> None:
        while time.time() < end:
            case = Case("request", first + len(cases), time.time())
            cases.append(case)
            await client.send(case)

    await asyncio.gather(*(worker() for _ in range(clients)))
    return cases, start, end


def latencies(cases: list[Case], bus: Bus) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {
        "submitted": [],
        "scheduled": [],
        "notified": [],
        "received": [],
        "acknowledged": [],
    }
    for case in cases:
        if not case.code:
            continue
        if case.kind == "request":
            found["submitted"].append(case.answered - case.due)
            if case.code in bus.decided:
                found["scheduled"].append(bus.decided[case.code] - case.due)
            notified = bus.request_notified(case.code)
            if notified is not None:
                found["notified"].append(notified - case.due)
        else:
            found["received"].append(case.answered - case.due)
            acknowledged = bus.notified.get((case.code, "ComplaintReceived"))
            if acknowledged is not None:
                found["acknowledged"].append(acknowledged - case.due)
    return found


def problems(cases: list[Case], bus: Bus) -> list[str]:
    out = [f"{c.kind} {c.number}: {c.error}" for c in cases if c.error]
    out += [
        f"{c.kind} {c.code}: not decided/acknowledged and notified"
        for c in cases
        if c.code and not _complete(c, bus)
    ]
    return out


def print_latencies(found: dict[str, list[float]]) -> None:
    for stage, samples in found.items():
        if samples:
            ms = [1000 * s for s in samples]
            print(
                f"    {stage:<13} n={len(ms):5d}   p50 {percentile(ms, 50):7.0f} ms   "
                f"p99 {percentile(ms, 99):7.0f} ms   max {max(ms):7.0f} ms"
            )


# -- baselines -----------------------------------------------------------------------------------


async def concurrently(workers: int, count: int, one: Callable[[int], Awaitable[Any]]) -> float:
    """Rate of ``count`` calls of ``one`` by ``workers`` concurrent callers."""
    numbers = iter(range(count))

    async def worker() -> None:
        for number in numbers:
            await one(number)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return count / (time.perf_counter() - started)


async def raw_jetstream(nats_url: str, workers: int, count: int) -> float:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    body = encode_event(warning("raw", 50))

    async def publish(number: int) -> None:
        ref = AggregateRef("complaints", "raw", f"r{number}")
        [envelope] = make_envelopes("/bench", ref, [warning(ref.id, 50)], expected_version=0, event_ids=None)
        await js.publish(
            ref.subject("SLAWarning"), body, headers={**encode_headers(envelope), "Nats-Msg-Id": envelope.id}
        )

    try:
        return await concurrently(workers, count, publish)
    finally:
        await nc.drain()


async def raw_mongo(mongo_url: str, workers: int, count: int, retry_writes: bool = False) -> float:
    client: AsyncMongoClient = AsyncMongoClient(mongo_url, retryWrites=retry_writes)
    collection = client["bench_raw"]["writes"]
    document = {
        "topic": "Uji beban",
        "purpose": "Audiensi program hilirisasi komoditas daerah.",
        "status": "submitted",
        "participants": 3,
        "timeline": [{"event": "submitted"}],
    }

    async def insert(number: int) -> None:
        await collection.insert_one({**document})

    try:
        return await concurrently(workers, count, insert)
    finally:
        await client.close()


# -- the run ----------------------------------------------------------------------------------------


async def run(args: argparse.Namespace, stack: LocalStack) -> bool:
    nc = await nats.connect(stack.env["SERAMBI_NATS_URL"])
    bus = Bus()
    await bus.watch(nc)
    client = Client(stack, args.clients * 2, not args.no_documents)
    mongo: AsyncMongoClient = AsyncMongoClient(stack.env["SERAMBI_MONGO_URL"])
    pids = stack_pids(stack)
    ok = True
    try:
        warm = [Case("request", 900_000 + i, time.time()) for i in range(20)]
        warm += [Case("complaint", 900_000 + i, time.time()) for i in range(5)]
        await asyncio.gather(*(client.send(case) for case in warm))
        await settle(warm, bus, 60)

        print(
            f"\n1. fixed rate: {args.rate:g} requests/s (+ {args.rate / 4:g} complaints/s) for "
            f"{args.seconds:g} s, open loop"
        )
        before = await Work.now(mongo, nc.jetstream())
        with Meter(pids) as meter:
            cases = await fixed_rate(client, args.rate, args.seconds, 0)
            await settle(cases, bus, 180)
        print_latencies(latencies(cases, bus))
        print("\n".join(meter.lines()))
        print((await Work.now(mongo, nc.jetstream())).per_case(before, len(cases), meter))
        trouble = problems(cases, bus)

        print(
            f"\n2. saturation: {args.clients} clients submitting requests back to back for {args.seconds:g} s"
        )
        before = await Work.now(mongo, nc.jetstream())
        with Meter(pids) as meter:
            burst, start, end = await saturation(client, args.clients, args.seconds, 100_000)
            settled = await settle(burst, bus, 300)
        work = (await Work.now(mongo, nc.jetstream())).per_case(before, len(burst), meter)
        answered = [c for c in burst if c.code and c.answered <= end]
        in_window = [c for c in answered if bus.decided_seen.get(c.code, float("inf")) <= end]
        window = end - start
        print(f"    submitted        {len(answered) / window:7.1f}/s   ({len(answered)} in {window:.0f} s)")
        print(
            f"    submitted and scheduled within the window (sustained) "
            f"{len(in_window) / window:7.1f}/s   (goal ≥ 30/s)"
        )
        print(
            f"    backlog at the end of the window: {len(answered) - len(in_window)} requests, "
            f"all decided and notified {settled - end:.1f} s later"
        )
        print_latencies({k: v for k, v in latencies(burst, bus).items() if v})
        print("\n".join(meter.lines()))
        print(work)
        trouble += problems(burst, bus)
        if args.replicas > 1:
            trouble += await replica_problems(stack, mongo, nc.jetstream())
        if trouble:
            ok = False
            print(f"\n{len(trouble)} cases went wrong; first ones:")
            for line in trouble[:10]:
                print(f"    {line}")
    finally:
        await client.close()
        await mongo.close()
        await nc.drain()
    return ok


async def replica_problems(stack: LocalStack, mongo: AsyncMongoClient, js: Any) -> list[str]:
    """What replicas must never cause, read once every case has settled."""
    live = mongo["serambi_scheduling"]["audiences"].find(
        {"status": {"$in": ["proposed", "scheduled"]}, "schedule": {"$ne": None}},
        {"schedule": 1, "tracking_code": 1},
    )
    slots = [document["schedule"] async for document in live]
    doubles = [
        f"double booking: {a[key]} at {a['starts_at']}–{a['ends_at']} and {b['starts_at']}–{b['ends_at']}"
        for i, a in enumerate(slots)
        for b in slots[i + 1 :]
        for key in ("room_id", "host_id")
        if a.get(key)
        and a.get(key) == b.get(key)
        and a["starts_at"] < b["ends_at"]
        and b["starts_at"] < a["ends_at"]
    ]
    info = await js.stream_info("NOTIFIER", subjects_filter="notifier.delivery.*.NotificationSent")
    sent = info.state.subjects or {}  # messages stored per subject: one subject per delivery
    sms = [json.loads(line) for line in (stack.base / "sms" / "sms.jsonl").read_text().splitlines() if line]
    repeated = {
        "e-mails resent under one Message-ID": stack.sink_duplicates(),
        "SMS sent again under one client message id": sum(1 for record in sms if record.get("duplicate")),
        "deliveries with more than one NotificationSent stored": sum(1 for n in sent.values() if n > 1),
    }
    print(
        f"    replicas: {len(slots)} live bookings, {len(doubles)} double bookings; "
        + "; ".join(f"{count} {what}" for what, count in repeated.items())
    )
    return doubles + [f"{count} {what}" for what, count in repeated.items() if count]


async def baselines(args: argparse.Namespace, stack: LocalStack, when: str) -> None:
    count = args.baseline_events
    print(
        f"\n{when}: baselines on the stack's own servers, {args.clients} concurrent writers, "
        f"{count} writes each:"
    )
    rate = await raw_jetstream(stack.env["SERAMBI_NATS_URL"], args.clients, count)
    print(f"    raw JetStream publish (event + CloudEvents headers + msg id)   {rate:8.0f}/s")
    rate = await raw_mongo(stack.env["SERAMBI_MONGO_URL"], args.clients, count)
    print(f"    raw MongoDB-wire insert_one (SecantusDB, as the stack writes)   {rate:8.0f}/s")
    rate = await raw_mongo(stack.env["SERAMBI_MONGO_URL"], args.clients, count, retry_writes=True)
    print(f"    the same with retryable writes (the driver's default)           {rate:8.0f}/s")


def peer(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="serambi-peer-") as directory:
        result = peer_eventsourcing.submit_and_schedule(args.peer_requests, Path(directory))
    print(
        f"    peer: eventsourcing on SQLite, submit + schedule, one thread    {result.rate:8.0f}/s   "
        f"(submit p99 {percentile(result.submit_ms, 99):.2f} ms, "
        f"schedule p99 {percentile(result.schedule_ms, 99):.2f} ms)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=20.0, help="requests/s in the fixed-rate phase")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each phase")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients at saturation")
    parser.add_argument("--no-documents", action="store_true", help="requests without their two documents")
    parser.add_argument("--baseline-events", type=int, default=3000)
    parser.add_argument("--peer-requests", type=int, default=2000)
    parser.add_argument(
        "--replicas", type=int, default=1, help="processes of each service (same NATS and database)"
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for every service (e.g. SERAMBI_NOTIFY_WORKERS=1), to compare in one session",
    )
    args = parser.parse_args()
    settings = {**QUIET, **dict(pair.split("=", 1) for pair in args.env)}
    services = (*SERVICES, *(f"{s}-{n}" for n in range(2, args.replicas + 1) for s in SERVICES))
    with tempfile.TemporaryDirectory(prefix="serambi-load-") as tmp:
        started = time.monotonic()
        with local_stack(Path(tmp), services, settings) as stack:
            print(
                f"stack ready in {time.monotonic() - started:.1f} s "
                f"({', '.join(services)}, nats-server, SecantusDB, sinks)"
            )
            asyncio.run(baselines(args, stack, "before the load"))
            ok = asyncio.run(run(args, stack))
            asyncio.run(baselines(args, stack, "\n3. after the load (same servers, now holding its data)"))
    print("\n4. the peer, after the stack has stopped:")
    peer(args)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
