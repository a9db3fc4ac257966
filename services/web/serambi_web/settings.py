"""The portal's settings (environment variables ``SERAMBI_*``, like every service's).

The portal keeps no data of its own: no NATS, no MongoDB. It reads the services' public APIs at
the URLs below and signs its cookies (form tokens, tracking sessions) with ``session_secret``.

``ConsoleSettings`` is the officer console's part (``/petugas/``): its OpenID Connect client and
its session limits, read from the same environment (a class of its own so the two can change
apart). Production refuses the development client secret (and every other published secret) and
a loopback provider.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from serambi_kit.addresses import is_local, refuse_local
from serambi_kit.proxies import ProxySettings
from serambi_kit.settings import Environment, refuse_development_secrets
from serambi_kit.tracing import TracingSettings

DEV_SESSION_SECRET = "serambi-development-web-secret-not-for-production"  # noqa: S105 — refused in production
MIN_SESSION_SECRET = 32  # characters: the CSRF and session keys are derived from it


class WebSettings(TracingSettings, ProxySettings):
    model_config = SettingsConfigDict(env_prefix="SERAMBI_", extra="ignore", hide_input_in_errors=True)
    service: ClassVar[str] = "web"
    default_port: ClassVar[int] = 8000
    # The services' APIs, reached from the portal's pod or container: production refuses
    # loopback there (the local defaults would leave every page saying "coba lagi").
    outward_addresses: ClassVar[tuple[str, ...]] = (
        "intake_url",
        "complaints_url",
        "scheduling_url",
        "notifier_url",
    )

    environment: Environment = Field(
        default="production",
        description="production unless chosen explicitly (as the services')",
    )
    http_host: str = "127.0.0.1"
    http_port: int | None = Field(default=None, description="default 8000")
    internal_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="/metrics, /readyz and /livez only there (as the services'; serambi_kit.internal)",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    intake_url: str = Field(default="http://127.0.0.1:8001", description="intake's API, seen from here")
    complaints_url: str = Field(default="http://127.0.0.1:8003", description="complaints' API")
    scheduling_url: str = Field(default="http://127.0.0.1:8002", description="answer letters")
    notifier_url: str | None = Field(
        default=None,
        description="notifier's API: only the console's dead-letter list reads it "
        "(unset: the list says the notifier is not configured)",
    )
    backend_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    session_secret: SecretStr = Field(
        default=SecretStr(DEV_SESSION_SECRET),
        description="signs form (CSRF) tokens and encrypts tracking sessions; refused as default "
        "in production; the same on every replica",
    )
    secure_cookies: bool = Field(default=False, description="cookies only over HTTPS (production)")
    tracking_session_minutes: int = Field(default=60, ge=1, le=24 * 60)
    max_document_bytes: int = Field(default=10_000_000, ge=1_000, description="as intake's")
    max_attachment_bytes: int = Field(default=10_000_000, ge=1_000, description="as complaints'")
    max_attachments: int = Field(default=5, ge=0, le=10, description="as complaints'")
    max_request_bytes: int = Field(default=52_000_000, ge=10_000, description="413 above this")
    max_concurrent_uploads: int = Field(
        default=4,
        ge=1,
        le=64,
        description="form posts with files parsed and relayed at once per replica: each may spool "
        "up to max_request_bytes in /tmp (memory in Kubernetes); size /tmp and the memory limit "
        "from it (deploy/k8s/base/web.yaml)",
    )
    upload_queue_seconds: float = Field(
        default=10.0,
        ge=0,
        le=120,
        description="how long a post waits for a free upload slot; then 503",
    )
    upload_read_seconds: float = Field(
        default=120.0,
        gt=0,
        le=3600,
        description="how long a post with files may take to arrive once it holds an upload slot; "
        "then the slot is freed and the post gets 503 (52 MB in 120 s: about 3.5 Mbit/s)",
    )
    rate_limits: dict[str, int] = Field(
        default={"submissions": 20, "lookups": 120, "link_resends": 5},
        description="form posts, tracking views and lost-link requests per minute per client (JSON)",
    )
    content_file: str | None = Field(
        default=None, description="the service information (TOML); default: the packaged layanan.toml"
    )

    @model_validator(mode="after")
    def _internal_port_of_its_own(self) -> WebSettings:
        if self.internal_port is not None and self.internal_port == self.port:
            raise ValueError("SERAMBI_INTERNAL_PORT must differ from the HTTP port")
        return self

    @model_validator(mode="after")
    def _production_has_its_own_secret(self) -> WebSettings:
        if self.environment == "production":
            if self.session_secret.get_secret_value() == DEV_SESSION_SECRET:
                raise ValueError("SERAMBI_SESSION_SECRET must be set to a secret in production")
            if len(self.session_secret.get_secret_value()) < MIN_SESSION_SECRET:
                raise ValueError(
                    f"SERAMBI_SESSION_SECRET must be at least {MIN_SESSION_SECRET} "
                    "characters in production (openssl rand -hex 32)"
                )
            if not self.secure_cookies:
                raise ValueError("SERAMBI_SECURE_COOKIES must be true in production (HTTPS only)")
            refuse_local(self, self.outward_addresses)
            refuse_development_secrets(self)
        return self

    @property
    def port(self) -> int:
        return self.http_port or self.default_port


# the development provider's client secret (serambi_ops.devidp.accounts); refused in production
DEV_OIDC_CLIENT_SECRET = "serambi-web-development-secret"  # noqa: S105


class ConsoleSettings(BaseSettings):
    # a refusal names the setting and the rule, never the values (the client secret is one)
    model_config = SettingsConfigDict(env_prefix="SERAMBI_", extra="ignore", hide_input_in_errors=True)

    environment: Environment = Field(
        default="production",
        description="production unless chosen explicitly (as the services')",
    )
    oidc_issuer: str = Field(
        default="http://127.0.0.1:8010",
        description="the identity provider's issuer; its discovery document is read from "
        "ISSUER/.well-known/openid-configuration (Keycloak: https://SSO/realms/serambi)",
    )
    oidc_client_id: str = "serambi-web"
    oidc_client_secret: SecretStr = Field(default=SecretStr(DEV_OIDC_CLIENT_SECRET))
    oidc_scope: str = "openid profile"
    auth_audience: str = Field(default="serambi", description="as the services': the access token's audience")
    public_base_url: str | None = Field(
        default=None,
        description="where officers reach the console (https://…); the sign-in and "
        "sign-out return addresses are built from it; default: the address of the request",
    )
    console_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    console_absolute_hours: int = Field(default=10, ge=1, le=24)

    @model_validator(mode="after")
    def _production_uses_the_organisations_provider(self) -> ConsoleSettings:
        if self.environment != "production":
            return self
        if self.oidc_client_secret.get_secret_value() == DEV_OIDC_CLIENT_SECRET:
            raise ValueError(
                "SERAMBI_OIDC_CLIENT_SECRET must be the client's secret from the "
                "identity provider in production"
            )
        for name in ("oidc_issuer", "public_base_url"):
            value = getattr(self, name)
            if not value or not value.startswith("https://") or is_local(value):
                raise ValueError(
                    f"SERAMBI_{name.upper()} must be an https address other machines "
                    "reach in production (not the development provider)"
                )
        refuse_development_secrets(self)
        return self

    @property
    def idle_seconds(self) -> int:
        return self.console_idle_minutes * 60

    @property
    def absolute_seconds(self) -> int:
        return self.console_absolute_hours * 3600
