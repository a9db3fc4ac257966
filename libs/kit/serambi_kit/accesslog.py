"""One access log line per HTTP request, and the request's ids on every line it causes.

``AccessLog`` gives each request its request id (``X-Request-Id`` if plain, else a new one:
``causation.request_id_from``) and its trace id (``trace_id_from``: the W3C ``traceparent``'s
when valid, else a new one), binds both into structlog's context for as long as the request is
handled, and writes ``http.request`` at the end: method, route *template*, status, duration.
Never the path, the query string or a header: tracking codes and tokens live in paths
(``/lacak/{code}/{token}``, ``/survei/{token}``).

``LoggedApp`` (a ``FastAPI``) puts it around the whole middleware stack, outside Starlette's
``ServerErrorMiddleware``, so the 500 that middleware answers, and what an error handler logs,
are inside the request's context too. A plain ASGI middleware: ``BaseHTTPMiddleware`` runs each
request in a task of its own (docs/performance.md).

Each request is a server span (``serambi_kit.tracing.server_span``), the child of a valid
``traceparent``; the trace id logged is that span's. ``trace_id_from`` stands in where no tracer
provider is installed (an app built without the kit's lifespan, in tests).
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any

import structlog
from fastapi import FastAPI
from opentelemetry._logs import NoOpLoggerProvider
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.trace import NoOpTracerProvider, Span
from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .causation import request_id_from
from .tracing import answered, current_trace_id, server_span

#: The route of a request no route matched (the metrics' label too).
UNMATCHED = "unmatched"
#: Logged at debug: the probes every few seconds and Prometheus's scrape.
QUIET = frozenset({"/livez", "/readyz", "/metrics"})
#: The status of a request cancelled before it answered (the client went away, the server
#: stopped): nginx's "client closed request"; never sent, only logged.
CANCELLED = 499
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
REQUEST_ID = "serambi.request_id"  # the scope key other middlewares read it from
_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")
_LOGGED = "_serambi_logged"  # set on an exception the access line has logged


def route_of(scope: Scope) -> str:
    """The template of the route that matched (``/api/v1/requests/{tracking_code}``), or the
    path of the ``Mount`` that did (``/static``: FastAPI's router names no route for a mount),
    never the path."""
    template: str | None = getattr(scope.get("route"), "path", None)
    if template:
        return template
    endpoint = scope.get("endpoint")  # what the matching route handed the request to
    if endpoint is not None:
        for route in getattr(scope.get("router"), "routes", ()):
            if isinstance(route, Mount) and route.app is endpoint:
                return route.path or "/"
    return UNMATCHED


def request_id_of(scope: Scope) -> str:
    """The id ``AccessLog`` gave the request, or one from its header when it has none."""
    found = scope.get(REQUEST_ID)
    return found if isinstance(found, str) else request_id_from(Headers(scope=scope).get("x-request-id"))


def trace_id_from(traceparent: str | None) -> str:
    """The trace id of a valid W3C ``traceparent`` (version ``00``, or a later one read as
    ``00``; lowercase hex; trace and parent ids not all zeros), else a new random one."""
    match = _TRACEPARENT.match(traceparent.strip()) if traceparent else None
    if match:
        version, trace_id, parent_id, _, rest = match.groups()
        valid = (
            version != "ff"
            and (version != "00" or rest is None)
            and trace_id != "0" * 32
            and parent_id != "0" * 16
        )
        if valid:
            return trace_id
    return secrets.token_hex(16)


class AccessLog:
    """ASGI middleware: the request's ids bound into every log line, and its access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = structlog.get_logger("serambi.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = scope[REQUEST_ID] = request_id_from(headers.get("x-request-id"))
        status: list[int] = []

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
                MutableHeaders(scope=message)["x-request-id"] = request_id
            await send(message)

        started = time.perf_counter()
        method = scope["method"] if scope["method"] in METHODS else "OTHER"
        with (
            server_span(method, headers, scope["path"]) as span,
            structlog.contextvars.bound_contextvars(
                request_id=request_id,
                trace_id=current_trace_id() or trace_id_from(headers.get("traceparent")),
            ),
        ):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception as exc:
                self.write(scope, span, status[0] if status else 500, started, exc)
                raise
            except BaseException as exc:  # cancelled (CancelledError), or the process stopping
                self.write(scope, span, status[0] if status else CANCELLED, started, exc)
                raise
            self.write(scope, span, status[0] if status else 500, started)

    def write(
        self, scope: Scope, span: Span, status: int, started: float, exc: BaseException | None = None
    ) -> None:
        route = route_of(scope)
        method = scope["method"] if scope["method"] in METHODS else "OTHER"
        answered(span, method, route, status)
        fields: dict[str, Any] = {
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        }
        if isinstance(exc, Exception):  # the traceback here, in the request's context; uvicorn's is dropped
            try:
                setattr(exc, _LOGGED, True)
            except AttributeError:
                pass
            self.log.error("http.request", **fields, error=type(exc).__name__, exc_info=exc)
        elif exc is not None:  # not a fault of the request: no traceback
            self.log.warning("http.request", **fields, error=type(exc).__name__)
        elif route in QUIET:
            self.log.debug("http.request", **fields)
        elif status == 503:  # a dependency down, the uploads busy: the outage alerts tell
            self.log.warning("http.request", **fields)
        elif status >= 500:
            self.log.error("http.request", **fields)
        else:
            self.log.info("http.request", **fields)


#: FastAPI's own OpenTelemetry spans are off: its server span records the path and the query
#: (``url.path``, ``url.query``), where tracking codes and tokens live, and exceptions with
#: their messages. ``AccessLog``'s server span names the route template instead.
#: Its providers are no-op ones too, so a switch a later FastAPI adds records nothing either.
NO_NATIVE_TELEMETRY = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
    "tracer_provider": NoOpTracerProvider(),
    "meter_provider": NoOpMeterProvider(),
    "logger_provider": NoOpLoggerProvider(),
}


class LoggedApp(FastAPI):
    """A ``FastAPI`` whose whole middleware stack runs inside ``AccessLog``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**{"telemetry": NO_NATIVE_TELEMETRY, **kwargs})

    def build_middleware_stack(self) -> ASGIApp:
        return AccessLog(super().build_middleware_stack())


def not_logged_yet(record: logging.LogRecord) -> bool:
    """A filter for uvicorn's "Exception in ASGI application": False (drop the record) when the
    access line already logged that exception, with the request's ids."""
    return not (record.exc_info and getattr(record.exc_info[1], _LOGGED, False))
