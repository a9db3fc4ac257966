"""For the console's unit tests: a service API stand-in on a free port, and the portal app with
a signed-in officer over ASGI (no browser, no stack)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace

import httpx
from aiohttp import web
from serambi_testing import localstack
from serambi_web.adapters.session import OfficerSession, session_cookies
from serambi_web.main import create_app
from serambi_web.settings import WebSettings

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def service_stand_in(routes: Mapping[str, Handler]) -> AsyncIterator[str]:
    """GET ``routes`` (path → handler) served by aiohttp on a free port: yields the base URL."""
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = localstack.free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def officer(username: str, roles: list[str], **changes) -> OfficerSession:
    """A live session (signed in a minute ago) of ``username`` with ``roles``."""
    now = time.time()
    session = OfficerSession(
        subject="f3a1",
        name=username.title(),
        username=username,
        roles=roles,
        access_token="at",
        access_expires=now + 3600,
        refresh_token=None,
        id_token=None,
        started=now - 60,
        seen=now - 60,
    )
    return replace(session, **changes)


@asynccontextmanager
async def signed_in(services_url: str, session: OfficerSession) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the portal (every service at ``services_url``) carrying ``session``."""
    app = create_app(
        WebSettings(
            intake_url=services_url,
            complaints_url=services_url,
            scheduling_url=services_url,
            backend_timeout_seconds=5,
        )
    )
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        for name, value in session_cookies(app.state.console.sealer, session).items():
            if value:
                client.cookies.set(name, value, path="/petugas")
        yield client
