"""Notifier's settings (environment variables ``SERAMBI_*``; see the kit's ServiceSettings)."""

from typing import ClassVar

from serambi_kit.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    service: ClassVar[str] = "notifier"
    default_port: ClassVar[int] = 8004
