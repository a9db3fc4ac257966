"""When a delivery is tried again, and when an event is too old to be news."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from serambi_contracts.notifier import Channel, RecipientKind

from .deliveries import Planned


def backoff(attempts: int, base: float, cap: float) -> float:
    """Seconds before attempt ``attempts + 1``: base·2^(n-1), capped, ±20 % jitter."""
    delay: float = min(base * 2 ** (attempts - 1), cap)
    return delay * random.uniform(0.8, 1.2)


def waits_for_quiet_hours(planned: Planned) -> bool:
    """An SMS to a citizen is never handed over in quiet hours."""
    return planned.channel is Channel.SMS and planned.recipient_kind is RecipientKind.CITIZEN


def stale(event_time: datetime, now: datetime, max_age_hours: float) -> bool:
    """Too old to be news: a first deployment (the consumers start at the beginning of the
    streams) or a replay must not notify people about events of long ago."""
    return bool(max_age_hours) and now - event_time > timedelta(hours=max_age_hours)
