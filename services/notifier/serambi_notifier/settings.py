"""Notifier's settings (environment variables ``SERAMBI_*``; see the kit's ServiceSettings).

The defaults deliver into the local sinks that ``make run`` starts: SMTP on 127.0.0.1:1025 and
the SMS sink's JSON API on http://127.0.0.1:8025. Officers' addresses and numbers per role are
JSON objects, e.g. ``SERAMBI_OFFICER_EMAILS='{"supervisor": ["kabiro@ekonomi.example"]}'``.
The links in messages are built from ``SERAMBI_PUBLIC_BASE_URL`` (required in production, where
a loopback SMTP host, SMS gateway or link is refused, and so is an officer's or assignee's address
under a reserved example domain — the defaults' ``*@biro-perekonomian.example``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, ClassVar, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import NoDecode
from serambi_kit.phones import PhoneNumberError, to_e164
from serambi_kit.required import PLACEHOLDER
from serambi_kit.settings import ServiceSettings

Language = Literal["id", "en"]
DEV_RECEIPT_SECRET = "serambi-development-receipt-secret"  # noqa: S105 — refused in production
DEV_SMS_TOKEN = "serambi-development-sms-token"  # noqa: S105 — refused in production
# The public links, under SERAMBI_PUBLIC_BASE_URL. Tracking links open the portal's pages; the
# access token is added as the fragment ``#t=…`` (never sent to a server). Locally the portal
# (services/web) is on :8000 and scheduling's letters on :8002.
PUBLIC_PATHS = {
    "request_status_url": "/lacak/audiensi/{tracking_code}",
    "complaint_status_url": "/lacak/pengaduan/{tracking_code}",
    "letters_base_url": "/api/v1/letters",
    "survey_url": "/survei/{token}",
}
LOCAL_PORTAL = "http://127.0.0.1:8000"


# Names reserved for examples and tests (RFC 2606, RFC 6761): no mailbox under them is anyone's.
# The shipped local defaults use them; production refuses them as recipients.
PLACEHOLDER_DOMAINS = ("example", "example.com", "example.net", "example.org", "test", "localhost")


def placeholder(address: str) -> bool:
    """Whether ``address`` is no real mailbox: no domain, or one under a reserved name."""
    domain = address.rpartition("@")[2].strip().rstrip(".").lower()
    return (
        "@" not in address
        or not domain
        or any(domain == name or domain.endswith("." + name) for name in PLACEHOLDER_DOMAINS)
    )


def _default_officer_emails() -> dict[str, list[str]]:
    domain = "biro-perekonomian.example"
    return {
        "desk": [f"tata-usaha@{domain}"],
        "scheduler": [f"penjadwalan@{domain}"],
        "complaint_officer": [f"pengaduan@{domain}"],
        "complaint_team": [f"tim-pengaduan@{domain}"],
        "supervisor": [f"pimpinan@{domain}"],
    }


class NotifierSettings(ServiceSettings):
    service: ClassVar[str] = "notifier"
    default_port: ClassVar[int] = 8004
    needs_public_base_url: ClassVar[bool] = True
    outward_addresses: ClassVar[tuple[str, ...]] = (
        *ServiceSettings.outward_addresses,
        *PUBLIC_PATHS,
        "smtp_host",
        "sms_url",
    )

    # -- what to send -----------------------------------------------------------------------
    subscriptions_file: Path | None = Field(
        default=None, description="TOML of notices per event; default: the packaged subscriptions.toml"
    )
    citizen_language: Language = "id"
    officer_language: Language = "id"
    officer_emails: dict[str, list[str]] = Field(default_factory=_default_officer_emails)
    officer_phones: dict[str, list[str]] = Field(default_factory=dict)
    assignee_emails: dict[str, list[str]] = Field(
        default_factory=dict,
        description="officer id or complaint team name → email addresses (assigned complaints); "
        "unlisted: the complaint_team role",
    )
    assignee_phones: dict[str, list[str]] = Field(default_factory=dict)
    # the hosting officials' own addresses and numbers (personal data: a Secret in Kubernetes)
    host_emails: Annotated[dict[str, list[str]], NoDecode] = Field(
        default_factory=dict,
        description="hosting official's id (scheduling's host id) → email addresses, one per "
        "value: their day list (HostDayListDue); unlisted: nothing is sent",
    )
    host_phones: Annotated[dict[str, list[str]], NoDecode] = Field(
        default_factory=dict,
        description="hosting official's id → mobile numbers (08… or +628…)",
    )
    sla_responsible_roles: dict[str, str] = Field(
        default_factory=lambda: {"audience_answer": "scheduler"},
        description="clock → role answering for it; clocks not listed: complaint_officer",
    )
    sla_default_responsible_role: str = "complaint_officer"
    request_status_url: str | None = Field(
        default=f"{LOCAL_PORTAL}{PUBLIC_PATHS['request_status_url']}",
        description="the portal page where a requester follows the request (the access token is "
        "added as #t=…); default: under SERAMBI_PUBLIC_BASE_URL when set; empty: no link",
    )
    complaint_status_url: str | None = Field(
        default=f"{LOCAL_PORTAL}{PUBLIC_PATHS['complaint_status_url']}",
        description="the portal page where a complainant follows the complaint (the access token "
        "is added as #t=…); default: under SERAMBI_PUBLIC_BASE_URL when set; empty: no link",
    )
    survey_url: str | None = Field(
        default=f"{LOCAL_PORTAL}{PUBLIC_PATHS['survey_url']}",
        description="the portal page where a citizen answers the satisfaction survey ({token}: "
        "the invitation's survey token); default: under SERAMBI_PUBLIC_BASE_URL when set; empty: no link",
    )
    letters_base_url: str | None = Field(
        default=f"http://127.0.0.1:8002{PUBLIC_PATHS['letters_base_url']}",
        description="scheduling's public link of answer letters; default: under "
        "SERAMBI_PUBLIC_BASE_URL when set; empty: neither link nor attachment",
    )
    attach_letters: bool = Field(
        default=True, description="fetch answer letters from their public link and attach them"
    )
    letter_fetch_attempts: int = Field(
        default=3, ge=1, le=50, description="attempts that wait for a letter before link-only"
    )
    whatsapp_mode: Literal["off", "cloud"] = Field(
        default="off",
        description="the complaints service's WhatsApp channel (the same SERAMBI_WHATSAPP_MODE): "
        "with cloud it sends a WhatsApp complainant's receipt and answer there, and the notifier "
        "sends them by e-mail only (by SMS too when WhatsApp could not deliver them: "
        "ComplaintReplyFailed)",
    )
    mail_domain: str = Field(
        default="serambi.kalbarprov.go.id",
        description="right-hand side of Message-IDs and iCalendar UIDs",
    )

    # -- email (SMTP) -----------------------------------------------------------------------
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_tls: Literal["none", "starttls", "tls"] = Field(
        default="none", description="none (local sink), starttls (port 587) or tls (port 465)"
    )
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(
        default=20.0, gt=0, description="connecting and the session's commands (EHLO, AUTH, NOOP)"
    )
    smtp_send_timeout_seconds: float = Field(
        default=600.0,
        gt=0,
        description="waiting for the relay's answer to each command of a message (MAIL, RCPT, "
        "DATA and its end): a relay that has taken a message may answer late, and giving up "
        "then would send it twice (RFC 5321 asks for 10 minutes)",
    )
    smtp_connections: int = Field(default=4, ge=1, le=20)
    smtp_validate_certs: bool = True
    smtp_cert_bundle: str | None = Field(
        default=None, description="CA certificates (PEM) to trust for the SMTP server, e.g. a private CA"
    )
    mail_from: str = "Biro Perekonomian Kalbar <no-reply@serambi.kalbarprov.go.id>"

    # -- SMS (HTTP gateway) -----------------------------------------------------------------
    sms_provider: Literal["json", "zenziva"] = "json"
    sms_url: str = "http://127.0.0.1:8025/json/messages"
    sms_token: SecretStr | None = Field(
        default=SecretStr(DEV_SMS_TOKEN), description="json provider: bearer token"
    )
    sms_userkey: str | None = Field(default=None, description="zenziva: userkey")
    sms_passkey: SecretStr | None = Field(default=None, description="zenziva: passkey")
    sms_sender: str = "BIROEKONOMI"
    sms_timeout_seconds: float = Field(default=15.0, gt=0)
    sms_max_parts: int = Field(default=6, ge=1, le=10)
    sms_receipt_secret: SecretStr = Field(
        default=SecretStr(DEV_RECEIPT_SECRET),
        description="shared secret the gateway sends with delivery receipts",
    )

    # -- quiet hours (SMS to citizens), WIB -------------------------------------------------
    quiet_hours_start: str = "21:00"
    quiet_hours_end: str = "06:00"

    # -- delivery ---------------------------------------------------------------------------
    delivery_max_attempts: int = Field(default=10, ge=1, le=50)
    delivery_backoff_base_seconds: float = Field(default=2.0, gt=0)
    delivery_backoff_max_seconds: float = Field(default=900.0, gt=0)
    delivery_lease_seconds: float = Field(
        default=120.0,
        gt=0,
        description="how long a claim on a delivery lasts unless renewed; its holder renews it "
        "every quarter of this while the delivery waits and is sent, so this is how soon the "
        "deliveries of a replica that died are taken over — not a bound on a send",
    )
    dispatch_poll_seconds: float = Field(default=1.0, gt=0)
    dispatch_concurrency: int = Field(
        default=96,
        ge=1,
        le=1000,
        description="sends in flight (each mostly waits on the relay or the gateway: docs/performance.md)",
    )
    notify_workers: int = Field(
        default=8,
        ge=1,
        le=64,
        description="events of different cases planned at once per consumer (one case's in order)",
    )
    notify_max_age_hours: float = Field(
        default=168.0,
        ge=0,
        description="events older than this (by ce-time) cause no notice; 0: no limit",
    )
    contact_wait_seconds: float = Field(
        default=1.0, ge=0, description="how long to wait for a case's contact to be projected"
    )

    @field_validator("quiet_hours_start", "quiet_hours_end")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        hours, _, minutes = value.partition(":")
        if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
            raise ValueError("use HH:MM (24-hour clock, WIB)")
        return f"{int(hours):02d}:{int(minutes):02d}"

    @field_validator(
        "smtp_username", "smtp_password", "sms_token", "sms_userkey", "sms_passkey", mode="before"
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """An empty variable (compose's ``${X:-}``, an empty Secret key) means not set."""
        return None if value == "" else value

    @field_validator("host_emails", "host_phones", mode="before")
    @classmethod
    def _host_json(cls, value: object, info: ValidationInfo) -> object:
        """The variable's JSON, read here so that a refusal names it (never its value)."""
        if not isinstance(value, str):
            return value
        variable = f"SERAMBI_{(info.field_name or '').upper()}"
        text = value.strip()
        if text == "":
            return {}
        if text == PLACEHOLDER:
            raise ValueError(
                f"{variable} is still the template's {PLACEHOLDER}: set the hosts' "
                "addresses (JSON, host id → list), or '{}' for none"
            )
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise ValueError(f"{variable} is not JSON (host id → list of addresses)") from None

    def derive_addresses(self) -> None:
        for name, path in PUBLIC_PATHS.items():
            if name not in self.model_fields_set and self.public_base_url:
                setattr(self, name, self.public_base_url + path)

    @model_validator(mode="after")
    def _production_secrets(self) -> NotifierSettings:
        if self.environment == "production":
            if self.sms_receipt_secret.get_secret_value() in ("", DEV_RECEIPT_SECRET):
                raise ValueError("SERAMBI_SMS_RECEIPT_SECRET must be set in production")
            token = self.sms_token.get_secret_value() if self.sms_token else ""
            if self.sms_provider == "json" and token in ("", DEV_SMS_TOKEN):
                raise ValueError("SERAMBI_SMS_TOKEN (the SMS gateway's token) must be set in production")
            if self.sms_provider == "zenziva" and not (self.sms_userkey and self.sms_passkey):
                raise ValueError(
                    "SERAMBI_SMS_PROVIDER=zenziva needs SERAMBI_SMS_USERKEY and SERAMBI_SMS_PASSKEY"
                )
            self._refuse_placeholder_recipients()
            self._refuse_malformed_host_addresses()
        if self.delivery_lease_seconds <= max(self.smtp_timeout_seconds, self.sms_timeout_seconds):
            raise ValueError("SERAMBI_DELIVERY_LEASE_SECONDS must exceed the SMTP and SMS timeouts")
        return self

    def _refuse_placeholder_recipients(self) -> None:
        """Officers' notices must reach real mailboxes: the local defaults are placeholders."""
        keyed = {
            "officer_emails": "role",
            "assignee_emails": "officer id or complaint team",
            "host_emails": "host id",
        }
        for name, per in keyed.items():
            for who, addresses in getattr(self, name).items():
                if any(placeholder(address) for address in addresses):
                    raise ValueError(
                        f"SERAMBI_{name.upper()} ({who!r}) holds a placeholder address (a reserved "
                        f"domain such as .example, or none): set the real addresses per {per} in "
                        "production (JSON; docs/operations.md)"
                    )

    def _refuse_malformed_host_addresses(self) -> None:
        """One valid address or Indonesian mobile number per value; the refusal names the
        variable and the host, never the address."""
        for who, addresses in self.host_emails.items():
            for address in addresses:
                try:
                    validate_email(address, check_deliverability=False)
                except EmailNotValidError:
                    raise ValueError(
                        f"SERAMBI_HOST_EMAILS ({who!r}) holds a value that is not one e-mail "
                        "address (one address per value)"
                    ) from None
        for who, phones in self.host_phones.items():
            for phone in phones:
                try:
                    to_e164(phone)
                except PhoneNumberError:
                    raise ValueError(
                        f"SERAMBI_HOST_PHONES ({who!r}) holds a value that is not an Indonesian "
                        "mobile number (08… or +628…, one per value)"
                    ) from None
