"""One call to a service's public API, with its failures sorted for the pages.

- the service is unreachable, times out or answers 5xx → ``BackendUnavailable`` ("coba lagi");
- 429 → ``Throttled`` (with the service's Retry-After);
- another 4xx → ``ApiError`` with the service's per-field errors (``field``, ``rule``, ``message``).

The calls go through aiohttp, one pooled session for all services: under 20 concurrent clients an
httpx GET cost the portal about 2.5 ms of CPU (its connection pool polls every idle socket on each
request), an aiohttp GET about 0.2 ms (docs/performance.md). Keyword arguments follow httpx's
(``headers``, ``json``, ``data``, ``files``, ``params``), and so does the answer (``Reply``).
A file the console hands on (a complaint's attachment) is not read whole: ``Backend.download``
gives a ``Download`` whose body is read 64 KiB at a time as the browser takes it.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import IO, Any

import aiohttp
from aiohttp.payload import DEFAULT_CHUNK_SIZE, IOBasePayload
from multidict import CIMultiDictProxy
from serambi_kit.logging import get_logger
from serambi_kit.tracing import inject

log = get_logger(__name__)
#: the citizen's address, sent on as X-Forwarded-For (the services trust it only when told to)
client_address: ContextVar[str | None] = ContextVar("client_address", default=None)
#: a form's files: (field, (file name, content, media type)); the content is bytes or an open
#: binary file, which is streamed (read in 64 KiB chunks), never held whole in memory
Files = list[tuple[str, tuple[str, bytes | IO[bytes], str]]]


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


@dataclass(frozen=True)
class Reply:
    """A service's answer, read whole (the part of ``httpx.Response`` the pages use)."""

    status_code: int
    headers: CIMultiDictProxy[str]
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


class Pool:
    """One aiohttp session (connection pool) for every service, opened on first use: aiohttp
    wants it made inside the event loop it serves (a test client runs a loop of its own)."""

    # below uvicorn's keep-alive (5 s), so a connection is not reused just as the service closes
    # it; aiohttp retries a GET once on a stale connection anyway
    KEEPALIVE_SECONDS = 4.0

    def __init__(self, timeout_seconds: float, max_connections: int = 200) -> None:
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self.max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._loop = loop
            connector = aiohttp.TCPConnector(
                limit=self.max_connections, keepalive_timeout=self.KEEPALIVE_SECONDS
            )
            self._session = aiohttp.ClientSession(connector=connector, timeout=self.timeout)
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        json: Any = None,
        data: dict[str, list[str]] | None = None,
        files: Files | None = None,
        params: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> Reply:
        options: dict[str, Any] = {"headers": headers, "json": json, "params": params}
        if data is not None or files:
            options["data"] = _form(data, files)
        if timeout is not None:  # else the session's (None would mean no limit at all)
            options["timeout"] = aiohttp.ClientTimeout(total=timeout)
        async with self.session().request(method, url, **options) as response:
            return Reply(response.status, response.headers, await response.read())

    async def open(
        self, method: str, url: str, *, headers: dict[str, str] | None = None, timeout: float
    ) -> aiohttp.ClientResponse:
        """A response whose body is still to be read. No limit on the whole (a file going on to a
        slow browser takes its time), but ``timeout`` to connect and for each read; aiohttp does
        not count the time reading is paused because the browser has not taken the last chunk."""
        limits = aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout)
        return await self.session().request(method, url, headers=headers, timeout=limits)


class Download:
    """A service's file (a 2xx answer) still on the wire: ``chunks()`` reads it 64 KiB at a
    time; ``close()`` gives the connection back, or closes it if the body was not read to the
    end (the browser went away)."""

    CHUNK = 64 * 1024

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.headers = response.headers

    async def chunks(self) -> AsyncIterator[bytes]:
        async for chunk in self.response.content.iter_chunked(self.CHUNK):
            yield chunk

    def close(self) -> None:
        self.response.release()


#: a seek and the read after it as one step: a retried relay's payload and the abandoned first
#: attempt's (still reading in a worker thread) may read the same spooled file at once
_FILE_READS = threading.Lock()


class _Stream(IOBasePayload):
    """An open file sent as a form part, its size measured up front: with every part's size
    known aiohttp sends a Content-Length, which the services require of a multipart body. The
    file stays the caller's to close: aiohttp's own payload closes it in a worker thread it does
    not wait for, which raced with the form's close (``ValueError: I/O operation on closed
    file``, a 500 after the complaint was accepted). Each payload reads from its own position,
    so a retry after a service's early 401 sends the whole file although the first attempt's
    writer may still be reading it (which moved the shared position: a body 256 KiB short)."""

    def _close(self) -> None:
        self._consumed = True

    def __init__(self, value: IO[bytes], content_type: str) -> None:
        with _FILE_READS:
            value.seek(0, 2)
            self._known_size = value.tell()
        self._position = 0
        super().__init__(value, content_type=content_type)

    @property
    def size(self) -> int:
        return self._known_size

    def _read_at_position(self, limit: int) -> bytes:
        with _FILE_READS:
            self._value.seek(self._position)
            chunk: bytes = self._value.read(limit)
        self._position += len(chunk)
        return chunk

    def _read_and_available_len(self, remaining_content_len: int | None) -> tuple[int | None, bytes]:
        self._position = 0
        first = min(
            DEFAULT_CHUNK_SIZE,
            self._known_size or DEFAULT_CHUNK_SIZE,
            remaining_content_len or DEFAULT_CHUNK_SIZE,
        )
        return self._known_size, self._read_at_position(first)

    def _read(self, remaining_content_len: int | None) -> bytes:
        return self._read_at_position(remaining_content_len or DEFAULT_CHUNK_SIZE)


def _form(data: dict[str, list[str]] | None, files: Files | None) -> aiohttp.FormData:
    """A urlencoded form, or multipart/form-data once it carries a file (as httpx sends them)."""
    form = aiohttp.FormData()
    for name, values in (data or {}).items():
        for value in values:
            form.add_field(name, value)
    for name, (filename, content, content_type) in files or []:
        part = content if isinstance(content, bytes) else _Stream(content, content_type)
        form.add_field(name, part, filename=filename, content_type=content_type)
    return form


def _error_of(response: Reply) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    errors = body.get("errors") if isinstance(body, dict) else None
    detail = body.get("detail") if isinstance(body, dict) else None
    return ApiError(
        response.status_code,
        errors if isinstance(errors, list) else [],
        str(detail or (body.get("error") if isinstance(body, dict) else "") or ""),
    )


def _forwarded(headers: dict[str, str] | None) -> dict[str, str]:
    """``headers`` plus what a service learns of the request the portal is answering: the
    citizen's address (``X-Forwarded-For``) and the trace (``traceparent``)."""
    headers = inject(headers)
    if (address := client_address.get()) is not None:
        headers["X-Forwarded-For"] = address
    return headers


class Backend:
    """A service's API at ``base_url`` through one shared connection pool."""

    def __init__(self, name: str, http: Pool, base_url: str) -> None:
        self.name, self.http, self.base_url = name, http, base_url.rstrip("/")

    async def call(self, method: str, path: str, **kwargs: Any) -> Reply:
        """The response of a 2xx; raises as the module says otherwise."""
        kwargs["headers"] = _forwarded(kwargs.get("headers"))
        try:
            response = await self.http.request(method, f"{self.base_url}{path}", **kwargs)
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise self._unreachable(exc) from None
        if (failure := self._failure(response)) is not None:
            raise failure
        return response

    async def download(self, path: str, headers: dict[str, str]) -> Download:
        """A file the service answers with, streamed (``Download``: the caller closes it); a
        failure raises as ``call``'s do, having read at most 64 KiB of the error's body."""
        headers = _forwarded(headers)
        try:
            response = await self.http.open(
                "GET", f"{self.base_url}{path}", headers=headers, timeout=self.http.timeout.total or 15.0
            )
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise self._unreachable(exc) from None
        if response.status < 400:
            return Download(response)
        body, limit = b"", Download.CHUNK
        try:
            while len(body) < limit and (part := await response.content.read(limit - len(body))):
                body += part
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise self._unreachable(exc) from None
        finally:
            response.release()
        failed = Reply(response.status, response.headers, body)
        raise self._failure(failed) or _error_of(failed)  # a 4xx or 5xx: never None here

    def _unreachable(self, exc: Exception) -> BackendUnavailable:
        log.warning("backend.unreachable", service=self.name, error=type(exc).__name__)
        return BackendUnavailable(self.name, type(exc).__name__)

    def _failure(self, response: Reply) -> Exception | None:
        """What a 4xx or 5xx answer raises (as the module says); None for any other."""
        if response.status_code >= 500:
            log.warning("backend.failed", service=self.name, status=response.status_code)
            return BackendUnavailable(self.name, f"HTTP {response.status_code}")
        if response.status_code == 429:
            return Throttled(response.headers.get("retry-after"))
        if response.status_code >= 400:
            return _error_of(response)
        return None

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
        """The service's ``/livez`` at the address the portal calls it at (its public port, which
        answers ``/livez`` too: ``serambi_kit.internal.LIVENESS``): "ok", or why not."""
        try:
            response = await self.http.request("GET", f"{self.base_url}/livez", timeout=2.0)
        except (TimeoutError, aiohttp.ClientError) as exc:
            return f"unreachable: {type(exc).__name__}"
        return "ok" if response.status_code == 200 else f"HTTP {response.status_code}"
