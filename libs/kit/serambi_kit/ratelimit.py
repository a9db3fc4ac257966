"""Per-client rate limits for public endpoints: 429 with ``Retry-After``.

A token bucket per (client, limit name) in the process's memory: each replica enforces the
limit on what reaches it, so a cluster-wide limit belongs at the ingress as well
(docs/operations.md). The client is the address the server resolved through the proxies
``SERAMBI_FORWARDED_ALLOW_IPS`` trusts (``serambi_kit.proxies``): a client cannot choose it.

Each limit is checked before FastAPI reads the body (``bodylimit.ChecksFirstRoute``), so a
refused upload is not spooled.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request, status

from .bodylimit import before_body
from .proxies import client_of
from .state import kit_state

MAX_CLIENTS = 100_000


class TokenBuckets:
    def __init__(self, per_minute: int, burst: int | None = None) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(burst or per_minute)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str, now: float | None = None) -> float:
        """0 if the client may go on, else the seconds until it may."""
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(client, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
        self._buckets[client] = (tokens - 1 if wait == 0 else tokens, now)
        if len(self._buckets) > MAX_CLIENTS:
            self._buckets.popitem(last=False)
        return wait


def rate_limited(name: str, per_minute: int = 60) -> Callable[[Request], Awaitable[None]]:
    """A FastAPI dependency enforcing the limit ``name`` configured in the app's settings
    (``SERAMBI_RATE_LIMITS``, per minute; ``per_minute`` when it names no such limit).
    Asynchronous although it never waits: FastAPI runs a plain ``def`` dependency in its thread
    pool, a hop per request that cost more than the check itself."""

    async def dependency(request: Request) -> None:
        taken: set[str] = request.scope.setdefault("serambi.rate_limits_taken", set())
        if name in taken:  # checked already, before the body was read
            return
        taken.add(name)
        state = kit_state(request)
        bucket = state.rate_limits.get(name)
        if bucket is None:
            bucket = state.rate_limits[name] = TokenBuckets(state.settings.rate_limits.get(name, per_minute))
        wait = bucket.take(client_of(request))
        if wait > 0:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"too many requests ({name}); retry later",
                headers={"Retry-After": str(math.ceil(wait))},
            )

    dependency.rate_limit = name  # type: ignore[attr-defined]  # read by serambi_kit.problems
    return before_body(dependency)
