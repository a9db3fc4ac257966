"""The rules the decisions count with: the working calendar, the SLA policy, the reopen window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from serambi_calendar import Clock, SlaPolicy, WorkingCalendar
from serambi_calendar import fingerprint as calendar_fingerprint


@dataclass(frozen=True)
class Rules:
    calendar: WorkingCalendar
    policy: SlaPolicy
    reopen_window_days: int = 10  # working days after the answer in which a dispute reopens

    def deadline(self, clock: Clock | None) -> datetime | None:
        return None if clock is None else clock.deadline(self.calendar, self.policy)

    def reopen_until(self, answered_at: datetime) -> datetime:
        return self.calendar.add_working_days(answered_at, self.reopen_window_days)

    def remaining(self, clock: Clock | None, now: datetime) -> timedelta | None:
        """Working time left on ``clock`` at ``now`` (negative when overdue). A paused clock
        keeps what it had left when it was paused."""
        if clock is None:
            return None
        if clock.paused:
            paused_at = clock.pauses[-1].paused_at
            frozen = clock.resume(paused_at)
            due = frozen.deadline(self.calendar, self.policy)
            return None if due is None else self.calendar.working_time_between(paused_at, due)
        due = clock.deadline(self.calendar, self.policy)
        return None if due is None else self.calendar.working_time_between(now, due)

    @property
    def fingerprint(self) -> str:
        """The calendar revision and the clock durations: when it changes, open deadlines are
        recomputed (see ``revise_deadline``)."""
        return calendar_fingerprint(self.calendar, self.policy)
