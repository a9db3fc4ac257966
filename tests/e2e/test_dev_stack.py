"""`serambi dev up` (what `make run` starts): the whole stack comes up, serves the demo,
restarts a service that dies, and Ctrl-C leaves nothing running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from serambi_testing.localstack import free_port

pytestmark = pytest.mark.slow  # make test-slow (CI runs it after make test)

SERAMBI = Path(sys.executable).parent / "serambi"


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def processes_using(path: Path) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if str(path).encode() in cmdline:
                pids.append(int(entry.name))
    return pids


def test_the_dev_stack_runs_the_demo_restarts_a_dead_service_and_stops_cleanly(tmp_path):
    ports = {
        name: free_port()
        for name in (
            "nats",
            "monitor",
            "mongo",
            "smtp",
            "sms",
            "oidc",
            "intake",
            "scheduling",
            "complaints",
            "notifier",
            "web",
        )
    }
    var = tmp_path / "var"
    args = [
        str(SERAMBI),
        "dev",
        "up",
        "--var",
        str(var),
        "--nats-port",
        str(ports["nats"]),
        "--nats-monitor-port",
        str(ports["monitor"]),
        "--mongo-port",
        str(ports["mongo"]),
        "--smtp-port",
        str(ports["smtp"]),
        "--sms-port",
        str(ports["sms"]),
        "--oidc-port",
        str(ports["oidc"]),
    ]
    for service in ("intake", "scheduling", "complaints", "notifier", "web"):
        args += ["--service-port", f"{service}={ports[service]}"]
    stack = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ.copy()
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(stack.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 90
        while not any("serambi | ready:" in line for line in lines):
            assert stack.poll() is None, "".join(lines[-30:])
            assert time.monotonic() < deadline, "".join(lines[-30:])
            time.sleep(0.2)
        intake = f"http://127.0.0.1:{ports['intake']}"
        demo = subprocess.run(
            [str(SERAMBI), "demo", "--intake-url", intake],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert demo.returncode == 0, demo.stderr
        assert "scheduled" in demo.stdout

        children = children_of(stack.pid)
        assert len(children) == 10  # nats, mongodb, two sinks, the OpenID provider, four services, web
        provider = f"http://127.0.0.1:{ports['oidc']}"
        discovery = httpx.get(f"{provider}/.well-known/openid-configuration", timeout=5).json()
        assert discovery["issuer"] == provider and discovery["code_challenge_methods_supported"] == ["S256"]
        console = httpx.get(f"http://127.0.0.1:{ports['web']}/petugas/masuk", timeout=5)
        assert console.status_code == 303 and console.headers["location"].startswith(f"{provider}/authorize?")
        portal = httpx.get(f"http://127.0.0.1:{ports['web']}/", timeout=5)
        assert portal.status_code == 200 and "Informasi layanan" in portal.text
        scheduling_pid = next(
            pid for pid in children if b"serambi_scheduling" in Path(f"/proc/{pid}/cmdline").read_bytes()
        )
        os.kill(scheduling_pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while not any("scheduling" in line and "restart #1" in line for line in lines):
            assert time.monotonic() < deadline, "".join(lines[-20:])
            time.sleep(0.2)
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{ports['scheduling']}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline
            time.sleep(0.2)
        running = children_of(stack.pid)
        assert len(running) == 10
    finally:
        stack.send_signal(signal.SIGINT)
        stack.wait(timeout=60)
    assert stack.returncode == 0
    assert any("serambi | stopped" in line for line in lines)
    time.sleep(0.5)
    assert processes_using(var) == []
    assert [pid for pid in running if Path(f"/proc/{pid}").exists()] == []
    assert list((var / "log").glob("*.log"))
