"""A local stand-in for Meta's Graph API (``POST /<version>/<phone number id>/messages``): real
HTTP on a free loopback port, every request recorded, answers scripted by the test."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from serambi_kit import localstack


class FakeGraphApi:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: list[tuple[int, dict[str, Any]]] = []  # answers to give first, in order
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
        raise AssertionError(f"{len(self.messages_to(number))} messages to {number}, expected {count}: "
                             f"{self.requests}")

    def _answer(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> tuple[int, dict]:
        with self._lock:
            status, answer = self.script.pop(0) if self.script else (
                200, {"messaging_product": "whatsapp", "contacts": [{"input": body.get("to")}],
                      "messages": [{"id": f"wamid.graph-{len(self.requests) + 1}"}]})
            self.requests.append({"path": path, "authorization": headers.get("authorization"),
                                  "body": body, "status": status})
        return status, answer

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        graph = self

        class Handler(BaseHTTPRequestHandler):
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
