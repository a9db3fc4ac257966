"""The portal's composition root: settings → API clients, templates, content → the app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from serambi_kit.accesslog import LoggedApp
from serambi_kit.internal import InternalPort
from serambi_kit.logging import configure_logging, get_logger
from serambi_kit.state import KitState, install
from serambi_kit.tracing import configure_tracing, flush_tracing

from .adapters import content
from .adapters.backend import Backend, Pool
from .adapters.oidc import Provider
from .adapters.services import Complaints, Intake, Scheduling
from .adapters.session import Sealer
from .api import ROUTERS, errors, petugas
from .api.deps import Console, Portal
from .api.guard import Guard
from .api.pages import templates
from .api.security import Secrets
from .settings import ConsoleSettings, WebSettings

log = get_logger(__name__)
STATIC = Path(__file__).parent / "api" / "static"


def build_portal(settings: WebSettings, pool: Pool) -> Portal:
    return Portal(
        settings=settings,
        intake=Intake("intake", pool, settings.intake_url),
        complaints=Complaints("complaints", pool, settings.complaints_url),
        scheduling=Scheduling("scheduling", pool, settings.scheduling_url),
        templates=templates(),
        secrets=Secrets(
            settings.session_secret.get_secret_value(),
            settings.tracking_session_minutes * 60,
            settings.secure_cookies,
        ),
        content=content.load(settings.content_file),
        uploads=asyncio.Semaphore(settings.max_concurrent_uploads),
        notifier=Backend("notifier", pool, settings.notifier_url) if settings.notifier_url else None,
    )


def build_console(
    http: httpx.AsyncClient, session_secret: str, settings: ConsoleSettings | None = None
) -> Console:
    settings = settings or ConsoleSettings()
    return Console(settings, Provider(settings, http), Sealer(session_secret))


def create_app(settings: WebSettings | None = None) -> FastAPI:
    settings = settings or WebSettings()
    http = httpx.AsyncClient(
        timeout=settings.backend_timeout_seconds,
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
    )
    pool = Pool(settings.backend_timeout_seconds)  # the services' APIs (httpx: the console's OpenID)
    portal = build_portal(settings, pool)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.service, settings.log_level)
        configure_tracing(settings.service, settings)
        log.info("service.ready", port=settings.port)
        try:
            yield
            await pool.aclose()
            await http.aclose()
        finally:
            await flush_tracing()

    # the access log and the request's ids around everything (serambi_kit.accesslog)
    app = LoggedApp(title="Serambi web", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.runtime = portal
    install(app, KitState(settings))  # the kit's rate limits (serambi_kit.state)
    errors.install(app)

    console = build_console(http, settings.session_secret.get_secret_value())
    # cross-site posts, body limits, client address, metrics, headers
    app.add_middleware(Guard, settings=settings, public_base_url=console.settings.public_base_url)
    # /metrics, /readyz and /livez on SERAMBI_INTERNAL_PORT only (serambi_kit.internal)
    app.add_middleware(
        InternalPort, internal_port=settings.internal_port, production=settings.environment == "production"
    )

    @app.get("/livez", include_in_schema=False)
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        """Ready when it can render; the services' state is reported, not required (a page
        says "coba lagi" while one is down, which beats no answer)."""
        checks = {
            backend.name: await backend.alive()
            for backend in (portal.intake, portal.complaints, portal.scheduling)
        }
        return JSONResponse({"ready": True, "checks": checks})

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in ROUTERS:
        app.include_router(router)
    app.state.console = console
    app.include_router(petugas.router)  # the officer console
    return app
