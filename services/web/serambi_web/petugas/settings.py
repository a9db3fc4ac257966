"""The officer console's settings: its OpenID Connect client and its session limits.

Read from the same ``SERAMBI_*`` environment as the portal's (a class of its own so the two
can change apart). Production refuses the development client secret (and every other published
secret) and a loopback provider.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from serambi_kit.addresses import is_local
from serambi_kit.settings import Environment, refuse_development_secrets

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
