"""Settings from environment variables (prefix ``SERAMBI_``), with documented defaults."""

from __future__ import annotations

from typing import ClassVar, Literal
from urllib.parse import unquote

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .addresses import public_url, refuse_local
from .proxies import ProxySettings
from .required import PLACEHOLDER
from .tracing import TracingSettings

DEV_SIGNING_KEY = "serambi-development-signing-key-not-for-production"
DEV_PII_MASTER_KEY = "c2VyYW1iaS1kZXZlbG9wbWVudC1tYXN0ZXIta2V5ISE="  # base64 of a public 32-byte string
Environment = Literal["development", "test", "production"]
# SecantusDB (0.7.0b3) prunes its retryable-write records on every write by scanning them all,
# and past 10,000 by sorting them all: a long run slows to ~100 writes/s (docs/performance.md).
# The local server (the default URL, `make run`, the tests' serambi_testing.localstack) therefore
# gets plain writes; production (MongoDB) keeps retryable writes.
LOCAL_MONGO_OPTIONS = "directConnection=true&retryWrites=false"

# Every secret value published in this repository, which therefore protects nothing: the code's
# development defaults (each service's DEV_* constants), the development provider's password,
# the development cluster's Secrets (deploy/k8s/overlays/dev) and the placeholders of
# deploy/compose/.env.example. A production process refuses to start with any of them in any
# secret setting (``refuse_development_secrets``), and so with an empty secret or the production
# template's placeholder (``serambi_kit.required.PLACEHOLDER``, REPLACE_ME);
# tests/deploy/test_development_secrets.py keeps the list complete.
DEVELOPMENT_SECRETS = frozenset(
    {
        DEV_SIGNING_KEY,
        DEV_PII_MASTER_KEY,
        "serambi-development-letter-secret-not-for-production",  # scheduling's DEV_LETTER_SECRET
        "serambi-development-receipt-secret",
        "serambi-development-sms-token",  # the notifier's
        "serambi-development-web-secret-not-for-production",  # the portal's DEV_SESSION_SECRET
        "serambi-web-development-secret",  # the console's client secret at the development provider
        "serambi-dev",  # the development provider's password (and the development tokens' issuer)
        # deploy/k8s/overlays/dev
        "dev-intake-nats",
        "dev-intake-mongo",
        "dev-scheduling-nats",
        "dev-scheduling-mongo",
        "dev-scheduling-letters",
        "dev-complaints-nats",
        "dev-complaints-mongo",
        "dev-notifier-nats",
        "dev-notifier-mongo",
        "dev-notifier-sms",
        "dev-notifier-receipts",
        "dev-ops-nats",
        "dev-ops-mongo",
        "dev-web-session-secret-not-for-production",
        "dev-route",
        "dev-bus",
        "dev-root-mongo",
        "c2VyYW1iaS1kZXYtY2x1c3Rlci1tYXN0ZXIta2V5ISE=",
        "ZGV2ZWxvcG1lbnRrZXlmaWxlZGV2ZWxvcG1lbnRrZXlmaWxlZGV2ZWxvcG1lbnQ",
        # deploy/compose/.env.example
        "placeholder-not-a-secret",
        "placeholder-not-a-secret-placeholder-not-a-secret",
        "cGxhY2Vob2xkZXItbm90LWEtc2VjcmV0LXh4eHh4eHg=",
    }
)


def _password_in(url: str) -> str | None:
    """The password of ``scheme://user:password@hosts/…``: None when the URL gives none (no
    credentials, or a user alone, e.g. for X.509), ``""`` for an empty one (``user:@``)."""
    credentials, at, _ = url.partition("://")[2].partition("/")[0].rpartition("@")
    user, colon, password = credentials.partition(":")
    return unquote(password) if at and colon else None


def _not_a_secret(secret: str) -> str | None:
    """Why a secret setting's value protects nothing, or None when it may be a secret."""
    if not secret:
        return "it is empty"
    if secret == PLACEHOLDER:
        return (
            f"it is still the production template's {PLACEHOLDER} "
            "(deploy/k8s/overlays/prod/secrets.template.yaml)"
        )
    if secret in DEVELOPMENT_SECRETS:
        return (
            "it holds a value published in the repository (a development default, the "
            "development cluster's or .env.example's)"
        )
    return None


def refuse_development_secrets(settings: BaseSettings, only: set[str] | None = None) -> None:
    """Production: refuse, naming the variable and never the value, a secret setting (or one of
    those named in ``only``) — or the password of ``SERAMBI_MONGO_URL`` — that is empty, still
    the template's ``REPLACE_ME`` or a published secret (``DEVELOPMENT_SECRETS``), and any other
    setting left at ``REPLACE_ME`` (the template's SMTP user name)."""
    for name, value in settings:
        if only is not None and name not in only:
            continue
        if isinstance(value, SecretStr):
            secret = value.get_secret_value()
            if name == "mongo_url":
                if (password := _password_in(secret)) is None:
                    continue  # no password in the URL: nothing to check
                secret = password
            why = _not_a_secret(secret.strip())
        elif isinstance(value, str) and value.strip() == PLACEHOLDER:
            why = f"it is still the production template's {PLACEHOLDER}"
        else:
            continue
        if why:
            raise ValueError(
                f"SERAMBI_{name.upper()} must be set to a secret in production: {why}; "
                "generate one (docs/operations.md)"
            )


class ServiceSettings(TracingSettings, ProxySettings):
    """What every Serambi process reads from its environment.

    Each field maps to ``SERAMBI_<FIELD>``; e.g. ``SERAMBI_NATS_URL``, ``SERAMBI_HTTP_PORT``.
    """

    # a refusal names the setting and the rule, never the values (they include secrets)
    model_config = SettingsConfigDict(env_prefix="SERAMBI_", extra="ignore", hide_input_in_errors=True)
    service: ClassVar[str] = "serambi"
    default_port: ClassVar[int] = 8000
    # Settings naming an address other machines or citizens use (endpoints, public links):
    # production refuses loopback in them. Services add theirs.
    outward_addresses: ClassVar[tuple[str, ...]] = ("auth_jwks_url", "public_base_url")
    needs_public_base_url: ClassVar[bool] = False  # services that send or show public links

    environment: Environment = Field(
        default="production",
        description="production unless development or test is chosen explicitly (`make run`, "
        "`serambi dev up` and the test stacks do): production refuses every development secret",
    )
    nats_url: str = "nats://127.0.0.1:4222"
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    mongo_url: SecretStr = SecretStr(f"mongodb://127.0.0.1:27017/?{LOCAL_MONGO_OPTIONS}")
    mongo_database: str | None = Field(default=None, description="default: serambi_<service>")
    http_host: str = "127.0.0.1"
    http_port: int | None = Field(default=None, description="default: the service's own port")
    internal_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="where /metrics, /docs, /openapi.json, /readyz and /livez answer, and only "
        "there (probes, Prometheus); the image sets 8090. Unset: all on the HTTP port outside "
        "production; production then serves only /livez and /readyz of them (serambi_kit.internal)",
    )
    max_request_bytes: int = Field(
        default=1_048_576,
        ge=1_000,
        description="413 above this: a body of a route taking uploads",
    )
    max_body_bytes: int = Field(
        default=1_048_576,
        ge=1_000,
        description="413 above this: the body of any other route (counted as it streams in)",
    )
    max_concurrent_uploads: int = Field(
        default=16,
        ge=1,
        le=256,
        description="multipart uploads parsed and stored at once by this process (more: 503 with "
        "Retry-After): each may spool max_request_bytes to /tmp, so size /tmp from the two "
        "(serambi_kit.uploads)",
    )
    rate_limits: dict[str, int] = Field(
        default={"submissions": 20, "lookups": 120},
        description="requests per minute per client, by public limit name (JSON)",
    )
    link_resends_per_day: int = Field(
        default=3,
        ge=1,
        le=24,
        description="a case's lost link is sent again at most this often a day",
    )
    link_resend_days_after_end: int = Field(
        default=30,
        ge=0,
        description="no lost link sent again this many days after a case ended",
    )
    cors_allowed_origins: list[str] = Field(
        default_factory=list, description="browser origins allowed to call the API (JSON list)"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    stream_replicas: int = Field(default=1, ge=1, le=5)
    consumer_max_deliver: int = Field(default=5, ge=2, le=100)
    consumer_ack_wait_seconds: float = Field(default=30.0, gt=0)
    # nats-py's fetch waits for a whole batch until its timeout when messages trickle in, so a
    # batch above 1 trades idle latency (up to the 5 s fetch timeout) for throughput under backlog.
    consumer_batch_size: int = Field(default=1, ge=1, le=256)
    # Projections apply what is already waiting, up to a batch, in one bulk write.
    projection_batch_size: int = Field(default=256, ge=1, le=1000)
    retry_delays_seconds: tuple[float, ...] = (0.5, 2.0, 5.0, 15.0)
    outage_retry_max_seconds: float = Field(
        default=10.0,
        gt=0,
        description="longest pause between two attempts of a message while MongoDB or NATS is down",
    )
    consumer_stall_seconds: float = Field(
        default=120.0,
        gt=0,
        description="a consumer with work whose ack floor stands still this long is reported stalled",
    )
    consumer_watch_seconds: float = Field(
        default=15.0, gt=0, description="how often each consumer's progress is read from JetStream"
    )
    readiness_timeout_seconds: float = Field(
        default=2.0, gt=0, description="a dependency that does not answer /readyz's check in time is down"
    )
    calendar_refresh_seconds: float = Field(
        default=30.0,
        ge=0,
        description="how often each replica reads new working-calendar revisions "
        "(serambi_kit.calendars; 0: at start-up only)",
    )
    auth_issuer: str = "serambi-dev"
    auth_audience: str = "serambi"
    auth_jwks_url: str | None = None
    public_base_url: str | None = Field(
        default=None,
        description="where citizens reach Serambi (the reverse proxy or portal), e.g. "
        "https://layanan.example.go.id; the public links are built from it",
    )
    auth_dev_signing_key: SecretStr | None = Field(
        default=None,
        description="HS256 key for development tokens; defaults to a public development key "
        "outside production when no JWKS URL is set; refused in production",
    )
    pii_master_key: SecretStr = Field(
        default=SecretStr(DEV_PII_MASTER_KEY), description="base64 of 32 random bytes"
    )
    vault_database: str = "serambi_vault"
    pii_key_cache_seconds: float = Field(
        default=60.0, ge=0, le=3600, description="an erasure reaches every process within this"
    )
    pii_key_cache_size: int = Field(
        default=10_000,
        ge=0,
        le=1_000_000,
        description="at most this many unwrapped data keys per process (least recently used "
        "dropped first); 0: none kept",
    )
    apply_streams: bool = Field(
        default=True,
        description="create/update streams at start-up; production sets false and runs "
        "`serambi streams apply` as the ops user (services may only check they exist)",
    )

    @model_validator(mode="after")
    def _production_has_no_development_secrets(self) -> ServiceSettings:
        if self.environment != "production":
            if self.auth_dev_signing_key is None and not self.auth_jwks_url:
                self.auth_dev_signing_key = SecretStr(DEV_SIGNING_KEY)
            return self
        if self.auth_dev_signing_key is not None:
            raise ValueError(
                "SERAMBI_AUTH_DEV_SIGNING_KEY must be unset in production "
                "(use SERAMBI_AUTH_JWKS_URL of the identity provider)"
            )
        if not self.auth_jwks_url:
            raise ValueError("SERAMBI_AUTH_JWKS_URL is required in production")
        if self.pii_master_key.get_secret_value() == DEV_PII_MASTER_KEY:
            raise ValueError("SERAMBI_PII_MASTER_KEY must be set to a secret key in production")
        refuse_development_secrets(self)
        return self

    @model_validator(mode="after")
    def _internal_port_of_its_own(self) -> ServiceSettings:
        if self.internal_port is not None and self.internal_port == self.port:
            raise ValueError("SERAMBI_INTERNAL_PORT must differ from the HTTP port")
        return self

    @model_validator(mode="after")
    def _outward_addresses(self) -> ServiceSettings:
        production = self.environment == "production"
        if production and self.needs_public_base_url and not self.public_base_url:
            raise ValueError(
                "SERAMBI_PUBLIC_BASE_URL is required in production: the address citizens reach "
                "Serambi at, e.g. https://layanan.example.go.id (public links are built from it)"
            )
        self.derive_addresses()
        if production:
            refuse_local(self, self.outward_addresses)
        return self

    def derive_addresses(self) -> None:
        """Fill the links a service builds from ``public_base_url`` and that were not set
        explicitly (see ``model_fields_set``); the defaults stay the local stack's."""

    @field_validator("public_base_url")
    @classmethod
    def _public_base_url(cls, value: str | None) -> str | None:
        return public_url(value, "public_base_url") if value else None

    def nats_options(self) -> dict[str, str]:
        """Credentials for ``nats.connect`` (empty when the server needs none)."""
        if self.nats_user and self.nats_password:
            return {"user": self.nats_user, "password": self.nats_password.get_secret_value()}
        return {}

    @property
    def port(self) -> int:
        return self.http_port or self.default_port

    @property
    def database(self) -> str:
        return self.mongo_database or f"serambi_{self.service}"
