"""The e-mail channel's and SP4N-LAPOR!'s configuration in deploy/ (as test_whatsapp_config.py
for WhatsApp): their settings reach the complaints service — the secret (the mailbox's password,
LAPOR!'s token) from the serambi-complaints Secret / .env, the rest from configuration — in
compose and in Kubernetes, off by default; with a channel on, production refuses to start while
a value it needs is missing, empty or left at the template's REPLACE_ME, naming each."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from .test_compose import OPERATOR, compose
from .test_production_config import (
    PROD,
    compose_config,
    compose_environment,
    kubernetes_environment,
    kustomize,
    placeholder_secrets,
    production_settings,
    write_init_env,
)
from .test_whatsapp_config import refusal


@dataclass(frozen=True)
class Channel:
    mode: str  # the variable that turns it on
    on: str  # its value then
    operator: dict[str, str]  # what the operator sets in configuration (an overlay, .env)
    secret: str  # the variable of its secret
    key: str  # that secret's key in the serambi-complaints Secret
    defaults: dict[str, object]  # settings the deployment files give, as the service reads them

    @property
    def required(self) -> list[str]:
        return [*self.operator, self.secret]


EMAIL = Channel(
    "SERAMBI_EMAIL_MODE",
    "imap",
    {"SERAMBI_EMAIL_IMAP_HOST": "imap.kalbarprov.example.invalid", "SERAMBI_EMAIL_IMAP_USER": "kesra"},
    "SERAMBI_EMAIL_IMAP_PASSWORD",
    "email-imap-password",
    {
        "email_imap_port": 993,
        "email_imap_security": "tls",
        "email_imap_ca_file": None,
        "email_inbox": "INBOX",
        "email_processed_folder": "Serambi/Diproses",
        "email_rejected_folder": "Serambi/Ditolak",
        "email_poll_seconds": 60.0,
        "email_timeout_seconds": 30.0,
        "email_retention_days": 30,
        "email_max_message_bytes": 60_000_000,
    },
)
LAPOR = Channel(
    "SERAMBI_LAPOR_MODE",
    "http",
    {"SERAMBI_LAPOR_BASE_URL": "https://api.lapor.example.invalid/v1"},
    "SERAMBI_LAPOR_TOKEN",
    "lapor-token",
    {"lapor_poll_seconds": 300.0, "lapor_push_seconds": 5.0, "lapor_timeout_seconds": 10.0},
)
CHANNELS = {"email": EMAIL, "lapor": LAPOR}
FROM_OPERATOR = {
    "SERAMBI_EMAIL_IMAP_PASSWORD": "mailbox-password-of-the-bureau",
    "SERAMBI_LAPOR_TOKEN": "token-lapor-issued-to-the-bureau",
}


def setting(variable: str) -> str:
    return variable.removeprefix("SERAMBI_").lower()


def value_of(settings, variable: str) -> object:
    value = getattr(settings, setting(variable))
    return value.get_secret_value() if hasattr(value, "get_secret_value") else value


@pytest.fixture(scope="module")
def prod_objects(kubectl_binary: str) -> list[dict]:
    return kustomize(kubectl_binary, PROD)


def turned_on(objects: list[dict], channel: Channel, values: dict[str, str]) -> list[dict]:
    """The prod overlay as an operator turns ``channel`` on (its mode and ``values``)."""
    objects = json.loads(json.dumps(objects))
    for document in objects:
        if document["kind"] == "ConfigMap" and document["metadata"]["name"].startswith(
            "serambi-complaints-config"
        ):
            document["data"].update({channel.mode: channel.on, **values})
    return objects


def compose_rendered(compose_binary: Path, tmp_path: Path, **env: str) -> dict:
    result = compose(
        compose_binary,
        "config",
        "--format",
        "json",
        env_file=write_init_env(tmp_path),
        env={**OPERATOR, **env},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_both_channels_are_off_with_the_same_settings_in_compose_and_kubernetes(
    compose_binary: Path, tmp_path: Path, prod_objects
):
    rendered = compose_config(compose_binary, write_init_env(tmp_path))
    environments = {
        "compose": compose_environment(rendered, "complaints"),
        "kubernetes": kubernetes_environment(prod_objects, "complaints", placeholder_secrets()),
    }
    for where, environment in environments.items():
        settings = production_settings("complaints", environment)
        assert (settings.email_mode, settings.lapor_mode) == ("off", "off"), where
        for channel in CHANNELS.values():
            assert {name: getattr(settings, name) for name in channel.defaults} == channel.defaults, where
            assert all(value_of(settings, name) is None for name in channel.operator), where
        if where == "compose":  # init-env.sh leaves them empty: not set
            assert settings.lapor_token is None and settings.email_imap_password is None
    assert placeholder_secrets()["serambi-complaints"].keys() >= {EMAIL.key, LAPOR.key}


@pytest.mark.parametrize("name", CHANNELS)
def test_compose_turns_the_channel_on_with_the_values_from_env(compose_binary: Path, tmp_path: Path, name):
    channel = CHANNELS[name]
    env_file = write_init_env(tmp_path)
    text = env_file.read_text()
    assert f"\n{channel.mode}=off\n" in text  # init-env.sh writes it off, and the lines to fill
    text = text.replace(f"\n{channel.mode}=off\n", f"\n{channel.mode}={channel.on}\n")
    for variable, value in {**channel.operator, channel.secret: FROM_OPERATOR[channel.secret]}.items():
        assert f"\n{variable}=\n" in text
        text = text.replace(f"\n{variable}=\n", f"\n{variable}={value}\n")
    env_file.write_text(text)
    settings = production_settings(
        "complaints", compose_environment(compose_config(compose_binary, env_file), "complaints")
    )
    assert getattr(settings, setting(channel.mode)) == channel.on
    for variable, value in {**channel.operator, channel.secret: FROM_OPERATOR[channel.secret]}.items():
        assert value_of(settings, variable) == value
    assert {name: getattr(settings, name) for name in channel.defaults} == channel.defaults


@pytest.mark.parametrize("name", CHANNELS)
def test_compose_with_the_channel_on_but_nothing_filled_in_is_refused_naming_each(
    compose_binary: Path, tmp_path: Path, name
):
    channel = CHANNELS[name]
    why = refusal(
        compose_environment(
            compose_rendered(compose_binary, tmp_path, **{channel.mode: channel.on}), "complaints"
        )
    )
    assert (
        f"{channel.mode}={channel.on} needs {', '.join(channel.required)} (unset, empty or REPLACE_ME" in why
    )


@pytest.mark.parametrize("name", CHANNELS)
def test_kubernetes_takes_the_channels_secret_from_the_complaints_secret(prod_objects, name):
    channel = CHANNELS[name]
    created = placeholder_secrets()
    settings = production_settings(
        "complaints",
        kubernetes_environment(turned_on(prod_objects, channel, channel.operator), "complaints", created),
    )
    assert getattr(settings, setting(channel.mode)) == channel.on
    assert value_of(settings, channel.secret) == created["serambi-complaints"][channel.key]
    for variable, value in channel.operator.items():
        assert value_of(settings, variable) == value


@pytest.mark.parametrize("how", ["absent", "empty", "REPLACE_ME"])
@pytest.mark.parametrize("name", CHANNELS)
def test_kubernetes_with_the_channel_on_and_its_secret_missing_empty_or_a_placeholder_is_refused(
    prod_objects, name, how
):
    channel = CHANNELS[name]
    created = placeholder_secrets()
    keys = created["serambi-complaints"]
    objects = turned_on(prod_objects, channel, channel.operator)
    if how == "absent":  # the key is optional: the variable is then not set at all
        del keys[channel.key]
        for document in objects:
            if document["kind"] == "Deployment" and document["metadata"]["name"] == "complaints":
                container = document["spec"]["template"]["spec"]["containers"][0]
                container["env"] = [v for v in container["env"] if v["name"] != channel.secret]
    else:
        keys[channel.key] = "" if how == "empty" else "REPLACE_ME"
    why = refusal(kubernetes_environment(objects, "complaints", created))
    assert f"{channel.mode}={channel.on} needs {channel.secret} (" in why
    assert not [
        value for value in keys.values() if value not in ("", "REPLACE_ME") and value in why
    ]  # never shown


@pytest.mark.parametrize("name", CHANNELS)
def test_kubernetes_with_the_channel_on_but_the_overlays_empty_values_is_refused_naming_them(
    prod_objects, name
):
    channel = CHANNELS[name]
    why = refusal(
        kubernetes_environment(turned_on(prod_objects, channel, {}), "complaints", placeholder_secrets())
    )
    assert f"{channel.mode}={channel.on} needs {', '.join(channel.operator)} (" in why


def test_the_secret_keys_are_optional_so_a_deployment_without_the_channels_needs_neither(prod_objects):
    deployment = next(
        o for o in prod_objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "complaints"
    )
    references = {
        v["name"]: v["valueFrom"]["secretKeyRef"]
        for v in deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        if v["name"] in (EMAIL.secret, LAPOR.secret)
    }
    assert references == {
        channel.secret: {"name": "serambi-complaints", "key": channel.key, "optional": True}
        for channel in CHANNELS.values()
    }


def test_production_refuses_a_lapor_address_without_tls(prod_objects):
    why = refusal(
        kubernetes_environment(
            turned_on(prod_objects, LAPOR, {"SERAMBI_LAPOR_BASE_URL": "http://api.lapor.example.invalid/v1"}),
            "complaints",
            placeholder_secrets(),
        )
    )
    assert "SERAMBI_LAPOR_BASE_URL must be https in production" in why


@pytest.mark.parametrize("name", CHANNELS)
def test_the_service_does_not_start_in_production_with_the_channel_on_and_no_secret(
    compose_binary: Path, tmp_path: Path, name
):
    """The process itself: it exits at once, naming what is missing (and never a value)."""
    channel = CHANNELS[name]
    rendered = compose_rendered(compose_binary, tmp_path, **{channel.mode: channel.on}, **channel.operator)
    environment = {**compose_environment(rendered, "complaints"), "PATH": "/usr/bin:/bin"}
    assert environment["SERAMBI_ENVIRONMENT"] == "production"
    started = subprocess.run(
        [sys.executable, "-m", "serambi_complaints"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    output = started.stdout + started.stderr
    assert f"{channel.mode}={channel.on} needs {channel.secret} (unset, empty or REPLACE_ME" in output
    assert environment["SERAMBI_PII_MASTER_KEY"] not in output
