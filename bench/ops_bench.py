"""MongoDB operations per case, counted by the server (issue #21, goal 1).

The whole stack as OS processes (``serambi_testing.stack``, as ``load_bench.py``). After a warm-up
(indexes created, first connections, the first data keys), two phases, one after the other, each
settled before the next:

1. ``--requests`` audience requests (with their two documents), from submission to the
   invitation sent (the NotificationSent caused by scheduling's decision);
2. ``--complaints`` complaints, from receipt to the acknowledgement sent.

Each phase reads SecantusDB's ``serverStatus`` opcounters (insert, query, update, delete,
getmore, command — the server's own count of every operation it ran, whoever sent it) and its
``top`` (the same operations by namespace, so by service: each service has its database,
``serambi_<service>``; the vault's data keys live in the database of the service that wrote them) before and
after, and divides by the cases. The stack works in the background too (the notifier's dispatch
poll, lease renewals, scheduling's timers): the same counters over ``--idle`` seconds with no
case give that rate, and the figures are printed net of it, beside the raw ones.

Run: .venv/bin/python bench/ops_bench.py [--requests 60] [--complaints 40]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import nats
from pymongo import AsyncMongoClient

sys.path.insert(0, str(Path(__file__).parent))
from common import cpu_seconds  # noqa: E402
from load_bench import QUIET, SERVICES, Bus, Case, Client, settle  # noqa: E402
from serambi_testing.stack import LocalStack, local_stack  # noqa: E402

GOALS = {"request": 12, "complaint": 8}
#: The bench's own reads (serverStatus, top) are commands without a namespace: not counted.
OWN = ("command",)


@dataclass
class Counts:
    at: float
    ops: Counter  # opcounter bucket -> count
    by_ns: Counter  # namespace -> count
    writes: Counter  # namespace -> the writes among them (top's writeLock: insert, update, …)
    cpu: float  # SecantusDB's CPU seconds (user + system) so far

    @classmethod
    async def now(cls, mongo: AsyncMongoClient, server_pid: int) -> Counts:
        status = await mongo.admin.command("serverStatus")
        top = (await mongo.admin.command("top"))["totals"]
        by_ns = Counter(
            {ns: v["total"]["count"] for ns, v in top.items() if ns != "note" and v["total"]["count"]}
        )
        writes = Counter({ns: top[ns]["writeLock"]["count"] for ns in by_ns})
        counters = Counter({k: int(v) for k, v in status["opcounters"].items()})
        return cls(time.monotonic(), counters, by_ns, writes, cpu_seconds(server_pid))

    def __sub__(self, other: Counts) -> Counts:
        ops, by_ns, writes = Counter(self.ops), Counter(self.by_ns), Counter(self.writes)
        ops.subtract(other.ops)
        by_ns.subtract(other.by_ns)
        writes.subtract(other.writes)
        return Counts(self.at - other.at, ops, by_ns, writes, self.cpu - other.cpu)

    def scaled(self, factor: float) -> dict[str, dict[str, float]]:
        return {
            "ops": {k: v * factor for k, v in self.ops.items()},
            "by_ns": {k: v * factor for k, v in self.by_ns.items()},
            "writes": {k: v * factor for k, v in self.writes.items()},
        }


def _service(namespace: str) -> str:
    db = namespace.split(".", 1)[0]
    return db.removeprefix("serambi_")


def report(kind: str, cases: int, delta: Counts, idle: Counts) -> float:
    """Print one phase's operations per case; returns the net total per case."""
    rate = 1 / idle.at if idle.at else 0.0
    background = idle.scaled(rate * delta.at)  # what the idle stack would have done meanwhile
    total_raw = sum(v for k, v in delta.ops.items() if k not in OWN)
    commands = delta.ops.get("command", 0)
    net_ns = {ns: delta.by_ns.get(ns, 0) - background["by_ns"].get(ns, 0.0) for ns in delta.by_ns}
    net_w = {ns: delta.writes.get(ns, 0) - background["writes"].get(ns, 0.0) for ns in delta.by_ns}
    net = sum(net_ns.values()) / cases
    what = "audience request" if kind == "request" else "complaint"
    print(
        f"\n  per {what}: {net:.1f} MongoDB operations (goal ≤ {GOALS[kind]}) "
        f"{'✓' if net <= GOALS[kind] else '✗'}   [{cases} cases in {delta.at:.1f} s]"
    )
    buckets = ", ".join(f"{k} {v / cases:.1f}" for k, v in delta.ops.items() if k not in OWN and v)
    print(
        f"    opcounters, raw: {total_raw / cases:.1f} per case ({buckets}); plus {commands / cases:.1f} "
        f"other commands (hello, ping, the bench's own serverStatus/top, index checks)"
    )
    writes = sum(net_w.values()) / cases
    print(f"    of which writes {writes:.1f}, reads {net - writes:.1f} (by service: total (writes))")
    print(
        f"    namespaced operations (top), raw {sum(delta.by_ns.values()) / cases:.1f}, background "
        f"{sum(background['by_ns'].values()) / cases:.1f}, net {net:.1f} per case"
    )
    cpu = (delta.cpu - idle.cpu * rate * delta.at) / cases
    total_ns = sum(delta.by_ns.values()) / cases
    print(
        f"    SecantusDB CPU: {1000 * cpu:.1f} ms per case net of the idle stack, "
        f"{1000 * delta.cpu / cases / max(total_ns, 1e-9):.2f} ms per namespaced operation (raw)"
    )
    per_service: Counter = Counter()
    for ns, v in net_ns.items():
        per_service[_service(ns)] += v
    for service, v in sorted(per_service.items(), key=lambda kv: -kv[1]):
        if abs(v / cases) < 0.05:
            continue
        detail = ", ".join(
            f"{ns.split('.', 1)[1]} {n / cases:.1f} ({net_w[ns] / cases:.1f} w)"
            for ns, n in sorted(net_ns.items(), key=lambda kv: -kv[1])
            if _service(ns) == service and abs(n / cases) >= 0.05
        )
        w = sum(n for ns, n in net_w.items() if _service(ns) == service)
        print(f"      {service:<12} {v / cases:5.1f} ({w / cases:.1f} w)   {detail}")
    return net


async def phase(
    client: Client,
    bus: Bus,
    mongo: AsyncMongoClient,
    server_pid: int,
    kind: str,
    count: int,
    first: int,
    at_once: int,
) -> tuple[list[Case], Counts]:
    before = await Counts.now(mongo, server_pid)
    cases = [Case(kind, first + i, time.time()) for i in range(count)]
    queue = list(cases)

    async def worker() -> None:  # a few at a time: the count, not the rate, is measured
        while queue:
            await client.send(queue.pop())
            if at_once == 1:  # one case alone on the stack: decided, notified, written
                await settle(cases, bus, 120)
                await asyncio.sleep(0.2)

    await asyncio.gather(*(worker() for _ in range(at_once)))
    await settle(cases, bus, 120)
    await asyncio.sleep(1.0)  # the published marks and projections of the last case
    return cases, (await Counts.now(mongo, server_pid)) - before


async def run(args: argparse.Namespace, stack: LocalStack) -> bool:
    nc = await nats.connect(stack.env["SERAMBI_NATS_URL"])
    bus = Bus()
    await bus.watch(nc)
    client = Client(stack, 8, True)
    mongo: AsyncMongoClient = AsyncMongoClient(stack.env["SERAMBI_MONGO_URL"])
    try:
        warm = [Case("request", 900_000 + i, time.time()) for i in range(10)]
        warm += [Case("complaint", 900_000 + i, time.time()) for i in range(5)]
        await asyncio.gather(*(client.send(case) for case in warm))
        await settle(warm, bus, 60)
        await asyncio.sleep(2.0)
        server_pid = stack.mongo.pid
        before = await Counts.now(mongo, server_pid)
        await asyncio.sleep(args.idle)
        idle = (await Counts.now(mongo, server_pid)) - before
        print(
            f"idle stack: {sum(idle.by_ns.values()) / idle.at:.1f} namespaced operations/s "
            f"over {idle.at:.1f} s (dispatch polls, lease renewals, timers)"
        )
        ok = True
        for kind, count, first in (("request", args.requests, 0), ("complaint", args.complaints, 10_000)):
            cases, delta = await phase(client, bus, mongo, server_pid, kind, count, first, args.at_once)
            failed = [c for c in cases if c.error or not c.code]
            if failed:
                ok = False
                print(f"  {len(failed)} {kind}s failed, e.g. {failed[0].error}")
            report(kind, len(cases) - len(failed), delta, idle)
        return ok
    finally:
        await client.close()
        await mongo.close()
        await nc.drain()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--complaints", type=int, default=40)
    parser.add_argument("--idle", type=float, default=5.0, help="seconds of an idle stack measured")
    parser.add_argument(
        "--at-once",
        type=int,
        default=4,
        help="cases submitted at a time (1: each decided and notified before the next)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="serambi-ops-") as tmp:
        started = time.monotonic()
        with local_stack(Path(tmp), SERVICES, QUIET) as stack:
            print(f"stack ready in {time.monotonic() - started:.1f} s ({', '.join(SERVICES)})")
            ok = asyncio.run(run(args, stack))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
