"""The services as their own OS processes, on a NATS and MongoDB-wire server of their own."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from serambi_testing import localstack
from serambi_testing.localstack import wait_ready


@dataclass
class Stack:
    env: dict[str, str]
    urls: dict[str, str]
    processes: dict[str, localstack.ManagedProcess]
    logs: Path

    def restart(self, name: str) -> None:
        self.processes[name].stop()
        self.processes[name].start(ready_timeout=30)
        wait_ready(self.urls[name])

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.logs.glob("*.log"))


def service_process(name: str, port: int, env: dict[str, str], logs: Path) -> localstack.ManagedProcess:
    return localstack.ManagedProcess(
        name,
        [sys.executable, "-m", f"serambi_{name}"],
        port,
        logs / f"{name}.log",
        env={**env, "SERAMBI_HTTP_PORT": str(port)},
    )


@contextmanager
def running_stack(
    base: Path, services: tuple[str, ...], extra_env: dict[str, str] | None = None
) -> Iterator[Stack]:
    """Its own nats-server and SecantusDB under ``base``, plus ``services`` as OS processes."""
    nats = localstack.nats_server(base / "nats", localstack.free_port()).start()
    mongo = localstack.mongo_server(base / "mongo", localstack.free_port(), base).start(60)
    env = {
        "SERAMBI_NATS_URL": localstack.nats_url(nats.port),
        "SERAMBI_MONGO_URL": localstack.mongo_url(mongo.port),
        "SERAMBI_ENVIRONMENT": "test",
        "SERAMBI_LOG_LEVEL": "DEBUG",
        "SERAMBI_PII_KEY_CACHE_SECONDS": "0.5",
        "SERAMBI_RATE_LIMITS": '{"submissions": 100000, "lookups": 100000}',
        **(extra_env or {}),
    }
    logs = base / "logs"
    processes = {name: service_process(name, localstack.free_port(), env, logs) for name in services}
    try:
        for process in processes.values():
            process.start(ready_timeout=30)
        urls = {name: f"http://127.0.0.1:{p.port}" for name, p in processes.items()}
        for url in urls.values():
            wait_ready(url)
        yield Stack(env, urls, processes, logs)
    finally:
        for process in (*processes.values(), mongo, nats):
            process.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Intake and scheduling, for the audience slice."""
    with running_stack(tmp_path_factory.mktemp("stack"), ("intake", "scheduling")) as running:
        yield running


@pytest.fixture(scope="session")
def stack_of():
    """``running_stack`` for tests in sub-folders, which cannot import this conftest."""
    return running_stack
