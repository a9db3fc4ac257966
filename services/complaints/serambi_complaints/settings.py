"""Complaints's settings (environment variables ``SERAMBI_*``; see the kit's ServiceSettings)."""

from typing import ClassVar

from serambi_kit.settings import ServiceSettings


class ComplaintsSettings(ServiceSettings):
    service: ClassVar[str] = "complaints"
    default_port: ClassVar[int] = 8003
