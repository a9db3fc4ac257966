"""The WhatsApp channel's configuration in deploy/ (issue #17 §3): its settings reach the
complaints service — the secrets from the Secret / .env, the rest from configuration — and its
mode reaches the notifier too, in compose and in Kubernetes; production refuses to start with the
channel on but a secret missing, empty or left at the template's REPLACE_ME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError
from serambi_complaints.settings import ComplaintsSettings

from .test_compose import OPERATOR, compose
from .test_production_config import (
    PROD,
    compose_config,
    compose_environment,
    env_file_values,
    kubernetes_environment,
    kustomize,
    placeholder_secrets,
    production_settings,
    write_init_env,
)

SECRETS = ("SERAMBI_WHATSAPP_ACCESS_TOKEN", "SERAMBI_WHATSAPP_APP_SECRET", "SERAMBI_WHATSAPP_VERIFY_TOKEN")
FROM_META = {
    "SERAMBI_WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
    "SERAMBI_WHATSAPP_ACCESS_TOKEN": "EAAG-system-user-token",
    "SERAMBI_WHATSAPP_APP_SECRET": "a1b2c3",
}


def refusal(environment: dict[str, str]) -> str:
    """Why ComplaintsSettings refuses exactly ``environment`` ('' when it accepts it)."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("SERAMBI_")}
    for name in saved:
        del os.environ[name]
    os.environ.update(environment)
    try:
        ComplaintsSettings()
        return ""
    except ValidationError as error:
        return str(error)
    finally:
        for name in environment:
            os.environ.pop(name, None)
        os.environ.update(saved)


@pytest.fixture(scope="module")
def prod_objects(kubectl_binary: str) -> list[dict]:
    return kustomize(kubectl_binary, PROD)


def enabled(objects: list[dict], phone_number_id: str) -> list[dict]:
    """The prod overlay as an operator turns the channel on (mode and the number's id)."""
    objects = json.loads(json.dumps(objects))
    for document in objects:
        if document["kind"] == "ConfigMap" and document["metadata"]["name"].startswith("serambi-config"):
            document["data"]["SERAMBI_WHATSAPP_MODE"] = "cloud"
        if document["kind"] == "ConfigMap" and document["metadata"]["name"].startswith(
            "serambi-complaints-config"
        ):
            document["data"]["SERAMBI_WHATSAPP_PHONE_NUMBER_ID"] = phone_number_id
    return objects


def test_the_channel_is_off_and_configured_alike_for_complaints_and_the_notifier_in_both(
    compose_binary: Path, tmp_path: Path, prod_objects
):
    rendered = compose_config(compose_binary, write_init_env(tmp_path))
    created = placeholder_secrets()
    for where, environment in (
        ("compose", lambda s: compose_environment(rendered, s)),
        ("kubernetes", lambda s: kubernetes_environment(prod_objects, s, created)),
    ):
        complaints = production_settings("complaints", environment("complaints"))
        notifier = production_settings("notifier", environment("notifier"))
        assert complaints.whatsapp_mode == notifier.whatsapp_mode == "off", where
        assert complaints.whatsapp_api_base_url == "https://graph.facebook.com/v21.0", where
        assert (complaints.whatsapp_template, complaints.whatsapp_template_language) == (
            "serambi_jawaban_pengaduan",
            "id",
        ), where
        assert complaints.whatsapp_receipt_template is None, where  # none approved yet: late receipts by SMS


def test_the_receipt_template_reaches_complaints_from_env_and_from_the_config_map(
    compose_binary: Path, tmp_path: Path, prod_objects
):
    env_file = write_init_env(tmp_path)
    assert env_file_values(env_file)["SERAMBI_WHATSAPP_RECEIPT_TEMPLATE"] == ""
    env_file.write_text(
        env_file.read_text().replace(
            "\nSERAMBI_WHATSAPP_RECEIPT_TEMPLATE=\n",
            "\nSERAMBI_WHATSAPP_RECEIPT_TEMPLATE=serambi_terima_pengaduan\n",
        )
    )
    rendered = compose_config(compose_binary, env_file)
    complaints = production_settings("complaints", compose_environment(rendered, "complaints"))
    assert complaints.whatsapp_receipt_template == "serambi_terima_pengaduan"
    objects = json.loads(json.dumps(prod_objects))
    for document in objects:
        if document["kind"] == "ConfigMap" and document["metadata"]["name"].startswith(
            "serambi-complaints-config"
        ):
            assert document["data"]["SERAMBI_WHATSAPP_RECEIPT_TEMPLATE"] == ""
            document["data"]["SERAMBI_WHATSAPP_RECEIPT_TEMPLATE"] = "serambi_terima_pengaduan"
    environment = kubernetes_environment(objects, "complaints", placeholder_secrets())
    assert (
        production_settings("complaints", environment).whatsapp_receipt_template == "serambi_terima_pengaduan"
    )


def test_compose_turns_the_channel_on_for_both_services_with_the_values_from_env(
    compose_binary: Path, tmp_path: Path
):
    env_file = write_init_env(tmp_path)
    written = env_file_values(env_file)
    assert len(written["SERAMBI_WHATSAPP_VERIFY_TOKEN"]) >= 32  # ours, generated
    text = env_file.read_text().replace("SERAMBI_WHATSAPP_MODE=off", "SERAMBI_WHATSAPP_MODE=cloud")
    for name, value in FROM_META.items():
        text = text.replace(f"\n{name}=\n", f"\n{name}={value}\n")
    env_file.write_text(text)
    rendered = compose_config(compose_binary, env_file)
    complaints = production_settings("complaints", compose_environment(rendered, "complaints"))
    assert complaints.whatsapp_enabled and complaints.whatsapp_phone_number_id == "106540352242922"
    assert complaints.whatsapp_access_token.get_secret_value() == "EAAG-system-user-token"
    assert complaints.whatsapp_app_secret.get_secret_value() == "a1b2c3"
    assert complaints.whatsapp_verify_token.get_secret_value() == written["SERAMBI_WHATSAPP_VERIFY_TOKEN"]
    assert production_settings("notifier", compose_environment(rendered, "notifier")).whatsapp_mode == "cloud"


def test_compose_with_the_channel_on_but_its_secrets_unset_is_refused_naming_them(
    compose_binary: Path, tmp_path: Path
):
    rendered = json.loads(
        compose(
            compose_binary,
            "config",
            "--format",
            "json",
            env_file=write_init_env(tmp_path),
            env={**OPERATOR, "SERAMBI_WHATSAPP_MODE": "cloud"},
        ).stdout
    )
    why = refusal(compose_environment(rendered, "complaints"))
    for name in (
        "SERAMBI_WHATSAPP_PHONE_NUMBER_ID",
        "SERAMBI_WHATSAPP_ACCESS_TOKEN",
        "SERAMBI_WHATSAPP_APP_SECRET",
    ):
        assert name in why
    assert "SERAMBI_WHATSAPP_VERIFY_TOKEN" not in why  # init-env.sh wrote one


def test_kubernetes_takes_the_channels_secrets_from_the_complaints_secret(prod_objects):
    created = placeholder_secrets()
    environment = kubernetes_environment(enabled(prod_objects, "106540352242922"), "complaints", created)
    settings = production_settings("complaints", environment)
    assert settings.whatsapp_enabled and settings.whatsapp_phone_number_id == "106540352242922"
    keys = created["serambi-complaints"]
    assert settings.whatsapp_access_token.get_secret_value() == keys["whatsapp-access-token"]
    assert settings.whatsapp_app_secret.get_secret_value() == keys["whatsapp-app-secret"]
    assert settings.whatsapp_verify_token.get_secret_value() == keys["whatsapp-verify-token"]
    notifier = kubernetes_environment(enabled(prod_objects, "1"), "notifier", created)
    assert production_settings("notifier", notifier).whatsapp_mode == "cloud"


@pytest.mark.parametrize("how", ["absent", "empty", "REPLACE_ME"])
def test_kubernetes_with_the_channel_on_and_a_secret_missing_empty_or_a_placeholder_is_refused(
    prod_objects, how
):
    created = placeholder_secrets()
    keys = created["serambi-complaints"]
    if how == "absent":  # the keys are optional: the variable is then not set at all
        del keys["whatsapp-app-secret"]
    else:
        keys["whatsapp-app-secret"] = "" if how == "empty" else "REPLACE_ME"
    objects = enabled(prod_objects, "106540352242922")
    if how == "absent":
        for document in objects:
            if document["kind"] == "Deployment" and document["metadata"]["name"] == "complaints":
                container = document["spec"]["template"]["spec"]["containers"][0]
                container["env"] = [v for v in container["env"] if v["name"] != "SERAMBI_WHATSAPP_APP_SECRET"]
    why = refusal(kubernetes_environment(objects, "complaints", created))
    assert "SERAMBI_WHATSAPP_MODE=cloud needs SERAMBI_WHATSAPP_APP_SECRET" in why
    assert keys.get("whatsapp-access-token", "") not in why  # a refusal names, never shows, a value
    assert (
        refusal(kubernetes_environment(enabled(prod_objects, ""), "complaints", placeholder_secrets())).count(
            "SERAMBI_WHATSAPP_PHONE_NUMBER_ID"
        )
        == 1
    )  # the overlay's empty id is no id


def test_the_secret_keys_are_optional_so_a_deployment_without_whatsapp_needs_none(prod_objects):
    deployment = next(
        o for o in prod_objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "complaints"
    )
    references = {
        v["name"]: v["valueFrom"]["secretKeyRef"]
        for v in deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        if v["name"] in SECRETS
    }
    assert set(references) == set(SECRETS)
    assert all(ref["name"] == "serambi-complaints" and ref["optional"] is True for ref in references.values())


def test_the_service_does_not_start_in_production_with_the_channel_on_and_no_secrets(
    compose_binary: Path, tmp_path: Path
):
    """The process itself: it exits at once, naming what is missing (and never a value)."""
    rendered = json.loads(
        compose(
            compose_binary,
            "config",
            "--format",
            "json",
            env_file=write_init_env(tmp_path),
            env={
                **OPERATOR,
                "SERAMBI_WHATSAPP_MODE": "cloud",
                "SERAMBI_WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
            },
        ).stdout
    )
    environment = {**compose_environment(rendered, "complaints"), "PATH": "/usr/bin:/bin"}
    started = subprocess.run(
        [sys.executable, "-m", "serambi_complaints"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    output = started.stdout + started.stderr
    assert (
        "SERAMBI_WHATSAPP_MODE=cloud needs SERAMBI_WHATSAPP_ACCESS_TOKEN, SERAMBI_WHATSAPP_APP_SECRET"
        in output
    )
    assert environment["SERAMBI_WHATSAPP_VERIFY_TOKEN"] not in output
