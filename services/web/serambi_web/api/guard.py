"""What every request passes through: body limits, the citizen's address, metrics, headers.

A plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` (``@app.middleware("http")``) runs
each request in a task of its own and streams the answer through a memory channel, which cost
the tracking page a tenth of its CPU time (docs/performance.md).
"""

from __future__ import annotations

import time

from serambi_kit.metrics import LATENCY, REQUESTS
from serambi_kit.ratelimit import client_of
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..adapters.backend import client_address
from ..settings import WebSettings
from . import errors
from .security import HEADERS


class Guard:
    def __init__(self, app: ASGIApp, settings: WebSettings) -> None:
        self.app, self.settings = app, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        status = [500]  # unless the app answers: an exception goes on to the 500 page

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                MutableHeaders(scope=message).update(HEADERS)
            await send(message)

        request = Request(scope)
        length = request.headers.get("content-length")
        refused = None
        if request.method == "POST" and (length is None or not length.isdigit()):
            refused = 411
        elif length and length.isdigit() and int(length) > self.settings.max_request_bytes:
            refused = 413
        if refused is not None:
            await errors.page(request, refused)(scope, receive, send_with_headers)
            return
        started = time.perf_counter()
        address = client_address.set(client_of(request, self.settings.trust_forwarded_for))
        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            client_address.reset(address)
            route = getattr(scope.get("route"), "path", "unmatched")
            REQUESTS.labels(request.method, route, status[0]).inc()
            LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
