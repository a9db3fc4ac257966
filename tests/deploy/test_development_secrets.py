"""Unsafe defaults (issue 19 item 7): production unless development is chosen explicitly, and a
production process refuses every secret published in the repository.

- The image sets SERAMBI_ENVIRONMENT=production, and so do the settings classes when the
  variable is unset: one forgotten variable can no longer make the development signing key, the
  development master key or any other development secret live.
- `serambi dev up` (make run) and the test stacks choose development or test themselves; the
  development OpenID provider starts only when one of them is chosen.
- Production refuses, in every secret setting of every settings class, each value listed in
  ``DEVELOPMENT_SECRETS``: the code's development defaults, the development cluster's Secrets
  (deploy/k8s/overlays/dev) and deploy/compose/.env.example's placeholders; the list is checked
  against those sources here, so a new published secret must be added to it. So are the
  production template's REPLACE_ME and an empty secret (issue 19 review).
"""

from __future__ import annotations

import importlib
import re

import pytest
import yaml
from pydantic import SecretStr, ValidationError
from serambi_complaints.settings import ComplaintsSettings
from serambi_intake.settings import IntakeSettings
from serambi_kit.required import PLACEHOLDER
from serambi_kit.settings import DEVELOPMENT_SECRETS, ServiceSettings
from serambi_notifier.settings import NotifierSettings
from serambi_scheduling.settings import SchedulingSettings
from serambi_web.settings import ConsoleSettings, WebSettings
from typer.testing import CliRunner

from .conftest import DEPLOY

PUBLIC = "https://layanan.example.go.id"
SERVICE = {
    "environment": "production",
    "auth_jwks_url": "https://sso.example.go.id/certs",
    "auth_issuer": "https://sso.example.go.id/realms/serambi",
    "pii_master_key": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=",
    "public_base_url": PUBLIC,
}
PRODUCTION = {
    ServiceSettings: SERVICE,
    IntakeSettings: SERVICE,
    ComplaintsSettings: SERVICE,
    SchedulingSettings: {**SERVICE, "letter_secret": "l" * 40},
    NotifierSettings: {
        **SERVICE,
        "smtp_host": "smtp.example.go.id",
        "sms_url": "https://sms.example.go.id/send",
        "sms_token": "gateway-token",
        "sms_receipt_secret": "receipt-secret",
        "officer_emails": {"supervisor": ["pimpinan@ekonomi.example.go.id"]},
    },
    WebSettings: {
        "environment": "production",
        "session_secret": "s" * 64,
        "secure_cookies": True,
        "intake_url": "http://intake",
        "complaints_url": "http://complaints",
        "scheduling_url": "http://scheduling",
    },
    ConsoleSettings: {
        "environment": "production",
        "oidc_issuer": "https://sso.example.go.id/realms/serambi",
        "oidc_client_secret": "the-client-secret-from-the-provider",
        "public_base_url": PUBLIC,
    },
}
SETTINGS_MODULES = (
    "serambi_kit.settings",
    "serambi_intake.settings",
    "serambi_scheduling.settings",
    "serambi_complaints.settings",
    "serambi_notifier.settings",
    "serambi_web.settings",
    "serambi_ops.devidp.accounts",
)
SECRET_NAME = re.compile(r"(PASSWORD|SECRET|KEY|KEYFILE|TOKEN)$")


# -- production unless chosen -------------------------------------------------------------------


def test_the_image_runs_every_process_in_production_unless_a_deployment_says_otherwise():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    runtime = dockerfile.split("AS runtime", 1)[1].split("\nFROM ", 1)[0]  # the ops and service images
    assert re.search(r"^\s+SERAMBI_ENVIRONMENT=production\b", runtime, re.M)


@pytest.mark.parametrize("settings_class", list(PRODUCTION))
def test_with_no_environment_chosen_a_process_is_in_production_and_refuses_the_development_defaults(
    settings_class, monkeypatch
):
    monkeypatch.delenv("SERAMBI_ENVIRONMENT", raising=False)
    assert settings_class.model_fields["environment"].default == "production"
    with pytest.raises(ValidationError, match="in production"):
        settings_class()
    assert settings_class(environment="development").environment == "development"


def test_serambi_dev_up_chooses_development_for_each_process_it_starts(tmp_path):
    from serambi_ops.devstack import Ports, Supervisor

    _, apps = Supervisor(tmp_path, Ports()).plan()
    started = {child.name: child.env.get("SERAMBI_ENVIRONMENT") for child in apps if "sink" not in child.name}
    assert set(started) == {"oidc", "intake", "scheduling", "complaints", "notifier", "web"}
    assert set(started.values()) == {"development"}


@pytest.mark.parametrize("environment", [None, "production", "staging"])
def test_the_development_provider_starts_only_in_development_or_test(environment, monkeypatch, capsys):
    from serambi_ops.devidp import __main__ as devidp

    if environment is None:
        monkeypatch.delenv("SERAMBI_ENVIRONMENT", raising=False)
    else:
        monkeypatch.setenv("SERAMBI_ENVIRONMENT", environment)
    assert devidp.main(["--port", "1"]) == 2
    assert "refused in production" in capsys.readouterr().err


def test_serambi_token_signs_development_tokens_unless_told_it_is_production(monkeypatch):
    from serambi_ops.cli import app

    monkeypatch.delenv("SERAMBI_ENVIRONMENT", raising=False)
    made = CliRunner().invoke(app, ["token", "--role", "desk"])
    assert made.exit_code == 0 and made.stdout.count(".") == 2
    refused = CliRunner().invoke(app, ["token", "--role", "desk"], env={"SERAMBI_ENVIRONMENT": "production"})
    assert refused.exit_code == 2 and "refused in production" in refused.stderr


# -- the published secrets ----------------------------------------------------------------------


def test_every_development_default_of_the_code_is_a_published_secret():
    constants = {
        f"{module}.{name}": value
        for module in SETTINGS_MODULES
        for name, value in vars(importlib.import_module(module)).items()
        if name.startswith("DEV_") and isinstance(value, str)
    }
    assert len(constants) >= 8
    assert {name for name, value in constants.items() if value not in DEVELOPMENT_SECRETS} == set()


def test_every_secret_of_the_development_cluster_is_a_published_secret():
    overlay = yaml.safe_load((DEPLOY / "k8s" / "overlays" / "dev" / "kustomization.yaml").read_text())
    values = {
        literal.partition("=")[2] for secret in overlay["secretGenerator"] for literal in secret["literals"]
    }
    values.discard("")  # smtp-username=, smtp-password=: none
    assert len(values) >= 15
    assert values - DEVELOPMENT_SECRETS == set()


def test_every_secret_of_the_compose_example_env_is_a_published_secret():
    lines = (DEPLOY / "compose" / ".env.example").read_text().splitlines()
    values = {
        value
        for name, _, value in (line.partition("=") for line in lines if not line.startswith("#"))
        if SECRET_NAME.search(name) and value
    }
    assert len(values) >= 3
    assert values - DEVELOPMENT_SECRETS == set()


def _secret_fields() -> list[tuple[type, str]]:
    return [
        (settings_class, name)
        for settings_class in PRODUCTION
        for name, field in settings_class.model_fields.items()
        if field.annotation in (SecretStr, SecretStr | None)
    ]


def _published_values(name: str) -> list[str]:
    """Published values a setting could hold without failing a check of its form first."""
    if name == "pii_master_key":
        return [
            "c2VyYW1iaS1kZXYtY2x1c3Rlci1tYXN0ZXIta2V5ISE=",
            "cGxhY2Vob2xkZXItbm90LWEtc2VjcmV0LXh4eHh4eHg=",
        ]
    if name == "session_secret":  # at least 32 characters
        return [
            "dev-web-session-secret-not-for-production",
            "placeholder-not-a-secret-placeholder-not-a-secret",
        ]
    if name == "mongo_url":
        return [
            "mongodb://intake:dev-intake-mongo@mongo-0.mongo:27017,mongo-1.mongo:27017/?replicaSet=rs0",
            "mongodb://intake:placeholder-not-a-secret@mongo-1:27017/?authSource=admin",
        ]
    return [
        "dev-scheduling-letters",
        "placeholder-not-a-secret",
        "serambi-dev",
        "serambi-web-development-secret",
    ]


def test_the_secret_settings_are_found():
    found = {name for _, name in _secret_fields()}
    assert {
        "pii_master_key",
        "nats_password",
        "mongo_url",
        "letter_secret",
        "sms_token",
        "sms_receipt_secret",
        "smtp_password",
        "whatsapp_app_secret",
        "email_imap_password",
        "lapor_token",
        "session_secret",
        "oidc_client_secret",
        "auth_dev_signing_key",
    } <= found


@pytest.mark.parametrize(
    ("settings_class", "name"), _secret_fields(), ids=lambda item: getattr(item, "__name__", item)
)
def test_production_refuses_every_published_secret_in_every_secret_setting_naming_it(settings_class, name):
    settings_class(**PRODUCTION[settings_class])  # the configuration is otherwise accepted
    for value in _published_values(name):
        with pytest.raises(ValidationError, match=f"SERAMBI_{name.upper()} must be") as refused:
            settings_class(**{**PRODUCTION[settings_class], name: value})
        assert value not in str(refused.value)
        settings_class(**{**PRODUCTION[settings_class], name: value, "environment": "development"})


def test_a_secret_of_its_own_is_accepted_in_every_secret_setting():
    for settings_class, name in _secret_fields():
        if name in ("auth_dev_signing_key", "mongo_url"):
            continue  # refused whatever its value / not a secret of its own
        value = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTk4NzY=" if name == "pii_master_key" else "x9" * 20
        settings_class(**{**PRODUCTION[settings_class], name: value})
    ServiceSettings(**SERVICE, mongo_url="mongodb://intake:a-generated-password@mongo-1:27017/")


# -- the template's placeholder and empty secrets ------------------------------------------------


def _placeholder_form(name: str, secret: str) -> str:
    """``secret`` where a setting holds it: a MongoDB URL holds it as its password."""
    return f"mongodb://intake:{secret}@mongo-1:27017/?authSource=admin" if name == "mongo_url" else secret


@pytest.mark.parametrize(
    ("settings_class", "name"), _secret_fields(), ids=lambda item: getattr(item, "__name__", item)
)
def test_production_refuses_the_templates_placeholder_in_every_secret_setting_naming_it(settings_class, name):
    """deploy/k8s/overlays/prod/secrets.template.yaml's REPLACE_ME (serambi_kit.required's
    constant), left in a Secret, is refused like a published value — a channel that is off
    included: its keys are to be left out, not left at the placeholder."""
    value = _placeholder_form(name, PLACEHOLDER)
    with pytest.raises(ValidationError, match=f"SERAMBI_{name.upper()} must be") as refused:
        settings_class(**{**PRODUCTION[settings_class], name: value})
    assert "mongo-1" not in str(refused.value)  # never the value (nor the URL around it)
    settings_class(**{**PRODUCTION[settings_class], name: value, "environment": "development"})


#: secret settings a process cannot do without: an empty value is refused, never taken as none
NEEDED = {
    "pii_master_key",
    "nats_password",
    "letter_secret",
    "sms_receipt_secret",
    "session_secret",
    "oidc_client_secret",
}


@pytest.mark.parametrize(
    ("settings_class", "name"), _secret_fields(), ids=lambda item: getattr(item, "__name__", item)
)
@pytest.mark.parametrize("empty", ["", "   "])
def test_production_refuses_an_empty_secret_unless_empty_means_unset(settings_class, name, empty):
    """An empty or blank secret protects nothing: refused by name. Only the optional secrets of
    an integration (compose's ``${X:-}``, an empty Secret key) read an empty value as "not set"."""
    if name == "auth_dev_signing_key":
        return  # refused whatever its value
    values = {**PRODUCTION[settings_class], name: _placeholder_form(name, empty)}
    try:
        settings = settings_class(**values)
    except ValidationError as refused:
        assert re.search(f"SERAMBI_{name.upper()}\\b[^,]* must be", str(refused)), str(refused)
        return
    assert name not in NEEDED and name != "mongo_url", (
        f"{settings_class.__name__}.{name}: an empty secret accepted"
    )
    assert getattr(settings, name) is None  # read as not set


def test_the_reviewed_configuration_left_at_replace_me_does_not_start(monkeypatch):
    """The review's reproduction: every secret of the production template still REPLACE_ME."""
    for name in [n for n in __import__("os").environ if n.startswith("SERAMBI_")]:
        monkeypatch.delenv(name)
    production = {
        "SERAMBI_ENVIRONMENT": "production",
        "SERAMBI_AUTH_JWKS_URL": "https://sso.bureau.go.id/certs",
        "SERAMBI_AUTH_ISSUER": "https://sso.bureau.go.id/realms/serambi",
        "SERAMBI_PUBLIC_BASE_URL": "https://layanan.bureau.go.id",
        "SERAMBI_PII_MASTER_KEY": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=",
        "SERAMBI_SMTP_HOST": "smtp.bureau.go.id",
        "SERAMBI_SMS_URL": "https://sms.bureau.go.id/api",
        "SERAMBI_OFFICER_EMAILS": '{"desk":["desk@bureau.go.id"]}',
    }
    secrets = {
        "SERAMBI_NATS_PASSWORD": "x9" * 20,
        "SERAMBI_LETTER_SECRET": "l9" * 20,
        "SERAMBI_SMS_RECEIPT_SECRET": "r9" * 20,
        "SERAMBI_SMS_TOKEN": "t9" * 20,
        "SERAMBI_SMTP_USERNAME": "serambi",
        "SERAMBI_SMTP_PASSWORD": "p9" * 20,
        "SERAMBI_MONGO_URL": "mongodb://scheduling:m9m9m9m9@mongo-0.mongo:27017/?replicaSet=rs0",
    }
    for name, value in {**production, **secrets}.items():
        monkeypatch.setenv(name, value)
    SchedulingSettings(), NotifierSettings()  # with secrets of their own: accepted
    left = {
        "SERAMBI_NATS_PASSWORD": (SchedulingSettings, NotifierSettings),
        "SERAMBI_LETTER_SECRET": (SchedulingSettings,),
        "SERAMBI_SMS_RECEIPT_SECRET": (NotifierSettings,),
        "SERAMBI_SMS_TOKEN": (NotifierSettings,),
        "SERAMBI_SMTP_USERNAME": (NotifierSettings,),
        "SERAMBI_SMTP_PASSWORD": (NotifierSettings,),
        "SERAMBI_MONGO_URL": (SchedulingSettings, NotifierSettings),
    }
    for variable, classes in left.items():
        placeholder = (
            secrets[variable].replace("m9m9m9m9", PLACEHOLDER)
            if variable == "SERAMBI_MONGO_URL"
            else PLACEHOLDER
        )
        monkeypatch.setenv(variable, placeholder)
        for settings_class in classes:
            with pytest.raises(
                ValidationError,
                match=f"{variable} must be set to a secret in production: "
                f"it is still the production template's {PLACEHOLDER}",
            ):
                settings_class()
        monkeypatch.setenv(variable, secrets[variable])


def test_a_mongo_url_without_a_password_has_none_to_check_but_an_empty_one_is_refused():
    ServiceSettings(**SERVICE, mongo_url="mongodb://mongo-1:27017/")  # no credentials (x.509, a local server)
    ServiceSettings(**SERVICE, mongo_url="mongodb://intake@mongo-1:27017/?authMechanism=MONGODB-X509")
    with pytest.raises(
        ValidationError, match="SERAMBI_MONGO_URL must be set to a secret in production: it is empty"
    ):
        ServiceSettings(**SERVICE, mongo_url="mongodb://intake:@mongo-1:27017/")


# -- operator commands ---------------------------------------------------------------------------


def test_an_operator_command_needs_no_identity_provider_but_refuses_a_published_secret(monkeypatch):
    from serambi_ops.services import SERVICES, operator_settings

    for name in [n for n in __import__("os").environ if n.startswith("SERAMBI_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SERAMBI_NATS_PASSWORD", "a-generated-password")
    settings = operator_settings()  # `serambi streams apply`: NATS only
    assert settings.environment == "production" and settings.auth_dev_signing_key is None
    assert SERVICES["notifier"].runtime().settings.environment == "production"  # dead letters, rebuilds
    with pytest.raises(SystemExit, match="SERAMBI_PII_MASTER_KEY is required in production"):
        operator_settings(vault=True)  # erasure would open the vault with the development key
    monkeypatch.setenv("SERAMBI_PII_MASTER_KEY", "c2VyYW1iaS1kZXYtY2x1c3Rlci1tYXN0ZXIta2V5ISE=")
    with pytest.raises(SystemExit, match="SERAMBI_PII_MASTER_KEY must be set to a secret"):
        operator_settings(vault=True)
    monkeypatch.setenv("SERAMBI_PII_MASTER_KEY", "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=")
    assert operator_settings(vault=True).pii_master_key.get_secret_value().startswith("c2Vj")
    monkeypatch.setenv("SERAMBI_NATS_PASSWORD", "dev-ops-nats")
    with pytest.raises(SystemExit, match="SERAMBI_NATS_PASSWORD must be set to a secret"):
        operator_settings()
    for left in (PLACEHOLDER, ""):  # the template's placeholder, an empty Secret key
        monkeypatch.setenv("SERAMBI_NATS_PASSWORD", left)
        with pytest.raises(SystemExit, match="SERAMBI_NATS_PASSWORD must be set to a secret"):
            operator_settings()
    monkeypatch.setenv("SERAMBI_ENVIRONMENT", "development")
    assert operator_settings(vault=True).environment == "development"


@pytest.mark.parametrize(
    ("target", "expected"), [("overlays/dev", "development"), ("overlays/prod", "production")]
)
def test_the_ops_jobs_and_toolbox_run_in_the_environment_of_their_cluster(kubectl_binary, target, expected):
    import subprocess

    rendered = subprocess.run(
        [kubectl_binary, "kustomize", str(DEPLOY / "k8s" / target)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    objects = [o for o in yaml.safe_load_all(rendered) if o]
    config = next(
        o["data"]
        for o in objects
        if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("serambi-config")
    )
    for kind, name in (("Deployment", "ops"), ("Job", "streams-apply")):
        workload = next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)
        env = {v["name"]: v for v in workload["spec"]["template"]["spec"]["containers"][0]["env"]}
        key = env["SERAMBI_ENVIRONMENT"]["valueFrom"]["configMapKeyRef"]["key"]
        assert config[key] == expected, (target, name)
