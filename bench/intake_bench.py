"""Audience request submissions through intake's HTTP API (issue #4).

Each submission carries two small documents (a PDF letter and a PNG identity document). The
intake service runs as its own process on a fresh nats-server and SecantusDB; the baseline is
the raw append rate (synchronous JetStream publish of a same-sized event) in the same run.

Run: .venv/bin/python bench/intake_bench.py [--requests N] [--concurrency C]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
import nats

sys.path.insert(0, str(Path(__file__).parent))
from common import Stopwatch, servers, summary  # noqa: E402
from eventstore_bench import raw_publish_rate  # noqa: E402
from serambi_kit.logging import configure_logging  # noqa: E402
from serambi_kit.topology import apply_streams  # noqa: E402
from serambi_ops.commands.demo import DEMO_REQUEST, SAMPLE_DOCUMENTS, request_form  # noqa: E402
from serambi_testing import localstack  # noqa: E402


async def submissions(url: str, count: int, concurrency: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for number in range(count):
        queue.put_nowait(number)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            queue.get_nowait()
            started = time.perf_counter()
            response = await client.post(
                "/api/v1/requests", data=request_form(DEMO_REQUEST), files=SAMPLE_DOCUMENTS
            )
            response.raise_for_status()
            latencies.append((time.perf_counter() - started) * 1000)

    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        for _ in range(10):  # warm-up
            (
                await client.post("/api/v1/requests", data=request_form(DEMO_REQUEST), files=SAMPLE_DOCUMENTS)
            ).raise_for_status()
        clock = Stopwatch()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        return count / clock.seconds, latencies


async def main(count: int, concurrency: int) -> int:
    configure_logging("bench", "WARNING")
    with servers() as urls, tempfile.TemporaryDirectory() as logs:
        port = localstack.free_port()
        intake = localstack.ManagedProcess(
            "intake",
            [sys.executable, "-m", "serambi_intake"],
            port,
            Path(logs) / "intake.log",
            env={
                "SERAMBI_NATS_URL": urls.nats_url,
                "SERAMBI_MONGO_URL": urls.mongo_url,
                "SERAMBI_HTTP_PORT": str(port),
                "SERAMBI_LOG_LEVEL": "WARNING",
                "SERAMBI_ENVIRONMENT": "test",
                "PATH": os.environ["PATH"],
            },
        ).start(ready_timeout=30)
        try:
            rate, latencies = await submissions(f"http://127.0.0.1:{port}", count, concurrency)
        finally:
            intake.stop()
        nc = await nats.connect(urls.nats_url)
        await apply_streams(nc.jetstream())
        raw = await raw_publish_rate(nc.jetstream(), count)
        await nc.drain()
    print(
        f"submissions ({concurrency} concurrent clients, 2 documents each): {rate:.0f}/s; "
        f"latency {summary(latencies)}"
    )
    print(f"raw JetStream append (same run):                      {raw:.0f}/s; ratio {rate / raw:.3f}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.requests, args.concurrency)))
