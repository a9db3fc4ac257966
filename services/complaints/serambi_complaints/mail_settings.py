"""The e-mail channel's settings (``SERAMBI_EMAIL_*``), a part of ComplaintsSettings."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from serambi_kit.addresses import is_local_host
from serambi_kit.required import empty_is_unset, require

REQUIRED = ("email_imap_host", "email_imap_user", "email_imap_password")  # with SERAMBI_EMAIL_MODE=imap


class EmailChannelSettings(BaseSettings):
    """Mixed into ComplaintsSettings."""

    model_config = SettingsConfigDict(env_prefix="SERAMBI_", extra="ignore")
    email_mode: Literal["off", "imap"] = Field(
        default="off",
        description="imap: poll the complaint mailbox; off: nothing reads it",
    )
    email_imap_host: str | None = None
    email_imap_port: int = Field(default=993, ge=1, le=65535)
    email_imap_security: Literal["tls", "starttls"] = Field(
        default="tls",
        description="tls: implicit TLS (993); starttls: upgrade a plain connection (143)",
    )
    email_imap_ca_file: str | None = Field(
        default=None,
        description="CA bundle to verify the server with (default: the system's)",
    )
    email_imap_user: str | None = None
    email_imap_password: SecretStr | None = None
    email_inbox: str = Field(default="INBOX", description="the folder new mail arrives in")
    email_processed_folder: str = Field(
        default="Serambi/Diproses",
        description="recorded, duplicate and ignored mail is moved here",
    )
    email_rejected_folder: str = Field(
        default="Serambi/Ditolak",
        description="mail that could not be read (a dead letter) goes here",
    )
    email_poll_seconds: float = Field(default=60.0, gt=0, description="one round per interval")
    email_retention_days: int = Field(
        default=30,
        ge=0,
        le=3650,
        description="handled mail (both destination folders) is expunged from the mailbox this many "
        "days after it arrived; 0: in the round that handled it",
    )
    email_timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    email_max_message_bytes: int = Field(
        default=60_000_000,
        ge=1_000_000,
        description="a larger message (its RFC822.SIZE) is not downloaded: a dead letter, moved to the "
        "rejected folder",
    )

    @field_validator(*REQUIRED, "email_imap_ca_file", mode="before")
    @classmethod
    def _email_empty_is_unset(cls, value: object) -> object:
        return empty_is_unset(value)

    @model_validator(mode="after")
    def _email_is_configured(self) -> EmailChannelSettings:
        for name in ("email_inbox", "email_processed_folder", "email_rejected_folder"):
            value = getattr(self, name)
            if not value.isascii() or not value.isprintable() or '"' in value or "\\" in value:
                raise ValueError(
                    f"SERAMBI_{name.upper()} must be printable ASCII without quotes or backslashes"
                )
        if self.email_mode == "off":
            return self
        require(self, "SERAMBI_EMAIL_MODE=imap", REQUIRED, "docs/complaints.md, E-mail")
        if getattr(self, "environment", None) == "production" and is_local_host(
            self.email_imap_host.strip().lower()
        ):
            raise ValueError(
                "SERAMBI_EMAIL_IMAP_HOST points at this machine (loopback); production "
                "needs the mail server's address"
            )
        return self
