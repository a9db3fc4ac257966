"""What every request passes through: cross-site posts refused, body limits, the citizen's
address, metrics, headers.

A plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` (``@app.middleware("http")``) runs
each request in a task of its own and streams the answer through a memory channel, which cost
the tracking page a tenth of its CPU time (docs/performance.md).
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from serambi_kit.accesslog import route_of
from serambi_kit.metrics import LATENCY, REQUESTS
from serambi_kit.proxies import client_of
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..adapters.backend import client_address
from ..settings import WebSettings
from . import errors
from .security import HEADERS


class Guard:
    def __init__(self, app: ASGIApp, settings: WebSettings, public_base_url: str | None = None) -> None:
        self.app, self.settings = app, settings
        #: SERAMBI_PUBLIC_BASE_URL's origin: a browser's Origin for the portal behind a proxy
        #: that passes its own Host on (nginx's ``proxy_pass`` without ``proxy_set_header Host``)
        self.public_origin = _origin(public_base_url) if public_base_url else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        status = [500]  # unless the app answers: an exception goes on to the 500 page

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():  # a download keeps its own, stricter policy
                    headers.setdefault(name, value)
            await send(message)

        request = Request(scope)
        length = request.headers.get("content-length")
        refused = None
        if request.method == "POST" and self.cross_site(request):
            refused = 403  # before the body is read: the form page says "Formulir kedaluwarsa"
        elif request.method == "POST" and (length is None or not length.isdigit()):
            refused = 411
        elif length and length.isdigit() and int(length) > self.settings.max_request_bytes:
            refused = 413
        if refused is not None:
            await errors.page(request, refused)(scope, receive, send_with_headers)
            return
        started = time.perf_counter()
        address = client_address.set(client_of(request))
        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            client_address.reset(address)
            route = route_of(scope)
            REQUESTS.labels(request.method, route, status[0]).inc()
            LATENCY.labels(request.method, route).observe(time.perf_counter() - started)

    def cross_site(self, request: Request) -> bool:
        """A post a browser sends from another site, or another host of this site: its
        ``Sec-Fetch-Site`` says so, or its ``Origin`` is not this portal's (the Host it was asked
        for, or X-Forwarded-Host when proxies are trusted: no browser can send that header).
        ``Origin: null`` says nothing: under ``Referrer-Policy: no-referrer`` browsers send it for
        the portal's own forms too. Clients that send neither header are left to the CSRF token.
        The origin of ``SERAMBI_PUBLIC_BASE_URL`` (scheme, host and port), when set, is this
        portal's too, whatever Host the proxy passed on."""
        if request.headers.get("sec-fetch-site") in ("cross-site", "same-site"):
            return True
        origin = request.headers.get("origin")
        if origin is None or origin == "null":
            return False
        if self.public_origin is not None and _origin(origin) == self.public_origin:
            return False
        host = request.headers.get("host", "")
        if self.settings.forwarded_allow_ips:  # the last proxy's (it appends); no browser sets it
            host = request.headers.get("x-forwarded-host", host).split(",")[-1].strip()
        return urlsplit(origin).netloc.lower() != host.lower()


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, lower-case, the scheme's default port left out."""
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        return ""
    if port is None or (scheme, port) in (("http", 80), ("https", 443)):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"
