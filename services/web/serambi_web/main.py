"""The portal's composition root: settings → API clients, templates, content → the app."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from serambi_kit.logging import configure_logging, get_logger
from serambi_kit.ratelimit import client_of

from . import content, petugas
from .adapters.backend import client_address
from .adapters.services import Complaints, Intake, Scheduling
from .api import ROUTERS, errors
from .api.deps import Portal
from .api.security import HEADERS, Secrets
from .api.views import templates
from .settings import WebSettings

log = get_logger(__name__)
STATIC = Path(__file__).parent / "api" / "static"
# The same series the services export (serambi_kit.http), without their NATS and MongoDB imports.
REQUESTS = Counter("serambi_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("serambi_http_request_seconds", "HTTP latency", ["method", "route"])


def build_portal(settings: WebSettings, http: httpx.AsyncClient) -> Portal:
    return Portal(
        settings=settings,
        intake=Intake("intake", http, settings.intake_url),
        complaints=Complaints("complaints", http, settings.complaints_url),
        scheduling=Scheduling("scheduling", http, settings.scheduling_url),
        templates=templates(),
        secrets=Secrets(settings.session_secret.get_secret_value(), settings.tracking_session_minutes * 60),
        content=content.load(settings.content_file),
    )


def create_app(settings: WebSettings | None = None) -> FastAPI:
    settings = settings or WebSettings()
    http = httpx.AsyncClient(timeout=settings.backend_timeout_seconds,
                             limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))
    portal = build_portal(settings, http)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.service, settings.log_level)
        log.info("service.ready", port=settings.port)
        yield
        await http.aclose()

    app = FastAPI(title="Serambi web", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.runtime = portal
    app.state.rate_limits = {}
    errors.install(app)

    @app.middleware("http")
    async def guard(request: Request, call_next) -> Response:
        length = request.headers.get("content-length")
        if request.method == "POST" and (length is None or not length.isdigit()):
            response: Response = errors.page(request, 411)
        elif length and length.isdigit() and int(length) > settings.max_request_bytes:
            response = errors.page(request, 413)
        else:
            started = time.perf_counter()
            address = client_address.set(client_of(request, settings.trust_forwarded_for))
            try:
                response = await call_next(request)
            finally:
                client_address.reset(address)
            route = getattr(request.scope.get("route"), "path", "unmatched")
            REQUESTS.labels(request.method, route, response.status_code).inc()
            LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
        response.headers.update(HEADERS)
        return response

    @app.get("/livez", include_in_schema=False)
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        """Ready when it can render; the services' state is reported, not required (a page
        says "coba lagi" while one is down, which beats no answer)."""
        checks = {backend.name: await backend.alive()
                  for backend in (portal.intake, portal.complaints, portal.scheduling)}
        return JSONResponse({"ready": True, "checks": checks})

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in ROUTERS:
        app.include_router(router)
    petugas.install(app, http, settings.session_secret.get_secret_value())  # the officer console
    return app
