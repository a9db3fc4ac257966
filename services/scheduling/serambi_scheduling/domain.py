"""Audiences: pure decisions, no I/O.

The thin slice books every request at a placeholder slot (the next working day, 09:00 WIB, one
hour); issue #5 replaces the rule with real rooms, hosts and conflict checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from serambi_contracts import Event
from serambi_contracts.scheduling import AudienceScheduled

WIB = ZoneInfo("Asia/Pontianak")
PLACEHOLDER_START = time(9, 0)
PLACEHOLDER_LENGTH = timedelta(hours=1)


class Calendar(Protocol):
    def add_working_days(self, start: datetime, n: int) -> datetime: ...


@dataclass(frozen=True, slots=True)
class Slot:
    starts_at: datetime
    ends_at: datetime
    room: str
    host: str


def placeholder_slot(submitted_at: datetime, calendar: Calendar, room: str, host: str) -> Slot:
    """09:00 WIB on the first working day after the submission."""
    next_day = calendar.add_working_days(submitted_at, 1).astimezone(WIB).date()
    starts = datetime.combine(next_day, PLACEHOLDER_START, tzinfo=WIB)
    return Slot(starts, starts + PLACEHOLDER_LENGTH, room, host)


def schedule(
    history: Sequence[Event], audience_id: str, request_code: str, slot: Slot, by: str
) -> list[Event]:
    if any(isinstance(event, AudienceScheduled) for event in history):
        return []  # already booked: a redelivered request changes nothing
    return [
        AudienceScheduled(
            audience_id=audience_id,
            request_tracking_code=request_code,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            room=slot.room,
            host=slot.host,
            scheduled_by=by,
        )
    ]
