"""The HTTP metrics every Serambi process exports, defined once (a Prometheus name can be
registered only once per process, and the portal shares the names with the services)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter("serambi_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("serambi_http_request_seconds", "HTTP latency", ["method", "route"])
