"""Scheduling's settings (environment variables ``SERAMBI_*``; see the kit's ServiceSettings)."""

from typing import ClassVar

from serambi_kit.settings import ServiceSettings


class SchedulingSettings(ServiceSettings):
    service: ClassVar[str] = "scheduling"
    default_port: ClassVar[int] = 8002
    placeholder_room: str = "Ruang Rapat Biro Perekonomian"
    placeholder_host: str = "Kepala Biro Perekonomian"
