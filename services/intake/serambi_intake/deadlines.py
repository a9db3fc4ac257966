"""The answer deadline of a request: the ``audience_answer`` clock (3 working days)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from serambi_calendar import Clock, WorkingCalendar, calendar_from_env, policy_from_env

ANSWER_CLOCK = "audience_answer"


def answer_due(calendar: WorkingCalendar | None = None) -> Callable[[datetime], datetime]:
    """Load the calendar (unless given: the service's live one, revised as it runs) and the
    policy once (a broken calendar stops start-up) and return the rule."""
    calendar, policy = calendar or calendar_from_env(), policy_from_env()
    policy.spec(ANSWER_CLOCK)

    def due(submitted_at: datetime) -> datetime:
        deadline = Clock(ANSWER_CLOCK, submitted_at).deadline(calendar, policy)
        assert deadline is not None  # a new clock is never paused
        return deadline

    return due
