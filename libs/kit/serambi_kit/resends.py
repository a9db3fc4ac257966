"""The lost-link resend policy (standard library only: the domains may import this module, see
the "Domains import only ..." import-linter contract in the root pyproject.toml)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class LinkResends:
    """How often a case's lost tracking link is sent again ("lost your link?"): at most once per
    ``interval``, ``per_day`` times in any 24 hours, and never once the case has ended (closed,
    withdrawn) ``days_after_end`` days ago. The citizen's answer is the same either way."""

    interval: timedelta = timedelta(minutes=15)
    per_day: int = 3
    days_after_end: int = 30

    def allow(self, asked: Sequence[datetime], ended_at: datetime | None, now: datetime) -> bool:
        if ended_at is not None and now - ended_at >= timedelta(days=self.days_after_end):
            return False
        if asked and now - max(asked) < self.interval:
            return False
        return sum(1 for at in asked if now - at < timedelta(days=1)) < self.per_day
