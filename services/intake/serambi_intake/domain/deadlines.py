"""The answer deadline of a request: the ``audience_answer`` clock (3 working days)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from serambi_calendar import Clock, SlaPolicy, WorkingCalendar

ANSWER_CLOCK = "audience_answer"


def answer_due(calendar: WorkingCalendar, policy: SlaPolicy) -> Callable[[datetime], datetime]:
    """The rule for ``calendar`` (the service's live one, revised as it runs) and ``policy``;
    a policy without the answer clock stops start-up."""
    policy.spec(ANSWER_CLOCK)

    def due(submitted_at: datetime) -> datetime:
        deadline = Clock(ANSWER_CLOCK, submitted_at).deadline(calendar, policy)
        assert deadline is not None  # a new clock is never paused
        return deadline

    return due
