"""Scheduling's settings (environment variables ``SERAMBI_*``; see the kit's ServiceSettings).

Booking rules (docs/scheduling.md explains each):

- ``SERAMBI_SCHEDULING_MODE`` ``book`` (default: book the proposal at once, AudienceScheduled)
  or ``hold`` (AudienceProposed, a scheduling officer confirms);
- ``SERAMBI_MEETING_MINUTES`` (60) length of an automatically proposed audience;
- ``SERAMBI_BUFFER_MINUTES`` (15) free time kept between two bookings of a room or a host;
- ``SERAMBI_SLOT_STEP_MINUTES`` (30) proposals start on this grid from the audience-hours start;
- ``SERAMBI_MINIMUM_NOTICE`` (``1d``) earliest automatic proposal: ``Nd`` = from the start of the
  Nth working day after the submission, ``Nh`` = N working hours after it;
- ``SERAMBI_AUDIENCE_HOURS`` (``09:00-15:00``, WIB) when automatic proposals may start/end
  (always inside working time; officers may choose any slot inside working time);
- ``SERAMBI_HORIZON_WORKING_DAYS`` (15) how far ahead the automatic search looks;
- ``SERAMBI_SEED_RESOURCES`` (on outside production) creates the default room and host at
  start-up when none are registered, so a local stack schedules out of the box;
- ``SERAMBI_LETTER_SECRET`` key that derives the answer letters' unguessable ids (set in
  production; the development default is refused there);
- ``SERAMBI_SLA_SWEEP_SECONDS`` (60) how often one replica sweeps: overdue answer clocks, lost
  timers, orphaned bookings (0: at start-up only).
"""

from __future__ import annotations

import re
from datetime import time
from typing import ClassVar, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from serambi_kit.settings import ServiceSettings

DEV_LETTER_SECRET = "serambi-development-letter-secret-not-for-production"  # noqa: S105
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_NOTICE = re.compile(r"^\s*(\d+)\s*([dh])\s*$")


class SchedulingSettings(ServiceSettings):
    service: ClassVar[str] = "scheduling"
    default_port: ClassVar[int] = 8002

    scheduling_mode: Literal["book", "hold"] = "book"
    meeting_minutes: int = Field(default=60, ge=15, le=480)
    buffer_minutes: int = Field(default=15, ge=0, le=240)
    slot_step_minutes: int = Field(default=30, ge=5, le=240)
    minimum_notice: str = "1d"
    audience_hours: str = "09:00-15:00"
    horizon_working_days: int = Field(default=15, ge=1, le=120)
    seed_resources: bool | None = Field(default=None, description="default: on outside production")
    default_room_name: str = "Ruang Rapat Biro Perekonomian"
    default_room_capacity: int = Field(default=20, ge=1)
    default_room_location: str = "Kantor Gubernur Kalimantan Barat, Jl. Jenderal Ahmad Yani, Pontianak"
    default_host_name: str = "Kepala Biro Perekonomian"
    default_host_position: str = "Kepala Biro Perekonomian Setda Provinsi Kalimantan Barat"
    letter_secret: SecretStr = SecretStr(DEV_LETTER_SECRET)
    letter_signatory: str = "Kepala Biro Perekonomian"
    sla_sweep_seconds: float = Field(
        default=60.0,
        ge=0,
        description="how often to sweep clocks, timers and orphaned bookings (0: start-up only)",
    )
    request_workers: int = Field(
        default=4,
        ge=1,
        le=64,
        description="submitted requests placed at once (racing for a slot: the loser re-reads and retries)",
    )

    @field_validator("minimum_notice")
    @classmethod
    def _notice(cls, value: str) -> str:
        if not _NOTICE.match(value):
            raise ValueError("minimum_notice is like '1d' (working days) or '4h' (working hours)")
        return value.strip()

    @field_validator("audience_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        match = _HOURS.match(value)
        if not match:
            raise ValueError("audience_hours is like '09:00-15:00'")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if not (0 <= h1 < 24 and 0 <= h2 < 24 and m1 < 60 and m2 < 60) or (h2, m2) <= (h1, m1):
            raise ValueError("audience_hours: two times of day, the second after the first")
        return value.strip()

    @model_validator(mode="after")
    def _production_letter_secret(self) -> SchedulingSettings:
        if self.environment == "production" and self.letter_secret.get_secret_value() == DEV_LETTER_SECRET:
            raise ValueError("SERAMBI_LETTER_SECRET must be set to a secret in production")
        return self

    @property
    def notice(self) -> tuple[str, int]:
        match = _NOTICE.match(self.minimum_notice)
        assert match is not None
        return match.group(2), int(match.group(1))

    @property
    def hours(self) -> tuple[time, time]:
        match = _HOURS.match(self.audience_hours)
        assert match is not None
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        return time(h1, m1), time(h2, m2)

    @property
    def seeds(self) -> bool:
        return self.environment != "production" if self.seed_resources is None else self.seed_resources
