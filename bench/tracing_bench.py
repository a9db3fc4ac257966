"""Benchmark: what tracing costs a request, against the same request before any tracer exists.

    .venv/bin/python bench/tracing_bench.py [--quick]

One kit app (``LoggedApp``: the access line, a server span) whose route appends an event to the
in-memory store (the event store's envelope, where the ``traceparent`` is written), called
through ASGI in process, no network. Three phases in one run:

- baseline: no tracer provider installed yet (OpenTelemetry's no-op API, as before tracing);
- off: ``SERAMBI_TRACING=off`` (the default): non-recording spans whose ids still travel;
- recording: every span recorded and handed to an exporter that drops it (the cost of ``log``
  or ``otlp`` without their output).

Prints µs per request and each phase's ratio to the baseline; off and recording alternate over
the rounds so a noisy machine weighs on both alike. No goal: a figure for docs/observability.md.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from collections.abc import Sequence

import httpx
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from serambi_contracts import AggregateRef
from serambi_kit.accesslog import LoggedApp
from serambi_kit.eventstore import InMemoryEventStore
from serambi_kit.logging import configure_logging
from serambi_kit.tracing import TracingSettings, configure_tracing, recording_into
from serambi_testing import samples


class Dropping(SpanExporter):
    def export(self, spans: Sequence) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def app() -> LoggedApp:
    store = InMemoryEventStore()
    application = LoggedApp()

    @application.post("/cases/{code}")
    async def record(code: str) -> dict[str, str]:
        ref = AggregateRef("complaints", "complaint", f"{code}-{len(store.log)}")
        store.log.clear()  # only the envelope's cost counts, not a growing list
        await store.append(ref, [samples.sla_breached(code)], expected_sequence=0, expected_version=0)
        return {"code": code}

    return application


async def per_request_us(client: httpx.AsyncClient, count: int) -> float:
    started = time.perf_counter()
    for index in range(count):
        response = await client.post(f"/cases/ADU-{index}")
        assert response.status_code == 200
    return (time.perf_counter() - started) / count * 1e6


async def main(quick: bool) -> None:
    count, rounds = (200, 3) if quick else (1000, 7)
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        await per_request_us(client, count // 4)  # warm up
        baseline = statistics.median([await per_request_us(client, count) for _ in range(rounds)])
        configure_tracing("bench", TracingSettings(tracing="off"))
        off, recording = [], []
        for _ in range(rounds):
            off.append(await per_request_us(client, count))
            with recording_into(Dropping()):
                recording.append(await per_request_us(client, count))
    print(f"{count} requests x {rounds} rounds, median µs per request:")
    for name, value in (
        ("baseline (no tracer)", baseline),
        ("tracing off", statistics.median(off)),
        ("recording", statistics.median(recording)),
    ):
        print(f"  {name:22} {value:8.1f} µs   ratio {value / baseline:.2f}")


if __name__ == "__main__":
    with open(os.devnull, "w") as null:  # the access lines are written, as a service does, to nowhere
        sys.stdout = null
        configure_logging("bench", "INFO")
        sys.stdout = sys.__stdout__
        asyncio.run(main("--quick" in sys.argv))
