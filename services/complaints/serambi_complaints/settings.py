"""Complaints' settings (environment variables ``SERAMBI_*``; see the kit's ServiceSettings).

The working calendar and SLA durations come from ``SERAMBI_CALENDAR_OVERRIDES``,
``SERAMBI_SLA_CLOCKS`` and ``SERAMBI_SLA_WARNINGS`` (docs/calendar.md).
"""

from typing import ClassVar, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from serambi_kit.idempotency import IdempotencySettings
from serambi_kit.required import empty_is_unset, require
from serambi_kit.settings import ServiceSettings

from .mail_settings import EmailChannelSettings
from .whatsapp_settings import WhatsAppSettings


class LaporSettings(BaseSettings):
    """SP4N-LAPOR!'s settings, mixed into ComplaintsSettings like the WhatsApp and e-mail
    channels': a mixin's validators run before the kit's, so with the channel on a missing,
    empty or REPLACE_ME value is named as the channel's (``require``) first."""

    model_config = SettingsConfigDict(env_prefix="SERAMBI_", extra="ignore")

    # SP4N-LAPOR! (https://www.lapor.go.id). Its API is documented only to registered
    # institutions: see docs/complaints.md for what to ask for and how to map it.
    lapor_mode: Literal["off", "http"] = "off"
    lapor_base_url: str | None = None
    lapor_token: SecretStr | None = None
    lapor_poll_seconds: float = Field(default=300.0, ge=0, description="0: import only by command")
    lapor_push_seconds: float = Field(
        default=5.0,
        gt=0,
        description="how often pending status reports are pushed to LAPOR!",
    )
    lapor_timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    @field_validator("lapor_base_url", "lapor_token", mode="before")
    @classmethod
    def _lapor_empty_is_unset(cls, value: object) -> object:
        return empty_is_unset(value)

    @model_validator(mode="after")
    def _lapor_is_configured(self) -> "LaporSettings":
        if self.lapor_mode == "off":
            return self
        require(
            self,
            "SERAMBI_LAPOR_MODE=http",
            ("lapor_base_url", "lapor_token"),
            "docs/complaints.md, SP4N-LAPOR!",
        )
        return self


class ComplaintsSettings(
    ServiceSettings, IdempotencySettings, WhatsAppSettings, EmailChannelSettings, LaporSettings
):
    service: ClassVar[str] = "complaints"
    default_port: ClassVar[int] = 8003
    outward_addresses: ClassVar[tuple[str, ...]] = (*ServiceSettings.outward_addresses, "lapor_base_url")

    reopen_window_days: int = Field(
        default=10,
        ge=1,
        le=60,
        description="working days after the answer in which the complainant may dispute it",
    )
    received_at_max_age_days: int = Field(
        default=90,
        ge=1,
        le=3650,
        description="an officer may record a receipt at most this many days back",
    )
    received_at_tolerance_seconds: float = Field(
        default=120.0,
        ge=0,
        le=3600,
        description="a received_at this little in the future (clock skew) counts as now",
    )
    sla_sweep_seconds: float = Field(
        default=60.0,
        ge=0,
        description="how often to look for SLA instants whose timer did not fire (0: start-up only)",
    )
    rearm_on_start: bool = Field(
        default=True,
        description="re-arm the future timers of open clocks at start-up",
    )
    timer_rearm_seconds: float = Field(
        default=600.0,
        ge=0,
        description="how often to arm again the future timers the server lost (0: start-up only)",
    )
    timer_workers: int = Field(
        default=16,
        ge=1,
        le=256,
        description="fired timers checked at once (a burst of deadlines)",
    )
    clock_workers: int = Field(
        default=8,
        ge=1,
        le=256,
        description="complaints whose timers are armed at once (one complaint's events in order)",
    )
    public_body_max_bytes: int = Field(
        default=98_304,
        ge=1024,
        le=1_048_576,
        description="a public JSON body: room for every text at its size in any Unicode, even "
        "written as \\u escapes (an emoji is 12 bytes then: 5,000 in a description)",
    )
    max_attachment_bytes: int = Field(default=10_000_000, ge=1_000, description="per attachment")
    max_request_bytes: int = Field(
        default=52_000_000,
        ge=1_000,
        description="a whole request: five attachments and the form",
    )
    pending_attachment_minutes: int = Field(
        default=60,
        ge=1,
        description="attachments of a submission that died are swept after this",
    )

    @model_validator(mode="after")
    def _lapor_over_https(self) -> "ComplaintsSettings":
        # after the kit's checks: a loopback address is refused with the other outward_addresses
        if (
            self.lapor_mode == "http"
            and self.environment == "production"
            and not self.lapor_base_url.startswith("https://")
        ):
            raise ValueError("SERAMBI_LAPOR_BASE_URL must be https in production")  # the token goes with it
        return self
