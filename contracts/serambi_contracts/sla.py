"""SLA events, appended to the case aggregate by the service that owns the clock."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from .base import AggregateId, Event, ShortText


class SLAWarning(Event):
    """A clock passed a warning threshold (a share of its working time) before its deadline."""

    context: ClassVar[str] = "sla"
    case_id: AggregateId
    clock: ShortText
    threshold_percent: int = Field(ge=1, le=99)
    started_at: datetime
    due_at: datetime
    warned_at: datetime


class SLABreached(Event):
    """A clock reached its deadline before the case was answered. At most once per deadline."""

    context: ClassVar[str] = "sla"
    case_id: AggregateId
    clock: ShortText
    started_at: datetime
    due_at: datetime
    breached_at: datetime
    escalate_to: ShortText = "supervisor"


class ClockDue(Event):
    """Internal: a durable timer fired (a JetStream message schedule). The owning service
    re-checks the case and appends SLAWarning / SLABreached at most once. Never public."""

    context: ClassVar[str] = "timers"
    case_id: AggregateId
    clock: ShortText
    due_at: datetime
    threshold_percent: int | None = Field(default=None, ge=1, le=99, description="None: the deadline")
