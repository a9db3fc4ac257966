"""Reading the working calendar's revisions: two reads at once apply each revision once."""

from __future__ import annotations

import asyncio
from datetime import date
from types import SimpleNamespace

import pytest
from serambi_contracts.scheduling import WorkingDayRevised
from serambi_kit.calendars import CalendarRevisions


class Calendar:
    def __init__(self) -> None:
        self.applied: list[list[WorkingDayRevised]] = []

    def revise(self, events: list[WorkingDayRevised]) -> None:
        self.applied.append(list(events))


async def test_two_reads_at_once_apply_a_new_revision_once():
    """The start-up read and a round (or a caller) overlapping used to both take the revision:
    the calendar counted "revisi 2" for one recorded revision."""
    revision = WorkingDayRevised(
        revision=1,
        action="add",
        day=date(2026, 12, 24),
        holiday_name="Cuti bersama",
        decree="SKB 3 Menteri",
        revised_by="admin-1",
    )
    stored = [SimpleNamespace(event=revision, sequence=7)]

    async def fetch(subjects: str, from_sequence: int):
        await asyncio.sleep(0.01)  # a round trip to NATS, during which the other read starts
        for recorded in stored:
            if recorded.sequence >= from_sequence:
                yield recorded

    calendar = Calendar()
    revisions = CalendarRevisions(calendar, fetch)
    changed = await asyncio.gather(revisions.refresh(), revisions.refresh())
    assert sorted(changed) == [False, True]
    assert revisions.events == [revision] and calendar.applied == [[revision]]
    assert await revisions.refresh() is False


async def test_a_read_cut_short_is_read_again_from_where_it_started():
    """A read that failed after yielding a revision used to move past it: the revision was lost
    in that process until it restarted."""
    revision = WorkingDayRevised(
        revision=1,
        action="add",
        day=date(2026, 12, 24),
        holiday_name="Cuti bersama",
        decree="SKB 3 Menteri",
        revised_by="admin-1",
    )
    failing = [True]

    async def fetch(subjects: str, from_sequence: int):
        if from_sequence <= 7:
            yield SimpleNamespace(event=revision, sequence=7)
        if failing.pop() if failing else False:
            raise TimeoutError("the second batch timed out")

    calendar = Calendar()
    revisions = CalendarRevisions(calendar, fetch)
    with pytest.raises(TimeoutError):
        await revisions.refresh()
    assert await revisions.refresh() is True
    assert calendar.applied == [[revision]]
