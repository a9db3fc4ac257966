"""Event store and projection kit against raw JetStream and raw MongoDB writes (issue #2).

(a) append with a known expected sequence  vs  raw synchronous JetStream publish   goal ≥ 0.8
(b) full command: load, decide, append     vs  raw synchronous JetStream publish   goal ≥ 0.4
(c) projection events/s into a read model  vs  raw bulk writes of the same docs    goal ≥ 0.7

Run: .venv/bin/python bench/eventstore_bench.py [--events N]
Each figure is measured in the same run on the same servers; the ratio is what is compared.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import nats
from pymongo import UpdateOne

sys.path.insert(0, str(Path(__file__).parent))
from common import Stopwatch, report, servers  # noqa: E402
from serambi_contracts import AggregateRef, encode_headers  # noqa: E402
from serambi_contracts.sla import SLAWarning  # noqa: E402
from serambi_kit.eventstore import JetStreamEventStore, execute  # noqa: E402
from serambi_kit.eventstore.model import encode_event, make_envelopes  # noqa: E402
from serambi_kit.logging import configure_logging  # noqa: E402
from serambi_kit.mongo import connect, database  # noqa: E402
from serambi_kit.projections import Change, Projection  # noqa: E402
from serambi_kit.runtime import Runtime  # noqa: E402
from serambi_kit.settings import ServiceSettings  # noqa: E402
from serambi_kit.topology import ConsumerSpec, apply_streams  # noqa: E402

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
AGGREGATES = 100


def warning(case: str, percent: int) -> SLAWarning:
    return SLAWarning(
        case_id=case, clock="ringan", threshold_percent=percent, started_at=NOW, due_at=NOW, warned_at=NOW
    )


async def raw_publish_rate(js, count: int) -> float:
    """Synchronous publishes of a same-sized event with CloudEvents headers and a msg id."""
    ref = AggregateRef("complaints", "raw", "r")
    body = encode_event(warning("r", 50))
    clock = Stopwatch()
    for number in range(count):
        [envelope] = make_envelopes(
            "/bench", ref, [warning("r", 50)], expected_version=number, event_ids=None
        )
        headers = {**encode_headers(envelope), "Nats-Msg-Id": envelope.id}
        await js.publish(ref.subject("SLAWarning"), body, headers=headers)
    return count / clock.seconds


async def append_rate(store: JetStreamEventStore, count: int) -> float:
    """Appends with a known expected sequence (the caller tracks it, as after a load)."""
    refs = [AggregateRef("complaints", "append", f"a{i}") for i in range(AGGREGATES)]
    last = dict.fromkeys(refs, 0)
    versions = dict.fromkeys(refs, 0)
    clock = Stopwatch()
    for number in range(count):
        ref = refs[number % AGGREGATES]
        appended = await store.append(
            ref, [warning(ref.id, 50)], expected_sequence=last[ref], expected_version=versions[ref]
        )
        last[ref] = appended.sequences[-1]
        versions[ref] += 1
    return count / clock.seconds


async def command_rate(store: JetStreamEventStore, count: int) -> float:
    refs = [AggregateRef("complaints", "command", f"c{i}") for i in range(AGGREGATES)]
    clock = Stopwatch()
    for number in range(count):
        ref = refs[number % AGGREGATES]
        await execute(store, ref, lambda history, r=ref: [warning(r.id, len(history) % 98 + 1)])
    return count / clock.seconds


class BenchSettings(ServiceSettings):
    service: ClassVar[str] = "bench"


def on_warning(event: SLAWarning, recorded) -> Change:
    return Change(event.case_id, {"$set": {"last": event.threshold_percent}, "$inc": {"count": 1}})


async def projection_rate(urls, count: int) -> tuple[float, float]:
    """(projection events/s through the durable consumer, raw bulk-write docs/s)."""
    kind = "p" + uuid.uuid4().hex[:8]
    projection = Projection("bench_cases", (f"complaints.{kind}",), {SLAWarning: on_warning})
    settings = BenchSettings(
        nats_url=urls.nats_url,
        mongo_url=urls.mongo_url,
        mongo_database="bench_projection",
        environment="test",
    )
    nc = await nats.connect(urls.nats_url)
    store = JetStreamEventStore(nc, "/bench")
    for number in range(count):
        ref = AggregateRef("complaints", kind, f"d{number % AGGREGATES}")
        await store.append(
            ref,
            [warning(ref.id, 50)],
            expected_sequence=0 if number < AGGREGATES else (await store.load(ref)).last_sequence,
            expected_version=number // AGGREGATES,
        )
    runtime = Runtime(settings)
    runtime.project(ConsumerSpec("bench", "cases", "complaints", (f"complaints.{kind}.>",)), projection)
    clock = Stopwatch()
    await runtime.start()
    collection = runtime.db["bench_cases"]
    while await collection.count_documents({"count": count // AGGREGATES}) < AGGREGATES:  # noqa: ASYNC110 — polls the database
        await asyncio.sleep(0.01)
    projected = count / clock.seconds
    await runtime.stop()

    mongo = connect(urls.mongo_url)
    raw = database(mongo, "bench_raw")["docs"]
    operations = [  # the same documents and update operators, without positions or consumers
        UpdateOne({"_id": f"d{n % AGGREGATES}"}, {"$set": {"last": 50}, "$inc": {"count": 1}}, upsert=True)
        for n in range(count)
    ]
    clock = Stopwatch()
    for start in range(0, count, 256):
        await raw.bulk_write(operations[start : start + 256], ordered=True)
    raw_rate = count / clock.seconds
    await mongo.close()
    await nc.drain()
    return projected, raw_rate


async def main(events: int) -> int:
    configure_logging("bench", "WARNING")
    with servers() as urls:
        nc = await nats.connect(urls.nats_url)
        js = nc.jetstream()
        await apply_streams(js)
        store = JetStreamEventStore(nc, "/bench")
        await raw_publish_rate(js, 200)  # warm-up
        raw = await raw_publish_rate(js, events)
        appended = await append_rate(store, events)
        commanded = await command_rate(store, events)
        raw_after = await raw_publish_rate(js, events)
        await nc.drain()
        baseline = (raw + raw_after) / 2
        print(f"events per figure: {events}; raw publish before/after: {raw:.0f}/s, {raw_after:.0f}/s")
        raw_publish = "raw sync JetStream publish"
        ok = report("(a) append, expected sequence known", appended, raw_publish, baseline, 0.8)
        ok &= report("(b) command: load → decide → append", commanded, raw_publish, baseline, 0.4)
        projected, raw_writes = await projection_rate(urls, events)
        ok &= report(
            "(c) projection into a read model", projected, "raw bulk upserts, same documents", raw_writes, 0.7
        )
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=3000)
    sys.exit(asyncio.run(main(parser.parse_args().events)))
