"""Intake's settings (environment variables ``SERAMBI_*``; see the kit's ServiceSettings)."""

from typing import ClassVar

from pydantic import Field
from serambi_kit.idempotency import IdempotencySettings
from serambi_kit.settings import ServiceSettings

LOCAL_SCHEDULING_URL = "http://127.0.0.1:8002"  # `make run`'s scheduling


class IntakeSettings(ServiceSettings, IdempotencySettings):
    service: ClassVar[str] = "intake"
    default_port: ClassVar[int] = 8001
    needs_public_base_url: ClassVar[bool] = True
    outward_addresses: ClassVar[tuple[str, ...]] = (
        *ServiceSettings.outward_addresses,
        "scheduling_public_url",
    )
    max_document_bytes: int = Field(default=10_000_000, ge=1_000, description="per file")
    max_request_bytes: int = Field(default=25_000_000, ge=1_000, description="a whole request")
    scheduling_public_url: str = Field(
        default=LOCAL_SCHEDULING_URL,
        description="where requesters fetch answer letters ({this}/api/v1/letters/{id}); "
        "default: SERAMBI_PUBLIC_BASE_URL when set",
    )
    pending_document_minutes: int = Field(default=60, ge=1, description="sweep after this long")
    max_survey_bytes: int = Field(
        default=16_384, ge=1_000, description="a survey answer's body (POST /api/v1/survey, paper)"
    )
    survey_max_age_days: int = Field(
        default=7,
        ge=1,
        description="an audience held or a complaint closed longer ago than this is not invited to "
        "the satisfaction survey (the consumers read their streams from the start when first deployed)",
    )

    def derive_addresses(self) -> None:
        if "scheduling_public_url" not in self.model_fields_set and self.public_base_url:
            self.scheduling_public_url = self.public_base_url
