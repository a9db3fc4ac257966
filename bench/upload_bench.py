"""Intake's memory under maximum-size chunked uploads (issue #19, item 1).

Intake runs as its own process on a fresh nats-server and SecantusDB. Its resident memory is
sampled every 20 ms while 16 clients upload at once, each sending a request form chunked (no
Content-Length) with both documents at their maximum size (SERAMBI_MAX_DOCUMENT_BYTES); then
while 16 clients send chunked bodies past SERAMBI_MAX_REQUEST_BYTES (each answered 413), and
while 16 send forms of 23 files of 1 MiB (the review's many-parts body, refused at the third
file). The figure is the peak RSS next to the idle RSS of the same process. Goal: peak ≤ 1.5 ×
idle.

Run: .venv/bin/python bench/upload_bench.py [--clients 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from common import rss_mb, servers  # noqa: E402
from serambi_ops.commands.demo import DEMO_REQUEST, SAMPLE_PDF, SAMPLE_PNG, request_form  # noqa: E402
from serambi_testing import localstack  # noqa: E402

DOCUMENT_BYTES = 10_000_000  # intake's default SERAMBI_MAX_DOCUMENT_BYTES
REQUEST_BYTES = 25_000_000  # intake's default SERAMBI_MAX_REQUEST_BYTES
BOUNDARY = "serambi-bench-boundary"
CHUNK = 64 * 1024
GOAL = 1.5


def _part(name: str, filename: str | None = None, media: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
    return (head + (f"Content-Type: {media}\r\n" if media else "") + "\r\n").encode()


async def _document(magic: bytes, size: int) -> AsyncIterator[bytes]:
    yield magic
    sent = len(magic)
    while sent < size:
        piece = min(CHUNK, size - sent)
        yield bytes(piece)
        sent += piece


async def many_parts_body(parts: int = 23, size: int = 1024 * 1024) -> AsyncIterator[bytes]:
    """A form of ``parts`` files of ``size`` bytes each, in 64 KiB chunks."""
    for _ in range(parts):
        yield _part("request_letter", "surat.pdf", "application/pdf")
        async for chunk in _document(SAMPLE_PDF, size):
            yield chunk
        yield b"\r\n"
    yield f"--{BOUNDARY}--\r\n".encode()


async def upload_body(document_bytes: int) -> AsyncIterator[bytes]:
    """A complete request form, both documents ``document_bytes`` long, in 64 KiB chunks."""
    for name, value in request_form(DEMO_REQUEST).items():
        for item in value if isinstance(value, list) else [value]:
            yield _part(name) + str(item).encode() + b"\r\n"
    for name, filename, media, magic in (
        ("request_letter", "surat.pdf", "application/pdf", SAMPLE_PDF),
        ("identity_document", "ktp.png", "image/png", SAMPLE_PNG),
    ):
        yield _part(name, filename, media)
        async for chunk in _document(magic, document_bytes):
            yield chunk
        yield b"\r\n"
    yield f"--{BOUNDARY}--\r\n".encode()


class Sampler:
    """The process's RSS every 20 ms in a thread; ``peak`` since the last ``reset``."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mb(self.pid))

    def reset(self) -> None:
        self.peak = rss_mb(self.pid)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


async def uploads(url: str, clients: int, document_bytes: int | None) -> Counter:
    """``clients`` forms at once: both documents ``document_bytes`` long, or (None) many parts."""
    headers = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        answers = await asyncio.gather(
            *(
                client.post(
                    "/api/v1/requests",
                    headers=headers,
                    content=many_parts_body() if document_bytes is None else upload_body(document_bytes),
                )
                for _ in range(clients)
            )
        )
    return Counter(answer.status_code for answer in answers)


async def main(clients: int) -> int:
    with servers() as urls, tempfile.TemporaryDirectory() as logs:
        port = localstack.free_port()
        intake = localstack.ManagedProcess(
            "intake",
            [sys.executable, "-m", "serambi_intake"],
            port,
            Path(logs) / "intake.log",
            env={
                "SERAMBI_NATS_URL": urls.nats_url,
                "SERAMBI_MONGO_URL": urls.mongo_url,
                "SERAMBI_HTTP_PORT": str(port),
                "SERAMBI_LOG_LEVEL": "WARNING",
                "SERAMBI_ENVIRONMENT": "test",
                "SERAMBI_RATE_LIMITS": '{"submissions": 100000}',
                "PATH": os.environ["PATH"],
            },
        ).start(ready_timeout=30)
        url = f"http://127.0.0.1:{port}"
        try:
            assert intake.pid is not None
            warm = await uploads(url, 2, 100_000)  # warm-up: every code path loaded once
            await asyncio.sleep(1)
            idle = rss_mb(intake.pid)
            sampler = Sampler(intake.pid)  # refused first: memory a process took stays taken
            refused = await uploads(url, clients, REQUEST_BYTES // 2 + 1_000_000)
            peak_refused = sampler.peak
            sampler.reset()
            many = await uploads(url, clients, None)
            peak_many = sampler.peak
            sampler.reset()
            started = time.perf_counter()
            accepted = await uploads(url, clients, DOCUMENT_BYTES)
            stored_in = time.perf_counter() - started
            peak_accepted = sampler.peak
            sampler.stop()
        finally:
            intake.stop()
    ok = True
    print(f"intake idle RSS after warm-up ({dict(warm)}): {idle:.0f} MiB")
    for label, answers, peak in (
        (f"{clients} concurrent chunked uploads past {REQUEST_BYTES:,} B", refused, peak_refused),
        (f"{clients} concurrent chunked forms of 23 files of 1 MiB", many, peak_many),
        (f"{clients} concurrent chunked uploads, 2 x {DOCUMENT_BYTES:,} B", accepted, peak_accepted),
    ):
        ratio = peak / idle
        ok = ok and ratio <= GOAL
        print(
            f"{label:<58} answers {dict(answers)}  peak RSS {peak:.0f} MiB  "
            f"ratio {ratio:.2f} (goal ≤ {GOAL}) {'meets' if ratio <= GOAL else 'ABOVE'}"
        )
    print(
        f"the {clients} accepted uploads took {stored_in:.1f} s "
        f"({clients * 2 * DOCUMENT_BYTES / stored_in / 1e6:.0f} MB/s of documents)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=16)
    sys.exit(asyncio.run(main(parser.parse_args().clients)))
