"""The working calendar's revisions, kept current in every process that counts working time.

Scheduling records each revision an administrator makes (``WorkingDayRevised`` on
``scheduling.calendar.working-days``); intake, scheduling and complaints read them from the
SCHEDULING stream by direct get — only what is new since the last read — and apply them on top of
the override file (``serambi_calendar.LiveCalendar``). Each replica refreshes on its own (at
start-up, then every ``calendar_refresh_seconds``); an owner of clocks then moves its open
deadlines (``serambi_kit.revisions``), once per replica whose calendar changed, which is harmless
twice: the moves have deterministic ids and expected versions.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from serambi_contracts import AggregateRef
from serambi_contracts.scheduling import WorkingDayRevised

from .eventstore import RecordedEvent
from .logging import get_logger

log = get_logger(__name__)
STREAM = "SCHEDULING"
SUBJECTS = "scheduling.calendar.*.*"
CALENDAR = AggregateRef("scheduling", "calendar", "working-days")
Fetch = Callable[[str, int], AsyncIterator[RecordedEvent]]


class CalendarRevisions:
    """Reads the revisions into ``calendar`` (a ``serambi_calendar.LiveCalendar``, whose
    ``revise`` takes them all; a calendar without it is left as it is)."""

    def __init__(self, calendar: object, fetch: Fetch) -> None:
        self.calendar = calendar
        self.fetch = fetch
        self.events: list[WorkingDayRevised] = []
        self.last_sequence = 0
        self._reading = asyncio.Lock()

    async def refresh(self) -> bool:
        """Read what is new; True when the calendar changed (then it counts with the new one).
        One read at a time: two at once (the start-up read and a round, or a caller's) would both
        take the same new revisions and apply them twice."""
        revise = getattr(self.calendar, "revise", None)
        if revise is None:
            return False
        async with self._reading:
            return await self._read_new(revise)

    async def _read_new(self, revise: Callable[[list[WorkingDayRevised]], object]) -> bool:
        new, last = [], self.last_sequence
        async for recorded in self.fetch(SUBJECTS, self.last_sequence + 1):
            if isinstance(recorded.event, WorkingDayRevised):
                new.append(recorded.event)
            last = recorded.sequence
        self.last_sequence = last  # only after a whole read: one cut short is read again
        if not new:
            return False
        self.events += new
        revise(self.events)
        log.info(
            "calendar.revisions_read",
            revisions=len(self.events),
            revision=getattr(self.calendar, "revision", None),
        )
        return True
