"""Start the real infrastructure processes on loopback: nats-server and SecantusDB.

Used by ``serambi dev up`` (serambi_ops.devstack), by the test fixtures and by the benchmarks
(free ports, temporary directories). Development and test code only: no image installs it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient
from serambi_kit.settings import LOCAL_MONGO_OPTIONS


class StartError(RuntimeError):
    """A process did not start or did not become ready in time."""


class DatabaseHung(RuntimeError):
    """The database server did not answer a test's clean-up in time."""


async def drop_databases(client: AsyncMongoClient[Any], *names: str, timeout: float = 30.0) -> None:
    """Drop a test's databases, each within ``timeout`` seconds, or raise ``DatabaseHung``.

    A fixture's teardown ends with this: a server that hangs (SecantusDB 0.7 deadlocked once)
    then fails it with a plain reason, and tests/conftest.py stops the run, instead of every
    later test waiting out pytest-timeout's 300 s on the same server."""
    for name in names:
        try:
            await asyncio.wait_for(client.drop_database(name), timeout)
        except TimeoutError as exc:
            raise DatabaseHung(f"dropping {name!r} took over {timeout:g} s: the server hangs") from exc


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def find_binary(name: str) -> str:
    """A console script of this environment first (the venv's bin), then PATH."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if not found:
        raise StartError(f"{name} not found: run `make install`")
    return found


def wait_for_port(port: int, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise StartError(f"process exited with {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise StartError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@dataclass
class ManagedProcess:
    """A child process with a name, a port, and where its output goes."""

    name: str
    args: list[str]
    port: int
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    def start(self, ready_timeout: float = 20.0) -> ManagedProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.args,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **self.env},
            start_new_session=True,
        )
        log.close()
        try:
            wait_for_port(self.port, ready_timeout, self.process)
        except StartError as exc:
            self.stop()
            tail = self.log_path.read_text(errors="replace")[-2000:]
            raise StartError(f"{self.name}: {exc}\n{tail}") from exc
        return self

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if not self.alive():
            return
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)

    def kill(self) -> None:
        if self.alive():
            assert self.process is not None
            self.process.kill()
            self.process.wait(10)


def nats_server_args(
    data_dir: Path, port: int, monitor_port: int | None = None, name: str | None = None
) -> list[str]:
    """nats-server with JetStream on 127.0.0.1:``port``, its store in ``data_dir`` (the command
    line of the tests' servers and of ``serambi dev up``'s)."""
    args = [find_binary("nats-server"), "-js", "-a", "127.0.0.1", "-p", str(port)]
    args += ["-sd", str(data_dir), "-n", name or f"serambi-{port}"]
    if monitor_port:
        args += ["-m", str(monitor_port)]
    return args


def mongo_server_args(data_dir: Path, port: int) -> list[str]:
    """SecantusDB on 127.0.0.1:``port``, its data in ``data_dir`` (the command line of the tests'
    servers and of ``serambi dev up``'s)."""
    args = [find_binary("secantusd-py"), "--host", "127.0.0.1", "--port", str(port)]
    return args + ["--storage-path", str(data_dir), "--log-level", "WARNING"]


def nats_server(
    data_dir: Path, port: int, monitor_port: int | None = None, log_dir: Path | None = None
) -> ManagedProcess:
    args = nats_server_args(data_dir, port, monitor_port)
    return ManagedProcess("nats", args, port, (log_dir or data_dir) / "nats.log")


def mongo_server(data_dir: Path, port: int, log_dir: Path | None = None) -> ManagedProcess:
    args = mongo_server_args(data_dir, port)
    return ManagedProcess("mongodb-wire", args, port, (log_dir or data_dir) / "secantus.log")


@contextmanager
def servers(base: Path) -> Iterator[tuple[ManagedProcess, ManagedProcess]]:
    """A fresh nats-server (data in ``base/nats``) and SecantusDB (``base/mongo``, its log in
    ``base``) on free ports, started, then stopped on the way out: (nats, mongo)."""
    nats = nats_server(base / "nats", free_port()).start()
    try:
        mongo = mongo_server(base / "mongo", free_port(), base).start(60)
        try:
            yield nats, mongo
        finally:
            mongo.stop()
    finally:
        nats.stop()


def nats_url(port: int) -> str:
    return f"nats://127.0.0.1:{port}"


def mongo_url(port: int) -> str:
    return f"mongodb://127.0.0.1:{port}/?{LOCAL_MONGO_OPTIONS}"


def wait_ready(url: str, timeout: float = 30.0) -> None:
    """Wait until a service's ``/readyz`` answers 200 (its NATS and MongoDB are reachable)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=1.0) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:  # connection refused, 503 (HTTPError), timeouts
            pass
        time.sleep(0.1)
    raise StartError(f"{url} not ready after {timeout}s")
