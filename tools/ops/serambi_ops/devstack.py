"""`serambi dev up`: the whole local stack in the foreground, supervised.

Starts nats-server (JetStream, 127.0.0.1) and SecantusDB with data under ``var/``, applies the
streams, then the SMTP and SMS sinks, the development OpenID provider (port 8010, its signing
key kept in ``var/oidc``), the four services and the web service (portal and officer console,
port 8000), each its own OS process. Output of
each process goes to ``var/log/<name>.log``; the services' lines are also echoed here, prefixed.
A process that exits is restarted with a growing delay (1 s … 30 s) and its exit is logged.
Ctrl-C (or SIGTERM) stops everything: services first, then sinks, then the databases.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from serambi_kit.settings import ServiceSettings
from serambi_kit.tasks import cancel_and_wait
from serambi_testing.localstack import (
    mongo_server_args,
    mongo_url,
    nats_server_args,
    nats_url,
    wait_for_port,
)

from .commands.streams import apply_all
from .services import SERVICES

STOP_TIMEOUT = 10.0
WEB_PORT = 8000  # the public portal (services/web): no events, no database, the services' APIs


@dataclass(frozen=True)
class Ports:
    nats: int = 4222
    nats_monitor: int = 8222
    mongo: int = 27017
    smtp: int = 1025
    sms: int = 8025
    oidc: int = 8010  # the development OpenID provider (serambi_ops.devidp)
    services: dict[str, int] = field(
        default_factory=lambda: {**{s.name: s.port for s in SERVICES.values()}, "web": WEB_PORT}
    )


@dataclass
class Child:
    name: str
    args: list[str]
    port: int
    echo: bool
    env: dict[str, str] = field(default_factory=dict)
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0
    spawned_at: float = 0.0  # time.monotonic() when its process was last started
    ready_after: float | None = None  # seconds from spawn to ready (a service: /readyz 200)


def say(message: str) -> None:
    print(f"serambi | {message}", flush=True)


class Supervisor:
    def __init__(self, var: Path, ports: Ports) -> None:
        self.var = var
        self.ports = ports
        self.stopping = asyncio.Event()
        self.tasks: list[asyncio.Task] = []
        self.children: list[Child] = []

    def plan(self) -> tuple[list[Child], list[Child]]:
        """(infrastructure, applications), in start order."""
        py, var, ports = sys.executable, self.var, self.ports
        infra = [
            Child(
                "nats",
                nats_server_args(var / "nats", ports.nats, ports.nats_monitor, name="serambi-dev"),
                ports.nats,
                echo=False,
            ),
            Child("mongodb", mongo_server_args(var / "mongo", ports.mongo), ports.mongo, echo=False),
        ]
        env = {
            "SERAMBI_ENVIRONMENT": "development",  # chosen here: unset means production
            "SERAMBI_NATS_URL": nats_url(ports.nats),
            "SERAMBI_MONGO_URL": mongo_url(ports.mongo),
            "SERAMBI_SMTP_PORT": str(ports.smtp),
            "SERAMBI_SMS_URL": f"http://127.0.0.1:{ports.sms}/json/messages",
            "SERAMBI_SCHEDULING_PUBLIC_URL": f"http://127.0.0.1:{ports.services['scheduling']}",
        }
        apps = [
            Child(
                "smtp-sink",
                [
                    py,
                    "-m",
                    "serambi_testing.sinks",
                    "smtp",
                    "--port",
                    str(ports.smtp),
                    "--directory",
                    str(var / "mail"),
                ],
                ports.smtp,
                echo=True,
            ),
            Child(
                "sms-sink",
                [
                    py,
                    "-m",
                    "serambi_testing.sinks",
                    "sms",
                    "--port",
                    str(ports.sms),
                    "--directory",
                    str(var / "sms"),
                ],
                ports.sms,
                echo=True,
            ),
        ]
        issuer = f"http://127.0.0.1:{ports.oidc}"
        env.update(SERAMBI_AUTH_ISSUER=issuer, SERAMBI_AUTH_JWKS_URL=f"{issuer}/jwks")
        apps.append(
            Child(
                "oidc",
                [
                    py,
                    "-m",
                    "serambi_ops.devidp",
                    "--port",
                    str(ports.oidc),
                    "--key-file",
                    str(var / "oidc" / "signing-key.pem"),
                ],
                ports.oidc,
                echo=False,
                env={"SERAMBI_ENVIRONMENT": "development"},
            )
        )
        web = f"http://127.0.0.1:{ports.services['web']}"
        backends = {
            f"SERAMBI_{name.upper()}_URL": f"http://127.0.0.1:{ports.services[name]}"
            for name in ("intake", "complaints", "scheduling", "notifier")
        }
        for name, port in ports.services.items():
            links = {
                "web": {**backends, "SERAMBI_OIDC_ISSUER": issuer},
                "notifier": {"SERAMBI_PUBLIC_BASE_URL": web},
            }
            extra = links.get(name, {})
            apps.append(
                Child(
                    name,
                    [py, "-m", f"serambi_{name}"],
                    port,
                    echo=True,
                    env={**env, **extra, "SERAMBI_HTTP_PORT": str(port)},
                )
            )
        return infra, apps

    async def _pump(self, child: Child, stream: asyncio.StreamReader) -> None:
        with (self.var / "log" / f"{child.name}.log").open("ab") as log:
            async for line in stream:
                log.write(line)
                log.flush()
                if child.echo:
                    print(f"{child.name:<10} | {line.decode(errors='replace').rstrip()}", flush=True)

    async def _supervise(self, child: Child) -> None:
        delay = 1.0
        while not self.stopping.is_set():
            started = child.spawned_at = time.monotonic()
            child.process = await asyncio.create_subprocess_exec(
                *child.args,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env={**os.environ, **child.env},
                start_new_session=True,
            )
            assert child.process.stdout is not None
            pump = asyncio.create_task(self._pump(child, child.process.stdout))
            code = await child.process.wait()
            await pump
            if self.stopping.is_set():
                return
            if time.monotonic() - started > 60:
                delay = 1.0
            child.restarts += 1
            say(
                f"{child.name} (pid {child.process.pid}) exited with {code}; "
                f"restart #{child.restarts} in {delay:.0f}s"
            )
            try:
                await asyncio.wait_for(self.stopping.wait(), delay)
            except TimeoutError:
                pass
            delay = min(delay * 2, 30.0)

    def _start(self, child: Child) -> None:
        self.children.append(child)
        self.tasks.append(asyncio.create_task(self._supervise(child)))

    async def _ready(self, child: Child, timeout: float) -> None:
        await asyncio.to_thread(wait_for_port, child.port, timeout)
        child.ready_after = time.monotonic() - child.spawned_at

    async def _serving(self, child: Child, timeout: float) -> None:
        """Until the service's ``/readyz`` answers 200 (its NATS, MongoDB and consumers, or for
        the portal the services it calls): the time from its process's start is printed."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2.0, trust_env=False) as client:  # no proxy for loopback
            while True:
                try:
                    if (await client.get(f"http://127.0.0.1:{child.port}/readyz")).status_code == 200:
                        child.ready_after = time.monotonic() - child.spawned_at
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{child.name}: /readyz not 200 within {timeout:.0f} s")
                await asyncio.sleep(0.1)

    async def _all_ready(self, apps: list[Child]) -> bool:
        """Every application ready (a service: its /readyz), or False once stopping is asked
        for; a child that does not get ready in time raises, and the others' waits end."""

        async def every() -> None:
            try:
                async with asyncio.TaskGroup() as group:
                    for child in apps:
                        wait = self._serving if child.name in self.ports.services else self._ready
                        group.create_task(wait(child, 60))
            except ExceptionGroup as failed:
                raise failed.exceptions[0] from None

        waiting, stopping = asyncio.create_task(every()), asyncio.create_task(self.stopping.wait())
        await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        await cancel_and_wait(stopping)
        if not waiting.done():
            await cancel_and_wait(waiting)
            return False
        waiting.result()  # a child that did not get ready
        return True

    async def run(self) -> int:
        began = time.monotonic()
        for directory in ("nats", "mongo", "mail", "sms", "log"):
            (self.var / directory).mkdir(parents=True, exist_ok=True)
        infra, apps = self.plan()
        busy = [f"{c.name}:{c.port}" for c in infra + apps if _listening(c.port)]
        if busy:
            say(f"ports already in use: {', '.join(busy)} — is another stack running?")
            return 1
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stopping.set)
        try:
            for child in infra:
                self._start(child)
            for child in infra:
                await self._ready(child, 60)
            settings = ServiceSettings(nats_url=nats_url(self.ports.nats), environment="development")
            for line in await apply_all(settings):
                say(line)
            for child in apps:
                self._start(child)
            if not await self._all_ready(apps):
                return 0  # Ctrl-C while starting
            self._announce(infra + apps, time.monotonic() - began)
            await self.stopping.wait()
        except Exception as exc:  # noqa: BLE001 — report, then stop what was started
            say(f"start-up failed: {exc}")
            return 1
        finally:
            await self.shutdown(infra, apps)
        return 0

    def _announce(self, children: list[Child], seconds: float) -> None:
        p = self.ports
        say(f"start-up: all ready {seconds:.1f} s after `serambi dev up`; from process start to ready:")
        timings = (f"{c.name} {c.ready_after:.1f} s" for c in children if c.ready_after is not None)
        say("  " + ", ".join(timings))
        say("ready:")
        say(f"  portal      http://127.0.0.1:{p.services['web']}/  (the public pages)")
        say(f"  console     http://127.0.0.1:{p.services['web']}/petugas/  (officers: see README)")
        say(f"  sign-in     http://127.0.0.1:{p.oidc}  (development OpenID provider)")
        for name, port in p.services.items():
            if name != "web":
                say(f"  {name:<11} http://127.0.0.1:{port}  (docs: /docs, health: /readyz)")
        say(f"  nats        nats://127.0.0.1:{p.nats}  (monitoring: http://127.0.0.1:{p.nats_monitor})")
        say(f"  mongodb     {mongo_url(p.mongo)}")
        say(f"  smtp sink   127.0.0.1:{p.smtp} → {self.var / 'mail'}")
        say(f"  sms sink    http://127.0.0.1:{p.sms} → {self.var / 'sms' / 'sms.jsonl'}")
        say("try: .venv/bin/serambi demo   ·   stop: Ctrl-C")

    async def shutdown(self, infra: list[Child], apps: list[Child]) -> None:
        self.stopping.set()
        say("stopping…")
        await _stop_all(list(reversed(apps)))
        await _stop_all(list(reversed(infra)))
        await cancel_and_wait(*self.tasks)
        say("stopped")


def _listening(port: int) -> bool:
    try:
        wait_for_port(port, 0.05)
    except Exception:  # noqa: BLE001
        return False
    return True


async def _stop_all(children: list[Child]) -> None:
    running = [c for c in children if c.process and c.process.returncode is None]
    for child in running:
        child.process.terminate()
    for child in running:
        try:
            await asyncio.wait_for(child.process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            say(f"{child.name} did not stop in {STOP_TIMEOUT:.0f}s; killing")
            child.process.kill()
            await child.process.wait()


def up(var: Path, ports: Ports | None = None) -> int:
    return asyncio.run(Supervisor(var.resolve(), ports or Ports()).run())
