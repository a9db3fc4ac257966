"""One call to a service's public API, with its failures sorted for the pages.

- the service is unreachable, times out or answers 5xx → ``BackendUnavailable`` ("coba lagi");
- 429 → ``Throttled`` (with the service's Retry-After);
- another 4xx → ``ApiError`` with the service's per-field errors (``field``, ``rule``, ``message``).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import httpx
from serambi_kit.logging import get_logger

log = get_logger(__name__)
#: the citizen's address, sent on as X-Forwarded-For (the services trust it only when told to)
client_address: ContextVar[str | None] = ContextVar("client_address", default=None)


class BackendUnavailable(Exception):
    def __init__(self, service: str, reason: str) -> None:
        super().__init__(f"{service}: {reason}")
        self.service = service


class Throttled(Exception):
    def __init__(self, retry_after: str | None) -> None:
        super().__init__("too many requests")
        self.retry_after = retry_after


class ApiError(Exception):
    def __init__(self, status: int, errors: list[dict[str, str]], detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status, self.errors, self.detail = status, errors, detail


def _error_of(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    errors = body.get("errors") if isinstance(body, dict) else None
    detail = body.get("detail") if isinstance(body, dict) else None
    return ApiError(response.status_code, errors if isinstance(errors, list) else [],
                    str(detail or (body.get("error") if isinstance(body, dict) else "") or ""))


class Backend:
    """A service's API at ``base_url`` through one shared connection pool."""

    def __init__(self, name: str, http: httpx.AsyncClient, base_url: str) -> None:
        self.name, self.http, self.base_url = name, http, base_url.rstrip("/")

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The response of a 2xx; raises as the module says otherwise."""
        if (address := client_address.get()) is not None:
            kwargs["headers"] = {**kwargs.get("headers", {}), "X-Forwarded-For": address}
        try:
            response = await self.http.request(method, f"{self.base_url}{path}", **kwargs)
        except httpx.HTTPError as exc:
            log.warning("backend.unreachable", service=self.name, error=type(exc).__name__)
            raise BackendUnavailable(self.name, type(exc).__name__) from None
        if response.status_code >= 500:
            log.warning("backend.failed", service=self.name, status=response.status_code)
            raise BackendUnavailable(self.name, f"HTTP {response.status_code}")
        if response.status_code == 429:
            raise Throttled(response.headers.get("retry-after"))
        if response.status_code >= 400:
            raise _error_of(response)
        return response

    async def json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return (await self.call(method, path, **kwargs)).json()

    async def found(self, method: str, path: str, **kwargs: Any) -> dict[str, Any] | None:
        """The JSON body, or None for a 404 (unknown code or wrong token: the same answer)."""
        try:
            return await self.json(method, path, **kwargs)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    async def alive(self) -> str:
        try:
            response = await self.http.get(f"{self.base_url}/livez", timeout=2.0)
        except httpx.HTTPError as exc:
            return f"unreachable: {type(exc).__name__}"
        return "ok" if response.status_code == 200 else f"HTTP {response.status_code}"
