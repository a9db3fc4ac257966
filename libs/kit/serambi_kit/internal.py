"""The operations endpoints on a port of their own, never on the public one.

``/metrics``, ``/docs`` (and its assets), ``/openapi.json``, ``/readyz`` and ``/livez`` tell an
outsider what runs, how busy it is and which routes exist. With ``SERAMBI_INTERNAL_PORT`` set
(the image sets 8090) a process listens on that port too, and:

- the operations endpoints answer only on the internal port (Kubernetes probes, Prometheus's
  scrape, an operator's port-forward), 404 on the public one;
- the internal port answers nothing else (404), so it cannot be used to reach the API.

Without an internal port, development and test serve everything on the one port (``make run``
shows ``/docs`` there); production then hides ``/metrics``, ``/docs`` and ``/openapi.json``
from everyone and keeps only ``/livez`` and ``/readyz``.

A service also answers ``/livez`` on its public port (``public=LIVENESS``): ``{"status": "ok"}``
says no more than any public route does, and it is what the portal's ``/readyz`` asks each
service through the address it calls it at (the public port: the portal has no business on the
internal one, which only Prometheus and the probes reach). The Ingress routes no ``/livez`` to a
service. ``/readyz`` (its dependencies and consumers) stays internal. The portal keeps its own
``/livez`` internal: nobody outside needs it.

The port a request arrived on is the server address of its connection (``scope["server"]``),
which the client cannot choose by any header.
"""

from __future__ import annotations

import sys
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from .problems import problem

PROBES = ("/livez", "/readyz")
LIVENESS = ("/livez",)  # what a service also answers on its public port (the portal asks it)
OPERATIONS = ("/metrics", "/openapi.json", *PROBES)
DOCS = "/docs"


def operational(path: str) -> bool:
    return path in OPERATIONS or path == DOCS or path.startswith(DOCS + "/")


class InternalPort:
    """ASGI middleware: which port serves which paths (see the module's docstring)."""

    def __init__(
        self, app: ASGIApp, internal_port: int | None, production: bool, public: tuple[str, ...] = ()
    ) -> None:
        """``public``: operations paths answered on both ports (a service's ``LIVENESS``)."""
        self.app, self.internal_port, self.production = app, internal_port, production
        self.public = frozenset(public)

    def allowed(self, path: str, port: int | None) -> bool:
        if path in self.public:
            return True
        if self.internal_port is None:
            return not self.production or not operational(path) or path in PROBES
        return operational(path) == (port == self.internal_port)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            server = scope.get("server") or (None, None)
            if not self.allowed(scope["path"], server[1]):
                await problem(404, "not found", "Not Found")(scope, receive, send)
                return
        await self.app(scope, receive, send)


def uvicorn_config(app: ASGIApp, host: str, port: int, forwarded_allow_ips: list[str]) -> Any:
    """uvicorn's configuration for ``app`` on ``host:port``: no logging set-up of its own (the
    kit's), and the client resolved through the proxies ``forwarded_allow_ips`` trusts
    (``serambi_kit.proxies``)."""
    import uvicorn

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
    )


def serve(
    app: ASGIApp, host: str, port: int, internal_port: int | None, forwarded_allow_ips: list[str]
) -> None:
    """uvicorn on ``host:port`` and, when given, ``host:internal_port`` (one server, one event
    loop, one app: the middleware tells the two apart)."""
    import uvicorn

    public = uvicorn_config(app, host, port, forwarded_allow_ips)
    server = uvicorn.Server(public)
    sockets = None
    if internal_port is not None:
        internal = uvicorn_config(app, host, internal_port, forwarded_allow_ips)
        sockets = [public.bind_socket(), internal.bind_socket()]
    server.run(sockets=sockets)
    if not server.started:
        sys.exit(3)  # uvicorn's STARTUP_FAILURE
