"""Shared plumbing of the benchmarks: real servers on free ports, timing, printing."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from serambi_testing import localstack


@dataclass
class Servers:
    nats_url: str
    mongo_url: str


@contextmanager
def servers() -> Iterator[Servers]:
    """A fresh nats-server and SecantusDB in a temporary directory, stopped afterwards."""
    with tempfile.TemporaryDirectory(prefix="serambi-bench-") as tmp:
        with localstack.servers(Path(tmp)) as (nats, mongo):
            yield Servers(localstack.nats_url(nats.port), localstack.mongo_url(mongo.port))


class Stopwatch:
    def __init__(self) -> None:
        self.started = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def report(name: str, rate: float, baseline_name: str, baseline: float, goal: float) -> bool:
    ratio = rate / baseline
    verdict = "meets" if ratio >= goal else "BELOW"
    print(
        f"{name:<44} {rate:>10.0f}/s   {baseline_name:<34} {baseline:>10.0f}/s   "
        f"ratio {ratio:5.2f} (goal ≥ {goal}) {verdict}"
    )
    return ratio >= goal


def summary(latencies_ms: list[float]) -> str:
    return (
        f"p50 {percentile(latencies_ms, 50):.2f} ms, p99 {percentile(latencies_ms, 99):.2f} ms, "
        f"mean {statistics.fmean(latencies_ms):.2f} ms"
    )


# -- processes, read from /proc (Linux) ------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident memory of a process now, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
