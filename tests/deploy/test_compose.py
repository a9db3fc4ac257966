"""deploy/compose: the single-host stack, checked by the Compose v2 binary itself (issue #8 §2, §6).

`docker compose config` needs no Docker engine: it parses, interpolates and validates the file
against the Compose specification, exactly as `up` would before starting anything.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import DEPLOY, DEPLOYED, PORTAL, SERVICE_NAMES

COMPOSE_DIR = DEPLOY / "compose"
AUTH = {
    "SERAMBI_AUTH_ISSUER": "https://sso.example.invalid/realms/serambi",
    "SERAMBI_AUTH_JWKS_URL": "https://sso.example.invalid/realms/serambi/protocol/openid-connect/certs",
}
# What the operator sets in .env after init-env.sh: the identity provider, the public address, the
# SMS gateway (docs/operations.md, "Production configuration").
OPERATOR = {
    **AUTH,
    "SERAMBI_PUBLIC_BASE_URL": "https://layanan.example.invalid",
    "SERAMBI_SMS_URL": "https://sms-gateway.example.invalid/api/messages",
    "SERAMBI_SMS_TOKEN": "token-the-gateway-issued",
    "SERAMBI_SMTP_HOST": "smtp.example.invalid",
    "SERAMBI_OFFICER_EMAILS": '{"desk": ["tata-usaha@ekonomi.example.invalid"], '
    '"supervisor": ["pimpinan@ekonomi.example.invalid"]}',
}


def compose(binary: Path, *args: str, env_file: Path | None = None, env: dict | None = None):
    command = [str(binary), "-f", str(COMPOSE_DIR / "compose.yaml")]
    if env_file is not None:
        command += ["--env-file", str(env_file)]
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", **(env or {})},
    )


@pytest.fixture(scope="module")
def env_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh .env, as `deploy/compose/init-env.sh` writes it on a new host."""
    target = tmp_path_factory.mktemp("compose") / ".env"
    subprocess.run(["sh", str(COMPOSE_DIR / "init-env.sh"), str(target)], check=True, capture_output=True)
    return target


@pytest.fixture(scope="module")
def rendered(compose_binary: Path, env_file: Path) -> dict:
    result = compose(
        compose_binary, "--profile", "tools", "config", "--format", "json", env_file=env_file, env=OPERATOR
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_stack_is_valid_with_the_secrets_init_env_writes(compose_binary: Path, env_file: Path):
    result = compose(compose_binary, "config", "-q", env_file=env_file, env=OPERATOR)
    assert result.returncode == 0, result.stderr


def test_the_example_env_file_names_every_variable_the_stack_requires(compose_binary: Path):
    result = compose(compose_binary, "config", "-q", env_file=COMPOSE_DIR / ".env.example")
    assert result.returncode == 0, result.stderr


def test_the_stack_refuses_to_start_without_its_secrets_or_identity_provider(
    compose_binary: Path, env_file: Path
):
    without_secrets = compose(compose_binary, "config", "-q", env=OPERATOR)
    assert without_secrets.returncode != 0 and "init-env.sh" in without_secrets.stderr
    without_auth = compose(
        compose_binary,
        "config",
        "-q",
        env_file=env_file,
        env={k: v for k, v in OPERATOR.items() if k not in AUTH},
    )
    assert without_auth.returncode != 0 and "SERAMBI_AUTH_" in without_auth.stderr


def test_the_stack_has_three_nats_nodes_a_mongo_replica_set_the_services_and_a_mail_catcher(rendered):
    assert set(rendered["services"]) == {
        "nats-1",
        "nats-2",
        "nats-3",
        "mongo-1",
        "mongo-2",
        "mongo-3",
        "mongo-init",
        "streams-apply",
        "ops",
        "mailpit",
        *DEPLOYED,
    }
    assert rendered["services"]["streams-apply"]["command"] == ["streams", "apply"]
    assert rendered["services"]["streams-apply"]["environment"]["SERAMBI_STREAM_REPLICAS"] == "3"


def test_every_container_rotates_its_log_with_the_json_file_driver(rendered, compose_binary, env_file):
    """A busy or failing container cannot fill the host's disk: every one, the one-shot jobs and
    the tools included, keeps at most max-file files of max-size (docs/operations.md)."""
    for name, service in rendered["services"].items():
        assert service.get("logging") == {
            "driver": "json-file",
            "options": {"max-size": "20m", "max-file": "5", "compress": "true"},
        }, name
    result = compose(
        compose_binary,
        "--profile",
        "tools",
        "config",
        "--format",
        "json",
        env_file=env_file,
        env={**OPERATOR, "SERAMBI_LOG_MAX_SIZE": "50m", "SERAMBI_LOG_MAX_FILES": "3"},
    )
    assert result.returncode == 0, result.stderr
    options = {
        name: service["logging"]["options"] for name, service in json.loads(result.stdout)["services"].items()
    }
    assert set(options) == set(rendered["services"])
    assert all(option["max-size"] == "50m" and option["max-file"] == "3" for option in options.values())


@pytest.mark.parametrize("node", ["nats-1", "nats-2", "nats-3"])
def test_each_nats_node_runs_the_deploy_config_and_knows_every_users_password(rendered, env_file, node):
    service = rendered["services"][node]
    secrets = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    config = (DEPLOY / "nats" / "nats.conf").read_text() + (DEPLOY / "nats" / "auth.conf").read_text()
    needed = set(re.findall(r"\$(NATS_\w+)", config))
    environment = service["environment"]
    assert needed <= set(environment)
    passwords = {name for name in needed if name.endswith("_PASSWORD")}
    assert {name: environment[name] for name in passwords} == {name: secrets[name] for name in passwords}
    assert environment["NATS_SERVER_NAME"] == node
    assert [
        host for host in ("nats-1", "nats-2", "nats-3") if f"@{host}:6222" in environment["NATS_ROUTES"]
    ] == ["nats-1", "nats-2", "nats-3"]
    assert service["command"] == ["-c", "/etc/nats/nats.conf"]
    mount = next(v for v in service["volumes"] if v["target"] == "/etc/nats")
    assert Path(mount["source"]) == DEPLOY / "nats" and mount["read_only"]


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_a_service_container_is_non_root_read_only_and_uses_its_own_credentials(rendered, env_file, name):
    secrets = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    service = rendered["services"][name]
    environment = service["environment"]
    assert service["user"] == "10001:10001" and service["read_only"] is True
    assert service["cap_drop"] == ["ALL"]  # /tmp: a sized tmpfs or a spool volume (test_upload_spool.py)
    assert service["build"]["target"] == "service" and service["build"]["args"] == {"SERVICE": name}
    assert environment["SERAMBI_NATS_USER"] == name
    assert environment["SERAMBI_NATS_PASSWORD"] == secrets[f"NATS_{name.upper()}_PASSWORD"]
    assert environment["SERAMBI_MONGO_URL"].startswith(
        f"mongodb://{name}:{secrets[f'MONGO_{name.upper()}_PASSWORD']}@mongo-1:27017,"
    )
    assert environment["SERAMBI_ENVIRONMENT"] == "production"
    assert environment["SERAMBI_PII_MASTER_KEY"] == secrets["SERAMBI_PII_MASTER_KEY"]
    assert len(base64.b64decode(secrets["SERAMBI_PII_MASTER_KEY"], validate=True)) == 32
    assert environment["SERAMBI_STREAM_REPLICAS"] == "3"
    assert {dep: spec["condition"] for dep, spec in service["depends_on"].items()} == {
        "streams-apply": "service_completed_successfully",
        "mongo-init": "service_completed_successfully",
    }
    assert all(port["host_ip"] == "127.0.0.1" for port in service["ports"])


def test_the_portal_container_is_non_root_read_only_and_holds_no_data_credentials(rendered, env_file):
    secrets = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    service = rendered["services"][PORTAL]
    environment = service["environment"]
    assert service["user"] == "10001:10001" and service["read_only"] is True
    assert service["tmpfs"] == ["/tmp:size=256m"] and service["cap_drop"] == ["ALL"]  # noqa: S108
    assert service["build"]["target"] == "service" and service["build"]["args"] == {"SERVICE": PORTAL}
    assert environment["SERAMBI_ENVIRONMENT"] == "production"
    assert environment["SERAMBI_SESSION_SECRET"] == secrets["SERAMBI_SESSION_SECRET"]
    assert len(secrets["SERAMBI_SESSION_SECRET"]) >= 32
    assert environment["SERAMBI_SECURE_COOKIES"] == "true"
    for backend in ("intake", "complaints", "scheduling"):
        assert environment[f"SERAMBI_{backend.upper()}_URL"] == f"http://{backend}:8000"
        assert service["depends_on"][backend]["condition"] == "service_started"
    assert not [name for name in environment if "NATS" in name or "MONGO" in name or "PII" in name]
    assert [(port["host_ip"], port["published"], port["target"]) for port in service["ports"]] == [
        ("127.0.0.1", "8000", 8000)
    ]


def test_the_officer_console_gets_a_valid_production_sign_in_configuration(rendered, env_file):
    from serambi_web.settings import ConsoleSettings

    secrets = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    environment = rendered["services"][PORTAL]["environment"]
    settings = ConsoleSettings(
        **{k.removeprefix("SERAMBI_").lower(): v for k, v in environment.items() if k.startswith("SERAMBI_")}
    )
    assert settings.environment == "production"
    assert settings.oidc_issuer == OPERATOR["SERAMBI_AUTH_ISSUER"] == environment["SERAMBI_OIDC_ISSUER"]
    assert settings.oidc_client_secret.get_secret_value() == secrets["SERAMBI_OIDC_CLIENT_SECRET"]
    assert len(secrets["SERAMBI_OIDC_CLIENT_SECRET"]) >= 32
    assert settings.public_base_url == OPERATOR["SERAMBI_PUBLIC_BASE_URL"]


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js to parse JavaScript")
def test_the_replica_set_init_script_is_valid_javascript():
    script = DEPLOY / "mongo" / "init-replica-set.js"
    result = subprocess.run(["node", "--check", str(script)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
