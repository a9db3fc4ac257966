"""Quiet hours for SMS to citizens: a daily window in WIB during which texts are held.

A held text is sent at the window's end, never dropped. The window may wrap midnight (the default
21:00–06:00 does).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from serambi_calendar import WIB


def parse_clock(text: str) -> time:
    hours, _, minutes = text.partition(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True, slots=True)
class QuietHours:
    start: time
    end: time

    @classmethod
    def parse(cls, start: str, end: str) -> QuietHours:
        return cls(parse_clock(start), parse_clock(end))

    def contains(self, instant: datetime) -> bool:
        local = instant.astimezone(WIB).time()
        if self.start == self.end:
            return False  # an empty window: no quiet hours
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def release(self, instant: datetime) -> datetime:
        """``instant`` itself outside the window; otherwise the window's end (an aware datetime)."""
        if not self.contains(instant):
            return instant
        local = instant.astimezone(WIB)
        end = datetime.combine(local.date(), self.end, tzinfo=WIB)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(instant.tzinfo)
