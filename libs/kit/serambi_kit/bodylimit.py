"""Request bodies bounded by the bytes actually received, chunked or not.

``BodyLimit`` wraps the ASGI ``receive`` of every request and answers 413 as soon as the bytes
received pass the request's limit, so a chunked body (no ``Content-Length``) cannot fill the
memory. The limit is ``SERAMBI_MAX_BODY_BYTES`` unless the route sets its own with a
``body_limit`` dependency (uploads: ``SERAMBI_MAX_REQUEST_BYTES``; complaints' public JSON: less).

FastAPI reads a route's body before it runs the route's dependencies. Routes made with
``ChecksFirstRoute`` run the dependencies marked ``before_body`` (the route's body limit, its
rate limits and its officer roles: ``serambi_kit.auth.require_roles``) first, so the upload of a
refused client — rate-limited, anonymous or without the role — is never read nor spooled. A
``before_body`` dependency that yields (``serambi_kit.uploads.upload_slot``) is entered after
all the others and held until the route returns.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, TypeVar

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .problems import problem
from .state import kit_state

SCOPE_KEY = "serambi.body_counter"
Check = Callable[[Request], Awaitable[None]]
_Dependency = TypeVar("_Dependency", bound=Callable[..., Any])


class BodyTooLarge(HTTPException):
    """413. The connection stays open: uvicorn discards the rest of the body as it arrives
    (closing with unread bytes would reset the connection and lose the answer)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than {limit} bytes")


class BodyCounter:
    """The request's ``receive``, counting the body's bytes against ``limit``."""

    def __init__(self, receive: Receive, limit: int, declared: str | None) -> None:
        self.receive, self.limit, self.received = receive, limit, 0
        self.declared = None if declared is None else int(declared) if declared.isdigit() else -1

    async def __call__(self) -> Message:
        if self.declared is not None and not 0 <= self.declared <= self.limit:
            raise BodyTooLarge(self.limit)
        message = await self.receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                raise BodyTooLarge(self.limit)
        return message


class BodyLimit:
    """ASGI middleware: every request's body counted while it streams in (``max_body_bytes``
    unless the route says otherwise)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        counter = BodyCounter(receive, self.limit, Headers(scope=scope).get("content-length"))
        scope[SCOPE_KEY] = counter
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counter, sending)
        except BodyTooLarge as exc:  # raised where no exception handler answered it
            if started:
                raise
            await problem(413, exc.detail, exc.detail)(scope, receive, send)


def before_body(check: _Dependency) -> _Dependency:
    """Mark a dependency (taking only the request) to run before the body is read; one that
    yields is held until the route returns."""
    check.__dict__["before_body"] = True  # check.before_body, a function attribute
    return check


def set_body_limit(request: Request, limit: int) -> None:
    """This request's body may have up to ``limit`` bytes (a 413 above)."""
    counter: BodyCounter | None = request.scope.get(SCOPE_KEY)
    if counter is not None:
        counter.limit = limit
        if counter.declared is not None and not 0 <= counter.declared <= limit:
            raise BodyTooLarge(limit)


def body_limit(setting: str) -> Check:
    """A dependency: the route's body may have up to the app setting ``setting`` bytes."""

    async def dependency(request: Request) -> None:
        set_body_limit(request, getattr(kit_state(request).settings, setting))

    return before_body(dependency)


def _first_check(call: Any) -> Check:
    """What runs before the body: the dependency itself (``before_body``), or the check it
    names (``require_roles``: its own dependency takes the parsed bearer credentials)."""
    check = call.before_body
    first: Check = check if callable(check) else call
    return first


class ChecksFirstRoute(APIRoute):
    """An APIRoute running its ``before_body`` dependencies before FastAPI reads the body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        checks = [
            _first_check(dependant.call)
            for dependant in self.dependant.dependencies
            if getattr(dependant.call, "before_body", False)
        ]
        held = [asynccontextmanager(check) for check in checks if inspect.isasyncgenfunction(check)]
        checks = [check for check in checks if not inspect.isasyncgenfunction(check)]
        if not checks and not held:
            return handler

        async def checked(request: Request) -> Response:
            for check in checks:
                await check(request)
            async with AsyncExitStack() as stack:
                for hold in held:
                    await stack.enter_async_context(hold(request))
                return await handler(request)

        return checked
