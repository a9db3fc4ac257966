"""Local sinks so a person running the stack can read what was sent.

- SMTP sink (aiosmtpd): every message is kept as an ``.eml`` file under the directory, one per
  Message-ID; a message whose Message-ID was seen before (a resend) is kept under
  ``duplicates/`` instead, so the directory reads as what a deduplicating mailbox would show.
- SMS sink (HTTP): every request is appended to ``sms.jsonl`` (path, headers that matter, form or
  JSON body) and answered like a gateway would:

  * ``POST /json/…`` — a JSON API with bearer auth (``--token``): ``{"to", "text",
    "client_message_id"}`` → ``{"message_id", "status": "queued"}``; a repeated client message id
    gets the first answer again and is recorded with ``"duplicate": true``;
  * ``POST /zenziva/…`` — a Zenziva-style form API (``userkey``, ``passkey``, ``to``,
    ``message``) → ``{"messageId", "to", "status": "1", "text": "Success"}``, or ``status "0"``
    for a number that is not an Indonesian mobile number;
  * any other ``POST`` → ``{"status": "ok", "message_id"}``.

  ``POST /_control/fail`` with ``{"statuses": [503, 429]}`` makes the next requests answer those
  HTTP statuses (for trying out retries).

Run as ``python -m serambi_testing.sinks smtp|sms --port N --directory DIR``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import re
import threading
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

MAX_SMS_BODY = 64 * 1024
SECRET_FIELDS = frozenset({"passkey", "password", "api_key", "apikey", "token"})  # never recorded
_ZENZIVA_NUMBER = re.compile(r"^(0|62)8\d{7,12}$")


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def message_key(message_id: str) -> str:
    return hashlib.sha256(message_id.strip().encode()).hexdigest()[:16]


class MailboxHandler:
    """aiosmtpd handler: one ``.eml`` file per Message-ID; repeats go to ``duplicates/``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.duplicates = directory / "duplicates"
        directory.mkdir(parents=True, exist_ok=True)
        self.seen = {path.stem.rsplit("-", 1)[-1] for path in directory.glob("*.eml")}
        self.accepted = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 — aiosmtpd API
        content: bytes = envelope.content
        headers = BytesHeaderParser().parsebytes(content)
        message_id = headers.get("Message-ID") or f"<{uuid.uuid4().hex}@sink>"
        key = message_key(message_id)
        with self._lock:
            self.accepted += 1
            duplicate = key in self.seen
            self.seen.add(key)
        target = self.duplicates if duplicate else self.directory
        target.mkdir(parents=True, exist_ok=True)
        (target / f"{_stamp()}-{key}.eml").write_bytes(content)
        return "250 Message accepted for delivery"


def run_smtp(port: int, directory: Path) -> None:
    from aiosmtpd.controller import Controller

    controller = Controller(MailboxHandler(directory), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"SMTP sink on 127.0.0.1:{port}, messages in {directory}", flush=True)
    try:
        asyncio.run(asyncio.Event().wait())
    finally:
        controller.stop()


class SmsSink:
    """The SMS sink's state: the log file, answers by client message id, injected failures."""

    def __init__(self, log_file: Path, token: str | None = None) -> None:
        self.log_file = log_file
        self.token = token
        self.answers: dict[str, dict] = {}
        self.failures: deque[int] = deque()
        self.lock = threading.Lock()

    def record(self, record: dict) -> None:
        with self.lock, self.log_file.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")

    def next_failure(self) -> int | None:
        with self.lock:
            return self.failures.popleft() if self.failures else None

    def answer_json(self, body: dict) -> tuple[dict, bool]:
        client_id = str(body.get("client_message_id") or "")
        with self.lock:
            if client_id and client_id in self.answers:
                return self.answers[client_id], True
            answer = {"message_id": uuid.uuid4().hex, "status": "queued"}
            if client_id:
                self.answers[client_id] = answer
            return answer, False


def sms_handler(sink: SmsSink | Path) -> type[BaseHTTPRequestHandler]:
    state = sink if isinstance(sink, SmsSink) else SmsSink(sink)

    class SmsSinkHandler(BaseHTTPRequestHandler):
        def _reply(self, status: int, answer: dict) -> None:
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802 — http.server API
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_SMS_BODY:
                self.send_error(413, "body too large")
                return
            raw = self.rfile.read(length).decode("utf-8", "replace")
            kind = self.headers.get("Content-Type", "")
            try:
                body = (
                    json.loads(raw or "{}")
                    if "json" in kind
                    else {k: v[0] if len(v) == 1 else v for k, v in parse_qs(raw).items()}
                )
            except ValueError:
                self._reply(400, {"error": "body is not JSON"})
                return
            if self.path.startswith("/_control/fail"):
                with state.lock:
                    state.failures.extend(int(s) for s in body.get("statuses", []))
                self._reply(200, {"queued_failures": len(state.failures)})
                return
            shown = {k: "***" if k in SECRET_FIELDS else v for k, v in body.items()}
            record = {
                "received_at": datetime.now(UTC).isoformat(),
                "path": self.path,
                "content_type": kind,
                "body": shown,
            }
            failure = state.next_failure()
            if failure is not None:
                state.record({**record, "answered": failure})
                self._reply(failure, {"error": "injected failure"})
                return
            status, answer, duplicate = self._answer(body)
            state.record({**record, "answered": status, "answer": answer, "duplicate": duplicate})
            self._reply(status, answer)

        def _answer(self, body: dict) -> tuple[int, dict, bool]:
            if self.path.startswith("/json"):
                if state.token is not None:
                    given = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    if not hmac.compare_digest(given.encode(), state.token.encode()):
                        return 401, {"error": "bad bearer token"}, False
                if not body.get("to") or not body.get("text"):
                    return 400, {"error": "to and text are required"}, False
                answer, duplicate = state.answer_json(body)
                return 200, answer, duplicate
            if self.path.startswith("/zenziva"):
                number = str(body.get("to", ""))
                if not _ZENZIVA_NUMBER.match(number):
                    return 200, {"status": "0", "text": "Nomor tujuan tidak valid", "to": number}, False
                return (
                    200,
                    {"messageId": uuid.uuid4().hex[:12], "to": number, "status": "1", "text": "Success"},
                    False,
                )
            return 200, {"status": "ok", "message_id": uuid.uuid4().hex}, False

        def log_message(self, *_: object) -> None:
            return

    return SmsSinkHandler


def sms_server(port: int, directory: Path, token: str | None = None) -> ThreadingHTTPServer:
    directory.mkdir(parents=True, exist_ok=True)
    sink = SmsSink(directory / "sms.jsonl", token)
    return ThreadingHTTPServer(("127.0.0.1", port), sms_handler(sink))


@contextmanager
def serving_smtp(handler: object, port: int) -> Iterator[Any]:
    """An aiosmtpd server on 127.0.0.1:``port`` handing messages to ``handler`` in a thread of
    this process (the ``Controller``: its ``port``), stopped on the way out."""
    from aiosmtpd.controller import Controller

    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


@contextmanager
def serving_sms(server: ThreadingHTTPServer) -> Iterator[ThreadingHTTPServer]:
    """``server`` (``sms_server``, or one with its own ``sms_handler``) answering in a thread of
    this process, shut down on the way out."""
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def run_sms(port: int, directory: Path, token: str | None = None) -> None:
    server = sms_server(port, directory, token)
    print(f"SMS sink on http://127.0.0.1:{port}, requests in {directory / 'sms.jsonl'}", flush=True)
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=("smtp", "sms"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--directory", type=Path, required=True)
    parser.add_argument("--token", default=None, help="sms: require this bearer token on /json")
    args = parser.parse_args()
    if args.kind == "smtp":
        run_smtp(args.port, args.directory)
    else:
        run_sms(args.port, args.directory, args.token)


if __name__ == "__main__":
    main()
