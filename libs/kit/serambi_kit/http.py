"""The HTTP side every service shares: health, metrics, errors as JSON, request ids."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .accesslog import LoggedApp, request_id_of, route_of
from .admin import dead_letters_router
from .apidocs import serve_docs
from .auth import TokenVerifier
from .bodylimit import BodyLimit
from .causation import caused_by
from .eventstore import AppendOutcomeUnknown, EventStoreUnavailable
from .forms import refusal, spool_files_early
from .internal import LIVENESS, InternalPort
from .internal import serve as serve_on
from .logging import configure_logging, get_logger
from .metrics import LATENCY, REQUESTS
from .outages import is_outage
from .problems import document_errors, problem
from .runtime import Runtime
from .state import KitState, install, kit_state, service_runtime
from .tracing import configure_tracing, flush_tracing

log = get_logger(__name__)
UNAVAILABLE_RETRY_AFTER = 5  # seconds


def _field(location: Sequence[str | int]) -> str:
    parts = [str(part) for part in location]
    return ".".join(parts[1:] if parts and parts[0] in ("body", "query", "path", "header") else parts)


async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {"field": _field(error["loc"]), "rule": error["type"], "message": error["msg"]}
        for error in exc.errors()
    ]
    return problem(422, "invalid_request", "a field broke a rule", errors=errors)


async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    """A problem whose ``error`` is the message, or ``invalid_request`` with ``errors`` when the
    detail lists field errors in the validation-error shape (a form past its limits too:
    ``serambi_kit.forms``)."""
    exc = refusal(exc) or exc
    headers = getattr(exc, "headers", None)
    if isinstance(exc.detail, dict) and "errors" in exc.detail:
        fields = {"detail": "a field broke a rule", **exc.detail}
        return problem(exc.status_code, "invalid_request", headers=headers, **fields)
    return problem(exc.status_code, str(exc.detail), exc.detail, headers=headers)


async def _event_store_unavailable(request: Request, exc: EventStoreUnavailable) -> JSONResponse:
    """503 with ``Retry-After`` when NATS did not answer. An append whose outcome is unknown may
    have been stored: its documents and Idempotency-Key are kept, so a retry finds out."""
    maybe = isinstance(exc, AppendOutcomeUnknown)
    log.warning(
        "http.event_store_unavailable", route=route_of(request.scope), maybe_stored=maybe, error=str(exc)
    )
    detail = (
        "not confirmed: it may have been recorded; retry with the same Idempotency-Key"
        if maybe
        else "the event store did not answer; try again"
    )
    return problem(503, "service_unavailable", detail, headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER)})


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    """A 500 as a problem too (the error and its stack are logged with the request's id)."""
    return problem(
        500, "internal_error", "an unexpected error; it was logged", request_id=request_id_of(request.scope)
    )


def _dependency_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """503 with ``Retry-After`` when MongoDB or NATS is down (``outages.is_outage``), never a
    500. A write that may have taken effect is retried safely with an Idempotency-Key."""
    log.warning("http.dependency_unavailable", route=route_of(request.scope), error=type(exc).__name__)
    return problem(
        503,
        "service_unavailable",
        "a database or the event store is unavailable; try again",
        headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER)},
    )


class RequestContext:
    """Every request: its id (``AccessLog``'s) as the cause of what it records, a 503 instead of
    a 500 while a dependency is down, and the HTTP metrics.

    A plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` (``@app.middleware("http")``)
    runs each request in a task of its own and streams the answer through a memory channel, a
    cost every GET paid (docs/performance.md)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        status: list[int] = []  # the answer's, once it has started

        async def send_with_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        started = time.perf_counter()
        try:
            with caused_by(request_id, request_id):
                await self.app(scope, receive, send_with_status)
        except Exception as exc:
            if status or not is_outage(exc):
                raise
            await _dependency_unavailable(Request(scope), exc)(scope, receive, send_with_status)
        finally:
            route = route_of(scope)
            REQUESTS.labels(scope["method"], route, status[0] if status else 500).inc()
            LATENCY.labels(scope["method"], route).observe(time.perf_counter() - started)


class LiveOut(BaseModel):
    status: str


class ReadyOut(BaseModel):
    ready: bool
    checks: dict[str, str] = Field(description="each dependency: ok, or why not")
    consumers: dict[str, str] = Field(description="each consumer's last verdict: ok, or stalled: …")


def create_service_app(
    runtime: Runtime,
    *,
    title: str,
    routers: Sequence[APIRouter] = (),
    on_started: Callable[[], Awaitable[None]] | None = None,
) -> FastAPI:
    settings = runtime.settings
    spool_files_early()  # an uploaded file keeps 64 KiB in memory, the rest on the disk of /tmp

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.service, settings.log_level)
        configure_tracing(settings.service, settings)
        await runtime.start()
        if on_started is not None:
            await on_started()
        log.info("service.ready", port=settings.port)
        try:
            yield
            await runtime.stop()
        finally:
            await flush_tracing()

    # the access log and the request's ids around everything (serambi_kit.accesslog)
    app = LoggedApp(title=title, version="1", lifespan=lifespan, docs_url=None, redoc_url=None)
    serve_docs(app, title)  # Swagger UI's assets from the service itself, no CDN
    install(app, KitState(settings, runtime, TokenVerifier(settings)))
    if settings.cors_allowed_origins:  # strict: only listed origins, no credentials
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allowed_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Access-Token", "Idempotency-Key"],
            allow_credentials=False,
            max_age=600,
        )
    # Starlette types a handler as taking any Exception, not the class it is registered for
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(EventStoreUnavailable, _event_store_unavailable)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _internal_error)  # the 500 itself is logged as before

    # bodies counted as they stream in (413 as soon as one passes its limit); inside the
    # request context, whose task group would wrap the 413 in an ExceptionGroup
    app.add_middleware(BodyLimit, limit=min(settings.max_body_bytes, settings.max_request_bytes))

    app.add_middleware(RequestContext)
    # operations endpoints on SERAMBI_INTERNAL_PORT only (outermost: refused before anything),
    # but /livez on the public port too: the portal's /readyz asks it there
    app.add_middleware(
        InternalPort,
        internal_port=settings.internal_port,
        production=settings.environment == "production",
        public=LIVENESS,
    )

    @app.get("/livez", tags=["operations"], response_model=LiveOut)
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["operations"],
        response_model=ReadyOut,
        responses={503: {"model": ReadyOut, "description": "not ready"}},
    )
    async def readyz() -> JSONResponse:
        checks = await runtime.readiness()
        ready = all(value == "ok" for value in checks.values())
        body = {"ready": ready, "checks": checks, "consumers": runtime.consumer_health()}
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    async def metrics() -> Response:
        if runtime.mongo_connected:  # started: the read-model gauges, cached (slametrics)
            await runtime.gauges.refresh(runtime.db)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    for router in routers:
        app.include_router(router)
    app.include_router(dead_letters_router())  # admin: this service's dead letters, redrive
    document_errors(app)  # every route's problems in its OpenAPI description
    return app


def runtime_of(request: Request) -> Runtime:
    """The service's ``Runtime``, as a FastAPI dependency."""
    return service_runtime(request)


def serve(app: FastAPI) -> None:
    """Run ``app`` with uvicorn on the host and port of its settings (a service's __main__),
    and on its internal port if it has one (``serambi_kit.internal``)."""
    settings = kit_state(app).settings
    serve_on(app, settings.http_host, settings.port, settings.internal_port, settings.forwarded_allow_ips)
