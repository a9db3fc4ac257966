"""Events of the scheduling context (audiences)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from .base import AggregateId, Event, ShortText


class AudienceScheduled(Event):
    """An audience was booked for a request: when, where and with whom."""

    context: ClassVar[str] = "scheduling"
    audience_id: AggregateId
    request_tracking_code: AggregateId
    starts_at: datetime
    ends_at: datetime
    room: ShortText
    host: ShortText
    scheduled_by: ShortText
