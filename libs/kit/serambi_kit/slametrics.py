"""The bureau's own metrics: SLA clocks, warnings and breaches, the audience answer on-time
ratio, open dead letters (docs/observability.md lists every metric).

Two kinds, chosen by what each number is:

- **Counted where appended** (``serambi_sla_warnings_total``, ``serambi_sla_breaches_total``):
  a service counts the SLA events *this process* appended (``count_sla_events``), never the
  ones it only handled, so a redelivery or another replica's handling counts nothing twice;
  summed over the replicas (``sum without (instance)``) they are the service's total.
- **Read from the read models when scraped** (``ScrapeGauges``): open clocks, the on-time
  ratio, open dead letters (and whether NATS and MongoDB answer, as ``/readyz`` checks them).
  ``/metrics`` refreshes them with a cheap query at most every ``ttl`` seconds; every replica
  reports the same figure, so dashboards and alerts take ``max``.

Labels are bounded: a clock (``triage``, a tier, ``audience_answer``), a channel, a month slot
(``current``/``previous``), a consumer, a reason class — never a case id.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from prometheus_client import Counter, Gauge

from .deadletters import COLLECTION as DEAD_LETTERS
from .logging import get_logger
from .mongo import Database

log = get_logger(__name__)

WARNINGS = Counter("serambi_sla_warnings_total", "SLA warnings this process appended", ["clock", "channel"])
BREACHES = Counter("serambi_sla_breaches_total", "SLA breaches this process appended", ["clock", "channel"])
OPEN_CLOCKS = Gauge(
    "serambi_sla_open_clocks", "Open SLA clocks in the read model (running or paused)", ["clock", "state"]
)
ON_TIME_RATIO = Gauge(
    "serambi_audience_answer_on_time_ratio",
    "Audience requests of the month (WIB) answered by their deadline, of those due (answered or past it)",
    ["month"],
)
ANSWERED = Gauge(
    "serambi_audience_answers",
    "Audience requests of the month (WIB) due: answered on time, "
    "or late (answered late or unanswered past the deadline)",
    ["month", "timeliness"],
)
DEAD_LETTERS_OPEN = Gauge(
    "serambi_dead_letters_open",
    "Dead letters not yet redriven, by consumer and reason class",
    ["consumer", "reason"],
)
DEPENDENCY_UP = Gauge(
    "serambi_dependency_up",
    "1 when the process reaches the dependency (as /readyz checks it), else 0",
    ["dependency"],
)
SCRAPE_ERRORS = Counter(
    "serambi_read_model_metrics_errors_total",
    "Read-model metric refreshes that failed (the previous values stay)",
    ["source"],
)
NO_CHANNEL = "none"  # an SLA clock whose case has no channel (an audience request)

Source = Callable[[Database], Awaitable[None]]


def count_sla_events(events: Iterable[Any], channel: str | None = None) -> None:
    """Count the SLAWarning / SLABreached among ``events`` that this process just appended."""
    for event in events:
        kind = type(event).__name__
        if kind == "SLAWarning":
            WARNINGS.labels(event.clock, channel or NO_CHANNEL).inc()
        elif kind == "SLABreached":
            BREACHES.labels(event.clock, channel or NO_CHANNEL).inc()


def declare_sla_series(clocks: Iterable[str], channels: Iterable[str] = (NO_CHANNEL,)) -> None:
    """Export every (clock, channel) warning and breach series at 0 from the start: a counter
    series born at 1 hides its first increment from ``increase()``, and the breach alert with it."""
    channels = tuple(channels)
    for clock in clocks:
        for channel in channels:
            WARNINGS.labels(clock, channel)
            BREACHES.labels(clock, channel)


def reason_class(document: dict[str, Any]) -> str:
    """A dead letter's reason as one of a few classes (its text names errors, never a label)."""
    reason = str(document.get("reason") or "")
    if document.get("manual"):
        return "manual"
    if reason.startswith("redrive failed"):
        return "redrive_failed"
    if reason.startswith("failed "):
        return "retries_exhausted"
    return "permanent"


async def dead_letters_source(db: Database) -> None:
    """Open dead letters (``open`` or marked for redrive) per consumer and reason class."""
    counts: dict[tuple[str, ...], float] = {}  # the gauge's labels and values
    cursor = db[DEAD_LETTERS].find(
        {"status": {"$in": ["open", "redrive", "redriving"]}}, {"consumer": 1, "reason": 1, "manual": 1}
    )
    async for document in cursor:
        key = (str(document.get("consumer") or "unknown"), reason_class(document))
        counts[key] = counts.get(key, 0) + 1
    replace(DEAD_LETTERS_OPEN, counts)


def replace(gauge: Gauge, values: dict[tuple[str, ...], float]) -> None:
    """Set ``gauge`` to exactly ``values`` (labels no longer present disappear). No await in
    between: a scrape never sees half of it."""
    gauge.clear()
    for labels, value in values.items():
        gauge.labels(*labels).set(value)


class ScrapeGauges:
    """Gauges read from a service's read models when ``/metrics`` is scraped, at most every
    ``ttl`` seconds (a scrape in between shows the last values)."""

    def __init__(
        self, ttl: float = 15.0, timeout: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.timeout = timeout
        self.clock = clock
        self.sources: dict[str, Source] = {"dead_letters": dead_letters_source}
        self.refreshed_at: float | None = None
        self._lock = asyncio.Lock()

    def add(self, name: str, source: Source) -> None:
        self.sources[name] = source

    async def refresh(self, db: Database) -> None:
        if self._fresh():
            return
        async with self._lock:
            if self._fresh():
                return  # another scrape refreshed while this one waited
            # at once: a dependency down costs one timeout, not one per source
            await asyncio.gather(*(self._run(name, source, db) for name, source in self.sources.items()))
            self.refreshed_at = self.clock()

    async def _run(self, name: str, source: Source, db: Database) -> None:
        try:
            await asyncio.wait_for(source(db), self.timeout)
        except Exception as exc:  # noqa: BLE001 — a metric must never fail /metrics
            SCRAPE_ERRORS.labels(name).inc()
            log.warning("metrics.read_model_failed", source=name, error=type(exc).__name__)

    def _fresh(self) -> bool:
        return self.refreshed_at is not None and self.clock() - self.refreshed_at < self.ttl
