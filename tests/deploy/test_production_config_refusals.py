"""What production settings refuse, and how the public links follow SERAMBI_PUBLIC_BASE_URL
(issue #14 §2). The local defaults (`make run`, the tests) stay as they were."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from serambi_complaints.settings import ComplaintsSettings
from serambi_intake.settings import IntakeSettings
from serambi_kit.addresses import hosts, is_local
from serambi_notifier.settings import NotifierSettings
from serambi_scheduling.settings import SchedulingSettings
from serambi_web.settings import DEV_OIDC_CLIENT_SECRET, DEV_SESSION_SECRET, ConsoleSettings, WebSettings

PUBLIC = "https://layanan.example.go.id"
PRODUCTION = {
    "environment": "production",
    "auth_jwks_url": "https://sso.example.go.id/certs",
    "pii_master_key": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=",
    "public_base_url": PUBLIC,
}
NOTIFIER = {
    **PRODUCTION,
    "smtp_host": "smtp.example.go.id",
    "sms_url": "https://sms.example.go.id/send",
    "sms_token": "gateway-token",
    "sms_receipt_secret": "receipt-secret",
    "officer_emails": {"supervisor": ["pimpinan@ekonomi.example.go.id"]},
}


def test_the_local_defaults_still_point_at_the_local_stack():
    notifier, intake = NotifierSettings(), IntakeSettings()
    assert notifier.request_status_url == "http://127.0.0.1:8000/lacak/audiensi/{tracking_code}"
    assert notifier.complaint_status_url == "http://127.0.0.1:8000/lacak/pengaduan/{tracking_code}"
    assert notifier.letters_base_url == "http://127.0.0.1:8002/api/v1/letters"
    assert intake.scheduling_public_url == "http://127.0.0.1:8002"


def test_every_public_link_is_built_from_the_public_base_url():
    notifier = NotifierSettings(public_base_url=f"{PUBLIC}/")
    assert notifier.request_status_url == f"{PUBLIC}/lacak/audiensi/{{tracking_code}}"
    assert notifier.complaint_status_url == f"{PUBLIC}/lacak/pengaduan/{{tracking_code}}"
    assert notifier.letters_base_url == f"{PUBLIC}/api/v1/letters"
    assert IntakeSettings(public_base_url=PUBLIC).scheduling_public_url == PUBLIC


def test_a_link_set_explicitly_wins_over_the_public_base_url_and_none_means_no_link():
    notifier = NotifierSettings(
        public_base_url=PUBLIC,
        letters_base_url=None,
        complaint_status_url="https://lapor.example.go.id/{tracking_code}",
    )
    assert notifier.letters_base_url is None
    assert notifier.complaint_status_url == "https://lapor.example.go.id/{tracking_code}"
    assert (
        IntakeSettings(
            public_base_url=PUBLIC, scheduling_public_url="https://surat.example.go.id"
        ).scheduling_public_url
        == "https://surat.example.go.id"
    )


def test_a_complete_production_configuration_is_accepted():
    assert NotifierSettings(**NOTIFIER).letters_base_url == f"{PUBLIC}/api/v1/letters"
    assert IntakeSettings(**PRODUCTION).scheduling_public_url == PUBLIC
    SchedulingSettings(**PRODUCTION, letter_secret="x" * 40)
    ComplaintsSettings(**PRODUCTION)


@pytest.mark.parametrize("settings_class", [IntakeSettings, NotifierSettings])
def test_services_that_send_or_show_links_need_the_public_base_url_in_production(settings_class):
    values = {**NOTIFIER, "public_base_url": None}
    with pytest.raises(ValidationError, match="SERAMBI_PUBLIC_BASE_URL is required in production"):
        settings_class(**values)


def test_services_without_public_links_do_not_need_it():
    without = {**PRODUCTION, "public_base_url": None}
    SchedulingSettings(**without, letter_secret="x" * 40)
    ComplaintsSettings(**without)


@pytest.mark.parametrize(
    ("settings_class", "values", "variable"),
    [
        (NotifierSettings, {"public_base_url": "http://127.0.0.1:8000"}, "SERAMBI_PUBLIC_BASE_URL"),
        (NotifierSettings, {"smtp_host": "127.0.0.1"}, "SERAMBI_SMTP_HOST"),
        (NotifierSettings, {"smtp_host": "localhost"}, "SERAMBI_SMTP_HOST"),
        (NotifierSettings, {"sms_url": "http://localhost:8025/json/messages"}, "SERAMBI_SMS_URL"),
        (
            NotifierSettings,
            {"request_status_url": "http://[::1]:8001/r/{tracking_code}"},
            "SERAMBI_REQUEST_STATUS_URL",
        ),
        (
            NotifierSettings,
            {"complaint_status_url": "http://0.0.0.0:8003/{tracking_code}"},
            "SERAMBI_COMPLAINT_STATUS_URL",
        ),
        (
            NotifierSettings,
            {"letters_base_url": "http://127.0.0.1:8002/api/v1/letters"},
            "SERAMBI_LETTERS_BASE_URL",
        ),
        (NotifierSettings, {"auth_jwks_url": "http://keycloak.localhost/certs"}, "SERAMBI_AUTH_JWKS_URL"),
        (IntakeSettings, {"scheduling_public_url": "http://127.0.0.1:8002"}, "SERAMBI_SCHEDULING_PUBLIC_URL"),
        (
            ComplaintsSettings,
            {"lapor_mode": "http", "lapor_token": "t", "lapor_base_url": "http://127.0.0.2/api"},
            "SERAMBI_LAPOR_BASE_URL",
        ),
    ],
)
def test_production_refuses_an_address_of_this_machine_by_its_variable(settings_class, values, variable):
    with pytest.raises(ValidationError, match=f"{variable}=.* points at this machine"):
        settings_class(**{**NOTIFIER, **values})
    settings_class(**{**NOTIFIER, **values, "environment": "development"})  # local stacks may


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"sms_token": None}, "SERAMBI_SMS_TOKEN"),
        ({"sms_token": ""}, "SERAMBI_SMS_TOKEN"),
        ({"sms_receipt_secret": ""}, "SERAMBI_SMS_RECEIPT_SECRET"),
        ({"sms_provider": "zenziva", "sms_token": None, "sms_userkey": "u"}, "SERAMBI_SMS_PASSKEY"),
        ({"public_base_url": "layanan.example.go.id"}, "SERAMBI_PUBLIC_BASE_URL must be an http"),
    ],
)
def test_production_refuses_a_notifier_without_its_gateway_credentials(values, message):
    with pytest.raises(ValidationError, match=message):
        NotifierSettings(**{**NOTIFIER, **values})


def test_zenziva_needs_no_token_and_an_empty_smtp_login_means_none():
    settings = NotifierSettings(
        **{
            **NOTIFIER,
            "sms_provider": "zenziva",
            "sms_token": "",
            "sms_userkey": "u",
            "sms_passkey": "p",
            "smtp_username": "",
            "smtp_password": "",
        }
    )
    assert settings.sms_token is None and settings.smtp_username is None and settings.smtp_password is None


@pytest.mark.parametrize(
    ("address", "named"),
    [
        (
            "mongodb://u:p@mongo-1:27017,mongo-2:27017,mongo-3:27017/?replicaSet=rs0",
            ["mongo-1", "mongo-2", "mongo-3"],
        ),
        ("nats://nats:4222", ["nats"]),
        ("http://[::1]:8000/x", ["::1"]),
        ("smtp.example.go.id", ["smtp.example.go.id"]),
        ("LOCALHOST.", ["localhost"]),
    ],
)
def test_the_hosts_of_an_address_are_read_from_urls_lists_and_bare_hosts(address, named):
    assert hosts(address) == named


def test_only_addresses_of_this_machine_count_as_local():
    assert is_local("mongodb://a:27017,127.0.0.1:27017/") and is_local("http://[::ffff:127.0.0.1]/")
    assert not is_local("https://layanan.example.go.id/api") and not is_local("http://10.0.0.1/")


WEB = {
    "environment": "production",
    "session_secret": "s" * 64,
    "secure_cookies": True,
    "intake_url": "http://intake",
    "complaints_url": "http://complaints",
    "scheduling_url": "http://scheduling",
}


def test_a_complete_production_configuration_of_the_portal_is_accepted():
    assert WebSettings(**WEB).intake_url == "http://intake"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"session_secret": DEV_SESSION_SECRET}, "SERAMBI_SESSION_SECRET must be set to a secret"),
        ({"session_secret": "s" * 31}, "SERAMBI_SESSION_SECRET must be at least 32 characters"),
        ({"secure_cookies": False}, "SERAMBI_SECURE_COOKIES must be true"),
        ({"intake_url": "http://127.0.0.1:8001"}, "SERAMBI_INTAKE_URL=.* points at this machine"),
        ({"complaints_url": "http://localhost:8003"}, "SERAMBI_COMPLAINTS_URL=.* points at this machine"),
        ({"scheduling_url": "http://[::1]:8002"}, "SERAMBI_SCHEDULING_URL=.* points at this machine"),
    ],
)
def test_production_refuses_a_portal_with_a_development_secret_insecure_cookies_or_a_local_service(
    values, message
):
    with pytest.raises(ValidationError, match=message):
        WebSettings(**{**WEB, **values})
    WebSettings(**{**WEB, **values, "environment": "development"})  # the local stack may


CONSOLE = {
    "environment": "production",
    "oidc_issuer": "https://sso.example.go.id/realms/serambi",
    "oidc_client_secret": "the-client-secret-from-the-provider",
    "public_base_url": PUBLIC,
}


def test_a_complete_production_configuration_of_the_officer_console_is_accepted():
    assert ConsoleSettings(**CONSOLE).oidc_client_secret.get_secret_value() == CONSOLE["oidc_client_secret"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"oidc_client_secret": DEV_OIDC_CLIENT_SECRET},
            "SERAMBI_OIDC_CLIENT_SECRET must be the client's secret",
        ),
        ({"oidc_issuer": "http://127.0.0.1:8010"}, "SERAMBI_OIDC_ISSUER must be an https address"),
        ({"public_base_url": None}, "SERAMBI_PUBLIC_BASE_URL must be an https address"),
    ],
)
def test_production_refuses_a_console_with_the_development_client_or_provider(values, message):
    with pytest.raises(ValidationError, match=message):
        ConsoleSettings(**{**CONSOLE, **values})
    ConsoleSettings(**{**CONSOLE, **values, "environment": "development"})  # the local stack may


def test_a_refused_console_configuration_does_not_echo_the_client_secret(monkeypatch):
    # as the container gets it: the environment, the secret the last value read
    monkeypatch.setenv("SERAMBI_ENVIRONMENT", "production")
    monkeypatch.setenv("SERAMBI_OIDC_ISSUER", "http://127.0.0.1:8010")
    monkeypatch.setenv("SERAMBI_OIDC_CLIENT_SECRET", "pasted-secret")
    with pytest.raises(ValidationError) as refused:
        ConsoleSettings()
    assert "SERAMBI_OIDC_ISSUER" in str(refused.value)
    assert "pasted-secret" not in str(refused.value) and "input_value" not in str(refused.value)


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        (
            {"officer_emails": None},
            "SERAMBI_OFFICER_EMAILS",
        ),  # the local default: *@biro-perekonomian.example
        (
            {"officer_emails": {"desk": ["tata-usaha@ekonomi.example.go.id", "kabiro@ekonomi.example"]}},
            "SERAMBI_OFFICER_EMAILS",
        ),
        ({"officer_emails": {"supervisor": ["pimpinan@example.com"]}}, "SERAMBI_OFFICER_EMAILS"),
        ({"officer_emails": {"supervisor": ["pimpinan@kantor.test"]}}, "SERAMBI_OFFICER_EMAILS"),
        ({"officer_emails": {"supervisor": ["REPLACE_ME"]}}, "SERAMBI_OFFICER_EMAILS"),
        ({"assignee_emails": {"tim-a": ["tim-a@biro-perekonomian.example"]}}, "SERAMBI_ASSIGNEE_EMAILS"),
        ({"host_emails": {"kepala-biro": ["kabiro@biro-perekonomian.example"]}}, "SERAMBI_HOST_EMAILS"),
    ],
)
def test_production_refuses_placeholder_officer_recipients_naming_the_variable(values, variable):
    settings = {**NOTIFIER, **values}
    if values.get("officer_emails", "") is None:
        del settings["officer_emails"]
    with pytest.raises(ValidationError, match=f"{variable} .* holds a placeholder address"):
        NotifierSettings(**settings)
    NotifierSettings(**{**settings, "environment": "development"})  # the local stack may


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"host_emails": {"kepala-biro": ["kabiro@ekonomi.go.id, wakil@ekonomi.go.id"]}},
            "SERAMBI_HOST_EMAILS .'kepala-biro'. holds a value that is not one e-mail address",
        ),
        (
            {"host_emails": {"kepala-biro": ["kabiro@ekonomi..go.id"]}},
            "SERAMBI_HOST_EMAILS .'kepala-biro'. holds a value",
        ),
        (
            {"host_phones": {"kepala-biro": ["12345"]}},
            "SERAMBI_HOST_PHONES .'kepala-biro'. holds a value that is not an Indonesian mobile number",
        ),
        ({"host_phones": {"kepala-biro": ["REPLACE_ME"]}}, "SERAMBI_HOST_PHONES"),
    ],
)
def test_production_refuses_malformed_host_addresses_naming_the_variable_not_the_value(values, message):
    with pytest.raises(ValidationError, match=message) as refused:
        NotifierSettings(**{**NOTIFIER, **values})
    assert "wakil@" not in str(refused.value) and "12345" not in str(refused.value)
    NotifierSettings(**{**NOTIFIER, **values, "environment": "development"})  # the local stack may
    NotifierSettings(
        **{
            **NOTIFIER,
            "host_emails": {"kepala-biro": ["kabiro@ekonomi.kalbarprov.go.id"]},
            "host_phones": {"kepala-biro": ["0812 3333 4444"]},
        }
    )


@pytest.mark.parametrize("variable", ["SERAMBI_HOST_EMAILS", "SERAMBI_HOST_PHONES"])
@pytest.mark.parametrize(
    ("raw", "message"),
    [("REPLACE_ME", "is still the template's REPLACE_ME"), ('{"kepala-biro": ["0812', "is not JSON")],
)
def test_a_host_variable_left_at_the_template_or_not_json_is_refused_by_name(
    monkeypatch, variable, raw, message
):
    monkeypatch.setenv(variable, raw)
    with pytest.raises(ValidationError, match=f"{variable} {message}") as refused:
        NotifierSettings(**NOTIFIER)
    assert "0812" not in str(refused.value)


def test_the_refusal_of_a_placeholder_names_what_the_addresses_are_keyed_by():
    with pytest.raises(ValidationError, match="per host id"):
        NotifierSettings(**{**NOTIFIER, "host_emails": {"kepala-biro": ["kabiro@ekonomi.example"]}})
    with pytest.raises(ValidationError, match="per role"):
        NotifierSettings(**{**NOTIFIER, "officer_emails": {"desk": ["tata-usaha@ekonomi.example"]}})
