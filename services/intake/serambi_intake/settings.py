"""Intake's settings (environment variables ``SERAMBI_*``; see the kit's ServiceSettings)."""

from typing import ClassVar

from serambi_kit.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    service: ClassVar[str] = "intake"
    default_port: ClassVar[int] = 8001
