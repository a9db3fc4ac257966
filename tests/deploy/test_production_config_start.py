"""The four services start as real processes with the compose production environment and
answer /readyz on their internal port, and only there (issue #14 §2, issue 19 item 9).

The environment is `docker compose config`'s for each service, from a fresh `init-env.sh` .env
and the operator's values, exactly as test_production_config builds it. The NATS cluster is
three nats-server processes running deploy/nats/nats.conf and auth.conf with the passwords of
that .env, so every service logs in with the credentials compose gives it; `serambi streams
apply` runs first with the environment of compose's streams-apply job. What differs from the
containers: the addresses (loopback, free ports), the MongoDB URL (SecantusDB, the tests'
MongoDB-wire server, has no users or replica set) and the database names (the session's
server is shared).
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from serambi_testing import localstack

from .conftest import SERVICE_NAMES, USERS, NatsCluster
from .test_production_config import compose_config, compose_environment, env_file_values, write_init_env

pytestmark = pytest.mark.slow  # make test-slow (CI runs it after make test)

READY_SECONDS = 45


@pytest.fixture(scope="module")
def rendered_with_env(compose_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    """compose's configuration, and the .env init-env.sh wrote for it."""
    env_file = write_init_env(tmp_path_factory.mktemp("compose-env"))
    return compose_config(compose_binary, env_file), env_file_values(env_file)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, rendered_with_env) -> Iterator[NatsCluster]:
    """deploy/nats as compose runs it: the passwords are those of the .env."""
    written = rendered_with_env[1]
    cluster = NatsCluster(tmp_path_factory.mktemp("nats-production"))
    cluster.passwords = {user: written[f"NATS_{user.upper()}_PASSWORD"] for user in (*USERS, "route")}
    try:
        cluster.start_all()
        yield cluster
    finally:
        cluster.stop_all()


def on_this_machine(
    environment: dict[str, str], nats_url: str, mongo_url: str, database: str
) -> dict[str, str]:
    """A container's environment with the addresses of the test's servers."""
    return {
        **environment,
        "SERAMBI_NATS_URL": nats_url,
        "SERAMBI_MONGO_URL": mongo_url,
        "SERAMBI_MONGO_DATABASE": database,
        "SERAMBI_VAULT_DATABASE": f"{database}_vault",
    }


def test_every_service_starts_with_the_compose_environment_and_becomes_ready(
    rendered_with_env, cluster: NatsCluster, mongo_url: str, tmp_path: Path
):
    rendered, _ = rendered_with_env
    nats_url = cluster.urls()[0]
    prefix = f"prodcfg_{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    ops_env = {k: v for k, v in rendered["services"]["streams-apply"]["environment"].items() if v is not None}
    applied = subprocess.run(
        [localstack.find_binary("serambi"), *rendered["services"]["streams-apply"]["command"]],
        env={"PATH": "/usr/bin:/bin", **on_this_machine(ops_env, nats_url, mongo_url, f"{prefix}_ops")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr
    print(f"streams applied in {time.monotonic() - started:.1f}s")  # noqa: T201

    processes, internal = {}, {}
    for service in SERVICE_NAMES:
        port, internal[service] = localstack.free_port(), localstack.free_port()
        environment = on_this_machine(
            compose_environment(rendered, service), nats_url, mongo_url, f"{prefix}_{service}"
        )
        assert environment["SERAMBI_ENVIRONMENT"] == "production" and environment["SERAMBI_INTERNAL_PORT"]
        processes[service] = localstack.ManagedProcess(
            service,
            [sys.executable, "-m", f"serambi_{service}"],
            port,
            tmp_path / f"{service}.log",
            env={
                **environment,
                "SERAMBI_HTTP_HOST": "127.0.0.1",
                "SERAMBI_HTTP_PORT": str(port),
                "SERAMBI_INTERNAL_PORT": str(internal[service]),
            },
        )
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(len(processes)) as pool:
            failures = [
                f"{service}: {error}"
                for service, error in zip(
                    processes, pool.map(start_until_ready, processes.values(), internal.values()), strict=True
                )
                if error
            ]
        assert failures == [], "\n".join(failures)
        assert all(process.alive() for process in processes.values())
        for service, process in processes.items():  # the operations endpoints: internal port only
            assert httpx.get(f"http://127.0.0.1:{process.port}/readyz").status_code == 404, service
            assert httpx.get(f"http://127.0.0.1:{internal[service]}/metrics").status_code == 200, service
        print(f"four services ready {time.monotonic() - started:.1f}s after their start")  # noqa: T201
    finally:
        for process in processes.values():
            process.stop()


def start_until_ready(process: localstack.ManagedProcess, internal_port: int) -> str | None:
    """None when the process listens and /readyz answers 200 on its internal port, else why not
    (with its log's end)."""
    try:
        process.start(ready_timeout=READY_SECONDS)
        localstack.wait_ready(f"http://127.0.0.1:{internal_port}", READY_SECONDS)
    except localstack.StartError as error:
        return f"{error}\n{process.log_path.read_text(errors='replace')[-3000:]}"
    return None
