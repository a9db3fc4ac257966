"""Settings of the WhatsApp channel (WhatsApp Business Cloud API), mixed into ComplaintsSettings.

See docs/complaints.md ("WhatsApp") for where each value comes from in Meta's developer console.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from serambi_kit.addresses import refuse_local
from serambi_kit.required import empty_is_unset, require

SECRETS = ("whatsapp_access_token", "whatsapp_app_secret", "whatsapp_verify_token")


class WhatsAppSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SERAMBI_", extra="ignore")

    whatsapp_mode: Literal["off", "cloud"] = "off"
    whatsapp_api_base_url: str = Field(
        default="https://graph.facebook.com/v21.0",
        description="the Graph API with its version; tests point it at a local fake server",
    )
    whatsapp_phone_number_id: str | None = Field(
        default=None,
        pattern=r"^[0-9]{1,32}$",
        description="the business number's id (not the number)",
    )
    whatsapp_access_token: SecretStr | None = None
    whatsapp_app_secret: SecretStr | None = None
    whatsapp_verify_token: SecretStr | None = None
    whatsapp_template: str = Field(
        default="serambi_jawaban_pengaduan",
        pattern=r"^[a-z0-9_]{1,512}$",
        description="approved template of the answer, sent outside the 24-hour window "
        "({{1}} = tracking code)",
    )
    whatsapp_receipt_template: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9_]{1,512}$",
        description="approved template of the receipt, sent outside the 24-hour window ({{1}} = "
        "tracking code); unset: such a receipt goes by SMS (the notifier) instead",
    )
    whatsapp_template_language: str = Field(default="id", pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")
    whatsapp_group_minutes: float = Field(
        default=60.0,
        ge=0,
        le=7 * 24 * 60,
        description="a message this soon after the number's previous one joins that complaint as "
        "a note, whatever its status (later ones: only while it is open)",
    )
    whatsapp_push_seconds: float = Field(default=5.0, gt=0, description="how often replies are sent")
    whatsapp_max_attempts: int = Field(default=8, ge=1, le=50, description="tries of one reply")
    whatsapp_retry_seconds: float = Field(default=30.0, gt=0, description="first retry; doubles each time")
    whatsapp_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    whatsapp_erasure_seconds: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="how often the channel forgets the conversations, messages and replies of "
        "erased complainants",
    )

    # Each mixin's validator has a name of its own: of two with one name pydantic keeps only one.
    @field_validator("whatsapp_phone_number_id", "whatsapp_receipt_template", *SECRETS, mode="before")
    @classmethod
    def _whatsapp_empty_is_unset(cls, value: object) -> object:
        return empty_is_unset(value)

    @property
    def whatsapp_enabled(self) -> bool:
        return self.whatsapp_mode == "cloud"

    @model_validator(mode="after")
    def _whatsapp_is_configured(self) -> WhatsAppSettings:
        if not self.whatsapp_enabled:
            return self
        require(
            self,
            "SERAMBI_WHATSAPP_MODE=cloud",
            ("whatsapp_phone_number_id", *SECRETS),
            "docs/complaints.md, WhatsApp",
        )
        if getattr(self, "environment", None) == "production":
            if not self.whatsapp_api_base_url.startswith("https://"):
                raise ValueError("SERAMBI_WHATSAPP_API_BASE_URL must be https in production")
            refuse_local(self, ("whatsapp_api_base_url",))
        return self
