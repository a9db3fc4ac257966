"""Complaints SLA benchmark: N open complaints with armed timers; breaches on time, once each.

    .venv/bin/python bench/complaints_bench.py [--count 100000] [--due 3000] [--window 120]

1. Starts nats-server, SecantusDB and the complaints service (``python -m serambi_complaints``,
   ``--replicas`` processes) on a calendar where every hour is working time.
2. Appends ``--count`` ComplaintReceived events straight to the COMPLAINTS stream: first the
   complaints due days later (tier normatif, received now), then ``--due`` complaints (tier
   ringan, 3 working hours) with receipts chosen so that their deadlines fall evenly over
   ``--window`` seconds once the service has armed their timers. The service projects them and
   arms two timers per complaint: a warning at 99 % (``SERAMBI_SLA_WARNINGS=99``, so that the
   warnings of the complaints due in the window fall ~108 s before their deadlines instead of
   all firing at set-up) and the deadline — the set-up phase, timed separately.
3. Waits for the deadlines and reads every SLABreached from the stream: latency = when the
   server stored the breach minus its deadline. Counts duplicates and missing breaches; no
   complaint of the others may breach.
4. Samples the service's resident memory (VmRSS) as the number of open clocks grows.

Exits 1 if a breach is missing or duplicated.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import nats
from pymongo import AsyncMongoClient
from serambi_calendar import WIB, package_days
from serambi_contracts import AggregateRef
from serambi_contracts.base import Sealed
from serambi_contracts.complaints import ComplaintChannel, ComplaintReceived, ComplaintTier, Disclosure
from serambi_contracts.sla import SLABreached
from serambi_kit.eventstore import JetStreamEventStore
from serambi_testing import localstack

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import percentile, rss_mb, servers  # noqa: E402

CLOCK = timedelta(hours=3)
SEALED = Sealed(key="kbench", nonce="AAAAAAAAAAAAAAAA", data="YmVuY2g")


def always_working(path: Path) -> Path:
    lines = ['version = "bench-always-working"', "", "[profiles.standard]"]
    lines += [f'{day} = ["00:00-24:00"]' for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]
    year = datetime.now(WIB).year
    for entry in (*package_days(year), *package_days(year + 1)):
        lines += ["", "[[day]]", 'action = "remove"', f"date = {entry.date}", 'decree = "benchmark"']
    path.write_text("\n".join(lines) + "\n")
    return path


def start_service(number: int, env: dict[str, str], logs: Path) -> localstack.ManagedProcess:
    port = localstack.free_port()
    process = localstack.ManagedProcess(
        f"complaints-{number}",
        [sys.executable, "-m", "serambi_complaints"],
        port,
        logs / f"complaints-{number}.log",
        env={**env, "SERAMBI_HTTP_PORT": str(port)},
    ).start(ready_timeout=60)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"complaints-{number} not ready")


async def append_complaints(nats_url: str, first: int, dues: list[datetime | None]) -> float:
    """Complaints numbered from ``first``: ringan ones due at the given instants, normatif ones
    received now (None: due days later)."""
    nc = await nats.connect(nats_url)
    store = JetStreamEventStore(nc, "/serambi/bench")
    started = time.perf_counter()
    semaphore = asyncio.Semaphore(256)
    now = datetime.now(UTC).replace(microsecond=0)

    async def one(number: int, due: datetime | None) -> None:
        code = f"ADU-BENCH-{number:07d}"
        tier = ComplaintTier.RINGAN if due else ComplaintTier.NORMATIF
        event = ComplaintReceived(
            tracking_code=code,
            channel=ComplaintChannel.TELEPHONE,
            received_at=due - CLOCK if due else now,
            disclosure=Disclosure.ANONYMOUS,
            summary=SEALED,
            description=SEALED,
            tier=tier,
            due_at=due,
            recorded_by="bench",
            access_token_sha256="0" * 64,
        )
        async with semaphore:
            await store.append(
                AggregateRef("complaints", "complaint", code),
                [event],
                expected_sequence=0,
                expected_version=0,
            )

    await asyncio.gather(*(one(first + number, due) for number, due in enumerate(dues)))
    await nc.drain()
    return time.perf_counter() - started


async def wait_armed(mongo_url: str, count: int, due: int, pids: list[int], started: float) -> list[tuple]:
    """Until every complaint has its timers armed (and ``due`` have a warning or breach
    reported); memory samples on the way."""
    client = AsyncMongoClient(mongo_url)
    database = client["serambi_complaints"]
    samples, last = [], (-1, -1)
    try:
        while True:
            armed = await database["clock_timers"].count_documents({"rank": {"$gte": 1}})
            warned = await database["complaints"].count_documents(
                {"$or": [{"warnings.0": {"$exists": True}}, {"breached": True}]}
            )
            if (armed, warned) != last:
                rss = [round(rss_mb(pid)) for pid in pids]
                samples.append((round(time.perf_counter() - started), armed, rss))
                print(
                    f"  set-up: {armed:>7}/{count} clocks armed, {warned:>6}/{due} past warnings "
                    f"reported, RSS {samples[-1][2]} MB",
                    flush=True,
                )
                last = (armed, warned)
            if armed >= count and warned >= due:
                return samples
            await asyncio.sleep(5)
    finally:
        await client.close()


async def wait_breached(mongo_url: str, count: int, until: datetime) -> None:
    client = AsyncMongoClient(mongo_url)
    complaints = client["serambi_complaints"]["complaints"]
    try:
        while datetime.now(UTC) < until:
            done = await complaints.count_documents({"breached": True})
            print(f"  breached: {done:>7}/{count}", flush=True)
            if done >= count:
                return
            await asyncio.sleep(10)
    finally:
        await client.close()


async def read_breaches(nats_url: str) -> dict[str, list[float]]:
    """Every SLABreached in the stream: per complaint, stored-at minus deadline (seconds)."""
    nc = await nats.connect(nats_url)
    latencies: dict[str, list[float]] = {}
    sub = await nc.jetstream().subscribe("complaints.complaint.*.SLABreached", ordered_consumer=True)
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=3)
            except nats.errors.TimeoutError:
                return latencies
            breach = SLABreached.model_validate_json(msg.data)
            stored = msg.metadata.timestamp
            latencies.setdefault(breach.case_id, []).append((stored - breach.due_at).total_seconds())
    finally:
        await sub.unsubscribe()
        await nc.drain()


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the servers are stopped
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=100_000, help="open complaints (default 100000)")
    parser.add_argument("--due", type=int, default=3000, help="of those, due within the window")
    parser.add_argument("--window", type=float, default=120, help="seconds the deadlines spread over")
    parser.add_argument(
        "--lead",
        type=float,
        default=None,
        help="seconds from the second set-up phase to the first deadline "
        "(default: twice what the first phase's arming rate needs, + 30)",
    )
    parser.add_argument("--replicas", type=int, default=1)
    args = parser.parse_args()
    due_count = min(args.due, args.count)
    lead = args.lead

    with servers() as infra, tempfile.TemporaryDirectory(prefix="serambi-bench-complaints-") as tmp:
        base = Path(tmp)
        env = {
            "SERAMBI_NATS_URL": infra.nats_url,
            "SERAMBI_MONGO_URL": infra.mongo_url,
            "SERAMBI_ENVIRONMENT": "test",
            "SERAMBI_LOG_LEVEL": "WARNING",
            "SERAMBI_CALENDAR_OVERRIDES": str(always_working(base / "always.toml")),
            "SERAMBI_SLA_SWEEP_SECONDS": "600",
            "SERAMBI_SLA_WARNINGS": "99",
        }
        processes = [start_service(number, env, base) for number in range(1, args.replicas + 1)]
        pids = [p.pid for p in processes]
        try:
            idle = [round(rss_mb(pid)) for pid in pids]
            later = args.count - due_count
            print(
                f"{args.count} open complaints: {later} due in days, then {due_count} due within "
                f"{args.window:.0f} s; {args.replicas} replica(s); idle RSS {idle} MB",
                flush=True,
            )
            started = time.perf_counter()
            append_seconds = asyncio.run(append_complaints(infra.nats_url, due_count, [None] * later))
            print(f"  appended {later} ComplaintReceived in {append_seconds:.1f} s", flush=True)
            samples = asyncio.run(wait_armed(infra.mongo_url, later, 0, pids, started))
            if lead is None:  # twice what the measured arming rate needs, and past the 99 % warning
                rate = later / max(time.perf_counter() - started, 1.0) if later else 40.0
                lead = max(2 * due_count / max(rate, 1.0) + 30, 150)
            start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=lead)
            step = args.window / max(due_count - 1, 1)
            dues = [(start + timedelta(seconds=i * step)).replace(microsecond=0) for i in range(due_count)]
            print(f"  {due_count} more due {start.isoformat()} + {args.window:.0f} s", flush=True)
            asyncio.run(append_complaints(infra.nats_url, 0, dues))
            samples += asyncio.run(wait_armed(infra.mongo_url, args.count, 0, pids, started))
            setup = time.perf_counter() - started
            armed_rss = [round(rss_mb(pid)) for pid in pids]
            early = sum(1 for due in dues if due <= datetime.now(UTC))
            asyncio.run(wait_breached(infra.mongo_url, due_count, dues[-1] + timedelta(seconds=120)))
            time.sleep(3)  # a late duplicate would show up here
            latencies = asyncio.run(read_breaches(infra.nats_url))
            final_rss = [round(rss_mb(pid)) for pid in pids]
        finally:
            for process in processes:
                process.stop()

    firsts = sorted(values[0] for values in latencies.values())
    duplicates = sum(len(values) - 1 for values in latencies.values())
    missing = due_count - len([code for code in latencies if int(code.rsplit("-", 1)[1]) < due_count])
    unexpected = len([code for code in latencies if int(code.rsplit("-", 1)[1]) >= due_count])
    result = {
        "open_complaints": args.count,
        "due_in_window": due_count,
        "replicas": args.replicas,
        "window_s": args.window,
        "breaches_per_s": round(due_count / args.window, 1),
        "setup_s": round(setup, 1),
        "setup_per_s": round(args.count / setup),
        "deadlines_before_setup_done": early,
        "breach_latency_s": {
            "p50": round(percentile(firsts, 50), 3),
            "p99": round(percentile(firsts, 99), 3),
            "max": round(max(firsts), 3),
            "min": round(min(firsts), 3),
        }
        if firsts
        else None,
        "duplicates": duplicates,
        "missing": missing,
        "unexpected": unexpected,
        "rss_mb": {
            "idle": idle,
            "armed": armed_rss,
            "after": final_rss,
            "during_setup": [
                f"{t} s: {armed} clocks armed, {rss} MB"
                for t, armed, rss in samples[:: max(1, len(samples) // 12)]
            ],
        },
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))
    on_time = [x for x in firsts if x <= 1.0]
    print(
        f"breaches {len(firsts)}/{due_count}, within 1 s: {len(on_time)} "
        f"({100 * len(on_time) / max(len(firsts), 1):.2f} %), duplicates {duplicates}, missing {missing}, "
        f"unexpected {unexpected}"
    )
    return 0 if duplicates == missing == unexpected == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
