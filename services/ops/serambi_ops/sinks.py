"""Local sinks so a person running the stack can read what was sent.

- SMTP sink (aiosmtpd): every message is kept as an ``.eml`` file.
- SMS sink (HTTP): every request (path, headers, form or JSON body) is appended to a JSON-lines
  file and answered like a gateway would (``{"status": "ok", "message_id": …}``).

Run as ``python -m serambi_ops.sinks smtp|sms --port N --directory DIR``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

MAX_SMS_BODY = 64 * 1024


class MailboxHandler:
    """aiosmtpd handler: one ``.eml`` file per accepted message."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 — aiosmtpd API
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        (self.directory / f"{stamp}-{uuid.uuid4().hex[:8]}.eml").write_bytes(envelope.content)
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


def sms_handler(log_file: Path) -> type[BaseHTTPRequestHandler]:
    class SmsSinkHandler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 — http.server API
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_SMS_BODY:
                self.send_error(413, "body too large")
                return
            raw = self.rfile.read(length).decode("utf-8", "replace")
            kind = self.headers.get("Content-Type", "")
            body = json.loads(raw or "{}") if "json" in kind else parse_qs(raw)
            message_id = uuid.uuid4().hex
            record = {
                "received_at": datetime.now(UTC).isoformat(), "path": self.path,
                "content_type": kind, "body": body, "message_id": message_id,
            }
            with log_file.open("a", encoding="utf-8") as out:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            answer = json.dumps({"status": "ok", "message_id": message_id}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *_: object) -> None:
            return

    return SmsSinkHandler


def run_sms(port: int, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    log_file = directory / "sms.jsonl"
    server = ThreadingHTTPServer(("127.0.0.1", port), sms_handler(log_file))
    print(f"SMS sink on http://127.0.0.1:{port}, requests in {log_file}", flush=True)
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=("smtp", "sms"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--directory", type=Path, required=True)
    args = parser.parse_args()
    (run_smtp if args.kind == "smtp" else run_sms)(args.port, args.directory)


if __name__ == "__main__":
    main()
