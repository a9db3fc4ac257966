"""A Serambi stack as OS processes on loopback, for the end-to-end and fault tests, the browser
tests and the benchmarks: one launcher of the services (``service_process``) and two stacks.

- ``running_stack``: nats-server and SecantusDB of its own under the caller's directory (free
  ports), plus the services by name (``Stack``); the end-to-end tests' stack.
- ``local_stack``: the same servers, plus an SMTP and an SMS sink in this process, and the
  services (``scheduling-2`` is a second replica of scheduling) linked to each other and to the
  sinks (``LocalStack``), each a ``ManagedProcess`` the caller can SIGKILL, SIGSTOP, restart or
  measure by its pid; the fault tests', the browser tests' and the load benchmark's.

Unlike ``serambi dev up`` nothing is supervised: a process that dies stays down until
``start`` is called, which is what a fault test needs.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import localstack
from .localstack import wait_ready
from .sinks import MailboxHandler, serving_sms, serving_smtp, sms_server


def service_process(
    name: str, env: dict[str, str], logs: Path, port: int | None = None, service: str | None = None
) -> localstack.ManagedProcess:
    """``python -m serambi_<service>`` on ``port`` (a free one by default), not started, its log
    ``logs/<name>.log``; ``service`` defaults to the name up to a dash (``scheduling-2`` is a
    second replica of scheduling)."""
    port = port or localstack.free_port()
    return localstack.ManagedProcess(
        name,
        [sys.executable, "-m", f"serambi_{service or name.split('-')[0]}"],
        port,
        logs / f"{name}.log",
        env={**env, "SERAMBI_HTTP_PORT": str(port)},
    )


@dataclass
class Stack:
    """A ``running_stack``: the services' environment, URLs and processes by name."""

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


@contextmanager
def running_stack(
    base: Path, services: tuple[str, ...], extra_env: dict[str, str] | None = None
) -> Iterator[Stack]:
    """Its own nats-server and SecantusDB under ``base``, plus ``services`` as OS processes."""
    with localstack.servers(base) as (nats, mongo):
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
        processes = {name: service_process(name, env, logs) for name in services}
        try:
            for process in processes.values():
                process.start(ready_timeout=30)
            urls = {name: f"http://127.0.0.1:{p.port}" for name, p in processes.items()}
            for url in urls.values():
                wait_ready(url)
            yield Stack(env, urls, processes, logs)
        finally:
            for process in processes.values():
                process.stop()


@dataclass
class LocalStack:
    base: Path
    env: dict[str, str]
    nats: localstack.ManagedProcess
    mongo: localstack.ManagedProcess
    services: dict[str, localstack.ManagedProcess]  # "scheduling", "scheduling-2", ...
    mailbox: MailboxHandler
    mail_dir: Path
    events: list[str] = field(default_factory=list)  # what the fault injector did, for the log

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.services[name].port}"

    def note(self, text: str) -> None:
        self.events.append(f"{time.monotonic():.1f} {text}")

    def kill9(self, name: str) -> None:
        self.services[name].kill()  # SIGKILL, then reap
        self.note(f"SIGKILL {name}")

    def start(self, name: str) -> None:
        self.services[name].start(ready_timeout=60)
        wait_ready(self.url(name), 60)
        self.note(f"started {name}")

    def restart_mongo(self, down_seconds: float) -> None:
        self.mongo.stop()
        self.note("mongo stopped")
        time.sleep(down_seconds)
        self.mongo.start(60)
        self.note("mongo started")

    def sink_duplicates(self) -> int:
        directory = self.mail_dir / "duplicates"
        return len(list(directory.glob("*.eml"))) if directory.exists() else 0

    def log_tail(self, chars: int = 3000) -> str:
        return "\n".join(
            f"== {p.name}\n{p.read_text(errors='replace')[-chars:]}"
            for p in sorted((self.base / "logs").glob("*.log"))
        )


def _link(name: str, processes: dict[str, localstack.ManagedProcess]) -> None:
    """Tell ``name`` where the others listen: the notifier's links, the portal's back ends."""
    env, ports = processes[name].env, {n: p.port for n, p in processes.items()}
    if name == "notifier":
        if "scheduling" in ports:
            env["SERAMBI_LETTERS_BASE_URL"] = f"http://127.0.0.1:{ports['scheduling']}/api/v1/letters"
        if "web" in ports:
            env["SERAMBI_PUBLIC_BASE_URL"] = f"http://127.0.0.1:{ports['web']}"
    if name == "web":
        for backend in ("intake", "complaints", "scheduling", "notifier"):
            if backend in ports:
                env[f"SERAMBI_{backend.upper()}_URL"] = f"http://127.0.0.1:{ports[backend]}"


@contextmanager
def local_stack(
    base: Path, services: tuple[str, ...], extra_env: dict[str, str] | None = None
) -> Iterator[LocalStack]:
    """``services`` by name; ``scheduling-2`` is a second replica of scheduling; ``web`` is the
    portal, pointed at the intake, complaints and scheduling of the same stack."""
    logs = base / "logs"
    mail_dir = base / "mail"
    mailbox = MailboxHandler(mail_dir)
    with (
        serving_smtp(mailbox, localstack.free_port()) as smtp,
        serving_sms(sms_server(localstack.free_port(), base / "sms")) as sms,
    ):
        nats_process = localstack.nats_server(base / "nats", localstack.free_port(), log_dir=logs)
        mongo = localstack.mongo_server(base / "mongo", localstack.free_port(), logs)
        started: list[localstack.ManagedProcess] = []
        processes: dict[str, localstack.ManagedProcess] = {}
        try:
            nats_process.start()
            started.append(nats_process)
            mongo.start(60)
            started.append(mongo)
            env = {
                "SERAMBI_NATS_URL": localstack.nats_url(nats_process.port),
                "SERAMBI_MONGO_URL": localstack.mongo_url(mongo.port),
                "SERAMBI_ENVIRONMENT": "test",
                "SERAMBI_LOG_LEVEL": "INFO",
                "SERAMBI_PII_KEY_CACHE_SECONDS": "5",
                "SERAMBI_RATE_LIMITS": '{"submissions": 1000000, "lookups": 1000000}',
                "SERAMBI_SMTP_HOST": "127.0.0.1",
                "SERAMBI_SMTP_PORT": str(smtp.port),
                "SERAMBI_SMS_URL": f"http://127.0.0.1:{sms.server_address[1]}/json/messages",
                "SERAMBI_QUIET_HOURS_START": "00:00",  # no quiet hours: the tests run at any hour
                "SERAMBI_QUIET_HOURS_END": "00:00",
                "SERAMBI_DELIVERY_LEASE_SECONDS": "4",
                "SERAMBI_SMTP_TIMEOUT_SECONDS": "2",
                "SERAMBI_SMS_TIMEOUT_SECONDS": "2",
                "SERAMBI_DISPATCH_POLL_SECONDS": "0.2",
                "SERAMBI_CONTACT_WAIT_SECONDS": "2",
                **(extra_env or {}),
            }
            for name in services:
                processes[name] = service_process(name, env, logs)
            stack = LocalStack(base, env, nats_process, mongo, processes, mailbox, mail_dir)
            for name in services:
                _link(name, processes)
                processes[name].start(ready_timeout=60)
            for name in services:
                wait_ready(stack.url(name), 60)
            yield stack
        finally:
            for process in (*processes.values(), *reversed(started)):
                if process.alive() and process.pid:
                    try:
                        os.kill(process.pid, signal.SIGCONT)  # a paused process cannot terminate
                    except ProcessLookupError:
                        pass
                process.stop()


@contextmanager
def oidc_provider(base: Path) -> Iterator[str]:
    """The development OpenID provider (serambi_ops.devidp) on a free port, its log in ``base``;
    yields its URL. ``oidc_env`` points a console stack's services at it."""
    port = localstack.free_port()
    process = localstack.ManagedProcess(
        "oidc",
        [sys.executable, "-m", "serambi_ops.devidp", "--port", str(port)],
        port,
        base / "oidc.log",
        env={"SERAMBI_ENVIRONMENT": "test"},
    ).start(ready_timeout=30)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stop()


def oidc_env(provider: str) -> dict[str, str]:
    """The settings that make the services trust ``provider``'s tokens and the console sign in there."""
    return {
        "SERAMBI_AUTH_ISSUER": provider,
        "SERAMBI_AUTH_JWKS_URL": f"{provider}/jwks",
        "SERAMBI_OIDC_ISSUER": provider,
    }


# -- sample cases for driving a stack -------------------------------------------------------------


def sample_request(marker: str) -> dict[str, Any]:
    """An audience request (nested form, see ``request_form``) whose topic ends with ``marker``
    and whose addresses are the marker's own."""
    return {
        "requester": {
            "name": "Siti Aminah",
            "position": "Sekretaris Dinas",
            "institution": "Dinas Perindustrian Kota Singkawang",
            "institution_type": "local_government",
            "email": f"{marker.lower()}@example.go.id",
            "phone": "0813 4567 8901",
        },
        "topic": f"Uji {marker}",
        "purpose": "Audiensi program hilirisasi komoditas daerah.",
        "participants": 3,
    }


def sample_complaint(marker: str) -> dict[str, Any]:
    """A named complaint whose summary ends with ``marker`` and whose address is the marker's own."""
    return {
        "disclosure": "named",
        "name": "Budi Santoso",
        "email": f"{marker.lower()}@example.id",
        "summary": f"Layanan lambat {marker}",
        "description": "Permohonan saya belum dijawab.",
    }
