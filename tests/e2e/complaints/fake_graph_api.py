"""A local stand-in for Meta's Graph API (``POST /<version>/<phone number id>/messages``, and a
citizen's media: ``GET /<version>/<media id>`` → its URL, ``GET`` that URL → the bytes, both with
the access token): real HTTP on a free loopback port, every request recorded, answers scripted
by the test. Message ids are shaped like Meta's: ``wamid.`` and base64 holding the number."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from serambi_testing import localstack


def wamid(number: str, serial: int = 1) -> str:
    """A message id as Meta makes them: ``wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA``
    is the base64 of a record holding the other party's number (16505076520) and an id."""
    digits = "".join(ch for ch in number if ch.isdigit()).encode()
    inner = hashlib.sha256(f"{number}:{serial}".encode()).hexdigest()[:18].upper().encode()
    return (
        "wamid."
        + base64.b64encode(
            b"\x1c\x18" + bytes([len(digits)]) + digits + b"\x15\x02\x00\x11\x18\x12" + inner + b"\x00"
        ).decode()
    )


class FakeGraphApi:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: list[tuple[int, dict[str, Any]]] = []  # answers to give first, in order
        self.media: dict[str, bytes] = {}  # media id → the file a citizen sent
        self.media_script: list[int] = []  # statuses of the next media lookups (e.g. 503, 404)
        self.token = "test-token"  # noqa: S105 — the access token media requests must carry
        self.port = localstack.free_port()
        self.url = f"http://127.0.0.1:{self.port}/v21.0"
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeGraphApi:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def messages_to(self, number: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r["status"] < 300 and r["body"].get("to") == number]

    def wait_for(self, number: str, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(found := self.messages_to(number)) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(
            f"{len(self.messages_to(number))} messages to {number}, expected {count}: {self.requests}"
        )

    def _answer(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> tuple[int, dict]:
        with self._lock:
            status, answer = (
                self.script.pop(0)
                if self.script
                else (
                    200,
                    {
                        "messaging_product": "whatsapp",
                        "contacts": [{"input": body.get("to")}],
                        "messages": [{"id": wamid(str(body.get("to")), len(self.requests) + 1)}],
                    },
                )
            )
            self.requests.append(
                {
                    "path": path,
                    "authorization": headers.get("authorization"),
                    "body": body,
                    "status": status,
                    "id": (answer.get("messages") or [{}])[0].get("id"),
                }
            )
        return status, answer

    def media_requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r.get("method") == "GET"]

    def _media(self, path: str, headers: dict[str, str]) -> tuple[int, str, bytes]:
        """A media lookup (JSON with the URL) or a download (the bytes)."""
        with self._lock:
            self.requests.append(
                {
                    "method": "GET",
                    "path": path,
                    "authorization": headers.get("authorization"),
                    "body": {},
                    "status": 0,
                }
            )
            if headers.get("authorization") != f"Bearer {self.token}":
                return 401, "application/json", b'{"error": {"message": "bad token", "code": 190}}'
            if path.startswith("/files/"):
                media_id = path.removeprefix("/files/")
                return (
                    (200, "application/octet-stream", self.media[media_id])
                    if media_id in self.media
                    else (404, "text/plain", b"gone")
                )
            media_id = path.rsplit("/", 1)[-1]
            status = self.media_script.pop(0) if self.media_script else 200
            if status != 200 or media_id not in self.media:
                status = status if status != 200 else 404
                return (
                    status,
                    "application/json",
                    json.dumps({"error": {"message": "media unavailable", "code": 100}}).encode(),
                )
            content = self.media[media_id]
            answer = {
                "messaging_product": "whatsapp",
                "url": f"http://127.0.0.1:{self.port}/files/{media_id}",
                "mime_type": "application/octet-stream",
                "sha256": hashlib.sha256(content).hexdigest(),
                "file_size": str(len(content)),
                "id": media_id,
            }
            return 200, "application/json", json.dumps(answer).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        graph = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 — http.server's naming
                headers = {key.lower(): value for key, value in self.headers.items()}
                status, content_type, data = graph._media(self.path, headers)
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802 — http.server's naming
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {key.lower(): value for key, value in self.headers.items()}
                status, answer = graph._answer(self.path, headers, json.loads(raw or b"{}"))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: object) -> None:
                return None

        return Handler
