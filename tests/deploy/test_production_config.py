"""The shipped production configurations build valid production settings for every service
(issue #14 §2).

Each service's environment is taken from what the orchestrator would hand the container:

- compose: `docker compose config` of deploy/compose with a fresh `init-env.sh` .env and the
  values the operator fills in (the identity provider, the public address, the SMS gateway);
- Kubernetes: `kubectl kustomize overlays/prod`, resolving every `envFrom` (ConfigMap, Secret),
  `secretKeyRef`, `configMapKeyRef` and `$(VAR)`; the Secrets come from
  overlays/prod/secrets.template.yaml with random values in place of REPLACE_ME;

below the image's own `ENV` (deploy/Dockerfile). The service's settings class is then built from
exactly that environment: any refusal fails, and so does any setting still naming this machine
(loopback), which is what the local defaults do.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import re
import secrets
import subprocess
from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr, ValidationError
from serambi_complaints.settings import ComplaintsSettings
from serambi_intake.settings import IntakeSettings
from serambi_kit.addresses import is_local
from serambi_kit.settings import ServiceSettings
from serambi_notifier.settings import NotifierSettings
from serambi_scheduling.settings import SchedulingSettings
from serambi_web.settings import ConsoleSettings, WebSettings

from .conftest import DEPLOY, DEPLOYED
from .test_compose import COMPOSE_DIR, OPERATOR, compose

SETTINGS: dict[str, type[ServiceSettings] | type[WebSettings]] = {
    "intake": IntakeSettings,
    "scheduling": SchedulingSettings,
    "complaints": ComplaintsSettings,
    "notifier": NotifierSettings,
    "web": WebSettings,
}
#: settings a deployed process reads besides its own class (the portal's officer console)
ALSO_READ: dict[str, tuple[type[ConsoleSettings], ...]] = {"web": (ConsoleSettings,)}
PROD = DEPLOY / "k8s" / "overlays" / "prod"
BIND_ADDRESSES = {"http_host"}  # where the process listens (0.0.0.0 in the image), not an address to reach


# -- the environments ---------------------------------------------------------------------------


def image_environment() -> dict[str, str]:
    """The SERAMBI_* ENV of the Dockerfile's `runtime` stage (the environment: production) and
    its `service` stage (HTTP host and ports)."""
    stages = (DEPLOY / "Dockerfile").read_text().split("AS runtime", 1)[1].split("FROM runtime AS ops")
    text = stages[0] + stages[1].split("FROM runtime AS service", 1)[1]
    return dict(re.findall(r"\b(SERAMBI_\w+)=([^\s\\$]+)", text))


def write_init_env(directory: Path) -> Path:
    target = directory / ".env"
    subprocess.run(["sh", str(COMPOSE_DIR / "init-env.sh"), str(target)], check=True, capture_output=True)
    return target


def env_file_values(path: Path) -> dict[str, str]:
    lines = (line for line in path.read_text().splitlines() if "=" in line and not line.startswith("#"))
    return dict(line.split("=", 1) for line in lines)


def compose_config(binary: Path, env_file: Path) -> dict:
    import json

    result = compose(binary, "config", "--format", "json", env_file=env_file, env=OPERATOR)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def compose_environment(config: dict, service: str) -> dict[str, str]:
    """What the container sees: the image's ENV, then the service's (env_file resolved by compose)."""
    environment = {
        k: v for k, v in config["services"][service].get("environment", {}).items() if v is not None
    }
    return {**image_environment(), **environment}


def placeholder_secrets() -> dict[str, dict[str, str]]:
    """The Secrets of the production template, with random values as an operator makes them."""
    created = {}
    for document in yaml.safe_load_all((PROD / "secrets.template.yaml").read_text()):
        if document:
            created[document["metadata"]["name"]] = {
                key: JSON_SECRETS[key]
                if key in JSON_SECRETS
                else base64.b64encode(os.urandom(32)).decode()
                if key == "master-key"
                else secrets.token_hex(24)
                for key in document["stringData"]
            }
    return created


#: Secret keys holding JSON (personal addresses), as the template's comment says to fill them
JSON_SECRETS = {
    "host-emails": '{"kepala-biro": ["kabiro@ekonomi.kalbarprov.go.id"]}',
    "host-phones": '{"kepala-biro": ["081233334444"]}',
}


def kustomize(kubectl: str, target: Path) -> list[dict]:
    result = subprocess.run([kubectl, "kustomize", str(target)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return [document for document in yaml.safe_load_all(result.stdout) if document]


def kubernetes_environment(
    objects: list[dict], service: str, created: dict[str, dict[str, str]]
) -> dict[str, str]:
    """The container's environment as the kubelet builds it: image ENV, envFrom, then env."""
    config_maps = {o["metadata"]["name"]: o.get("data", {}) for o in objects if o["kind"] == "ConfigMap"}
    deployment = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == service)
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    environment = image_environment()
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            environment.update(config_maps[source["configMapRef"]["name"]])
        else:
            environment.update(created[source["secretRef"]["name"]])
    for variable in container.get("env", []):
        reference = variable.get("valueFrom", {})
        if "secretKeyRef" in reference:
            value = created[reference["secretKeyRef"]["name"]][reference["secretKeyRef"]["key"]]
        elif "configMapKeyRef" in reference:
            value = config_maps[reference["configMapKeyRef"]["name"]][reference["configMapKeyRef"]["key"]]
        else:
            value = re.sub(r"\$\((\w+)\)", lambda m: environment[m.group(1)], variable["value"])
        environment[variable["name"]] = value
    return environment


# -- the check ----------------------------------------------------------------------------------


def production_settings(
    service: str, environment: dict[str, str], settings_class: type | None = None
) -> ServiceSettings | WebSettings:
    """The service's settings (or ``settings_class``) from exactly ``environment`` (nothing of
    this process's)."""
    assert environment.get("SERAMBI_ENVIRONMENT") == "production", f"{service}: not a production environment"
    saved = {k: v for k, v in os.environ.items() if k.startswith("SERAMBI_")}
    for name in saved:
        del os.environ[name]
    os.environ.update(environment)
    try:
        return (settings_class or SETTINGS[service])()
    except ValidationError as error:
        pytest.fail(f"{service} refuses to start with this environment:\n{error}")
    finally:
        for name in environment:
            os.environ.pop(name, None)
        os.environ.update(saved)


def local_addresses(settings: ServiceSettings | WebSettings) -> list[str]:
    """Every setting that still names this machine (loopback or unspecified)."""
    found = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if name not in BIND_ADDRESSES and isinstance(text, str) and is_local(text):
            found.append(f"SERAMBI_{name.upper()}" + ("" if isinstance(value, SecretStr) else f"={text}"))
    return found


@pytest.fixture(scope="module")
def compose_rendered(compose_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    return compose_config(compose_binary, write_init_env(tmp_path_factory.mktemp("compose")))


@pytest.fixture(scope="module")
def prod_objects(kubectl_binary: str) -> list[dict]:
    return kustomize(kubectl_binary, PROD)


@pytest.mark.parametrize("service", DEPLOYED)
def test_each_service_builds_production_settings_from_the_compose_environment(compose_rendered, service):
    environment = compose_environment(compose_rendered, service)
    for settings_class in (SETTINGS[service], *ALSO_READ.get(service, ())):
        assert local_addresses(production_settings(service, environment, settings_class)) == [], (
            settings_class
        )


@pytest.mark.parametrize("service", DEPLOYED)
def test_each_service_builds_production_settings_from_the_kubernetes_prod_overlay(prod_objects, service):
    environment = kubernetes_environment(prod_objects, service, placeholder_secrets())
    for settings_class in (SETTINGS[service], *ALSO_READ.get(service, ())):
        assert local_addresses(production_settings(service, environment, settings_class)) == [], (
            settings_class
        )


def test_the_public_links_are_built_from_the_public_base_url_in_both_configurations(
    compose_rendered, prod_objects
):
    environments = {
        "compose": lambda service: compose_environment(compose_rendered, service),
        "kubernetes": lambda service: kubernetes_environment(prod_objects, service, placeholder_secrets()),
    }
    for where, environment in environments.items():
        notifier = production_settings("notifier", environment("notifier"))
        intake = production_settings("intake", environment("intake"))
        base = notifier.public_base_url
        assert base and base == intake.public_base_url, where
        assert notifier.request_status_url == f"{base}/lacak/audiensi/{{tracking_code}}", where
        assert notifier.complaint_status_url == f"{base}/lacak/pengaduan/{{tracking_code}}", where
        assert notifier.letters_base_url == f"{base}/api/v1/letters", where
        assert intake.scheduling_public_url == base, where


def test_the_notifier_gets_its_channels_and_secrets_from_configuration_in_both(
    compose_rendered, prod_objects
):
    created = placeholder_secrets()
    compose_env = compose_environment(compose_rendered, "notifier")
    kubernetes_env = kubernetes_environment(prod_objects, "notifier", created)
    for where, environment in (("compose", compose_env), ("kubernetes", kubernetes_env)):
        settings = production_settings("notifier", environment)
        assert settings.smtp_host and settings.sms_url.startswith("https://"), where
        assert settings.sms_token is not None, where
    assert kubernetes_env["SERAMBI_SMS_RECEIPT_SECRET"] == created["serambi-notifier"]["sms-receipt-secret"]
    assert (
        kubernetes_environment(prod_objects, "scheduling", created)["SERAMBI_LETTER_SECRET"]
        == (created["serambi-scheduling"]["letter-secret"])
    )


def test_the_hosts_addresses_come_from_the_notifier_secret_not_a_config_map(prod_objects):
    created = placeholder_secrets()
    environment = kubernetes_environment(prod_objects, "notifier", created)
    settings = production_settings("notifier", environment)
    assert settings.host_emails == {"kepala-biro": ["kabiro@ekonomi.kalbarprov.go.id"]}
    assert settings.host_phones == {"kepala-biro": ["081233334444"]}
    config_maps = [o for o in prod_objects if o["kind"] == "ConfigMap"]
    assert not any(key.startswith("SERAMBI_HOST_") for o in config_maps for key in o.get("data", {}))
    left = {**created, "serambi-notifier": {**created["serambi-notifier"], "host-phones": "REPLACE_ME"}}
    with pytest.raises(pytest.fail.Exception, match="SERAMBI_HOST_PHONES is still the template's REPLACE_ME"):
        production_settings("notifier", kubernetes_environment(prod_objects, "notifier", left))


def test_the_notifier_gets_the_officers_real_addresses_in_both(compose_rendered, prod_objects):
    created = placeholder_secrets()
    for where, environment in (
        ("compose", compose_environment(compose_rendered, "notifier")),
        ("kubernetes", kubernetes_environment(prod_objects, "notifier", created)),
    ):
        settings = production_settings("notifier", environment)
        addresses = [a for role in settings.officer_emails.values() for a in role]
        assert addresses and not any(a.endswith("@biro-perekonomian.example") for a in addresses), where
    assert (
        compose_environment(compose_rendered, "notifier")["SERAMBI_OFFICER_EMAILS"]
        == (OPERATOR["SERAMBI_OFFICER_EMAILS"])
    )


def test_compose_needs_the_officers_addresses_and_reads_them_as_init_env_shows(
    compose_binary: Path, tmp_path: Path
):
    env_file = write_init_env(tmp_path)
    operator = {k: v for k, v in OPERATOR.items() if k != "SERAMBI_OFFICER_EMAILS"}
    refused = compose(compose_binary, "config", "-q", env_file=env_file, env=operator)
    assert refused.returncode != 0 and "SERAMBI_OFFICER_EMAILS" in refused.stderr
    filled = """SERAMBI_OFFICER_EMAILS='{"desk": ["tata-usaha@ekonomi.example.invalid"]}'"""
    env_file.write_text(env_file.read_text().replace("\nSERAMBI_OFFICER_EMAILS=\n", f"\n{filled}\n"))
    rendered = json.loads(
        compose(compose_binary, "config", "--format", "json", env_file=env_file, env=operator).stdout
    )
    settings = production_settings("notifier", compose_environment(rendered, "notifier"))
    assert settings.officer_emails == {"desk": ["tata-usaha@ekonomi.example.invalid"]}
    assert settings.assignee_emails == {} and settings.officer_phones == {}


def test_compose_needs_the_mail_relay_and_never_falls_back_to_the_mail_catcher(
    compose_binary: Path, tmp_path: Path
):
    env_file = write_init_env(tmp_path)
    operator = {k: v for k, v in OPERATOR.items() if k != "SERAMBI_SMTP_HOST"}
    refused = compose(compose_binary, "config", "-q", env_file=env_file, env=operator)
    assert refused.returncode != 0 and "SERAMBI_SMTP_HOST" in refused.stderr
    rendered = compose_config(compose_binary, env_file)
    settings = production_settings("notifier", compose_environment(rendered, "notifier"))
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_tls) == (
        "smtp.example.invalid",
        587,
        "starttls",
    )


@pytest.mark.parametrize("service", ["intake", "scheduling", "complaints", "notifier", "web"])
def test_the_services_the_portal_calls_count_each_citizen_apart_in_both(
    compose_rendered, prod_objects, service
):
    """The portal sends the citizen's address as X-Forwarded-For, and so does the proxy in front
    of the portal: each must trust the network those callers are in, or every portal call would
    count against the portal. Compose names its network's subnet, Kubernetes the pod network:
    never a range wide enough to hold a citizen's own (e.g. intranet) address."""
    subnet = ipaddress.ip_network(compose_rendered["networks"]["default"]["ipam"]["config"][0]["subnet"])
    compose = production_settings(service, compose_environment(compose_rendered, service))
    assert [ipaddress.ip_network(entry) for entry in compose.forwarded_allow_ips] == [subnet]
    kubernetes = production_settings(
        service, kubernetes_environment(prod_objects, service, placeholder_secrets())
    )
    pod = ipaddress.ip_address("10.244.1.17")  # a pod of the pod network, e.g. the Ingress controller
    assert any(pod in ipaddress.ip_network(entry) for entry in kubernetes.forwarded_allow_ips)
    for entry in compose.forwarded_allow_ips + kubernetes.forwarded_allow_ips:
        assert ipaddress.ip_network(entry).prefixlen >= 16, entry


def test_the_portal_gets_its_session_secret_and_secure_cookies_in_both(compose_rendered, prod_objects):
    created = placeholder_secrets()
    compose_env = compose_environment(compose_rendered, "web")
    kubernetes_env = kubernetes_environment(prod_objects, "web", created)
    for where, environment in (("compose", compose_env), ("kubernetes", kubernetes_env)):
        settings = production_settings("web", environment)
        assert settings.secure_cookies, where
        assert settings.session_secret.get_secret_value() == environment["SERAMBI_SESSION_SECRET"], where
    assert kubernetes_env["SERAMBI_SESSION_SECRET"] == created["serambi-web"]["session-secret"]


def test_init_env_generates_fresh_values_for_every_secret_the_services_need(tmp_path: Path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = (env_file_values(write_init_env(tmp_path / d)) for d in ("a", "b"))
    for name in (
        "SERAMBI_LETTER_SECRET",
        "SERAMBI_SMS_RECEIPT_SECRET",
        "SERAMBI_PII_MASTER_KEY",
        "SERAMBI_SESSION_SECRET",
    ):
        assert len(first[name]) >= 32 and first[name] != second[name], name


def test_the_check_finds_a_loopback_address_the_validation_lets_through(compose_rendered):
    environment = {
        **compose_environment(compose_rendered, "intake"),
        "SERAMBI_NATS_URL": "nats://127.0.0.1:4222",
    }
    assert local_addresses(production_settings("intake", environment)) == [
        "SERAMBI_NATS_URL=nats://127.0.0.1:4222"
    ]
