"""The officer console (``/petugas/``): OpenID Connect sign-in, the session, token relay.

``install`` adds it to the web app: its settings (``ConsoleSettings``), the provider client
and the router. The portal's error pages, CSRF and security headers apply here as well.
"""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from ...adapters.oidc import Provider
from ...adapters.session import Sealer
from ...settings import ConsoleSettings
from .access import Console
from .routes import router


def install(
    app: FastAPI, http: httpx.AsyncClient, session_secret: str, settings: ConsoleSettings | None = None
) -> Console:
    settings = settings or ConsoleSettings()
    console = Console(settings, Provider(settings, http), Sealer(session_secret))
    app.state.console = console
    app.include_router(router)
    return console
