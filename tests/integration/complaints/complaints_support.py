"""Helpers of the complaints integration tests (imported by the tests and the conftest)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from serambi_calendar import SlaPolicy, WorkingCalendar, WorkingProfile, fixed_source
from serambi_complaints.domain import Rules
from serambi_complaints.main import ComplaintsService
from serambi_contracts.sla import SLABreached
from serambi_kit.eventstore import read_stream

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def always_working(revision: str = "always v1", holidays=None) -> WorkingCalendar:
    """Every hour of every day is working time (so clocks run while the tests do)."""
    profile = WorkingProfile.from_texts("standard", {day: ["00:00-24:00"] for day in DAYS})
    return WorkingCalendar(fixed_source(holidays or {}), {"standard": profile}, revision=revision)


def always_rules(revision: str = "always v1", holidays=None) -> Rules:
    return Rules(always_working(revision, holidays), SlaPolicy())


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def received_for(deadline_in: float, hours: int = 3) -> datetime:
    """A receipt such that an `hours` clock (ringan: 3) runs out `deadline_in` seconds from now
    on the always-working calendar."""
    return now() - timedelta(hours=hours) + timedelta(seconds=deadline_in)


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def stop(service: ComplaintsService) -> None:
    """Stop a service like its HTTP app's lifespan does (once)."""
    if getattr(service, "stopped_by_test", False):
        return
    service.stopped_by_test = True
    await service.stopping()
    await service.runtime.stop()


async def stream_events(nc, code: str) -> list:
    return [r.event async for r in read_stream(nc, "COMPLAINTS", f"complaints.complaint.{code}.*")]


async def is_breached(nc, code: str) -> bool:
    """Whether the complaint's stream holds an SLABreached."""
    return any(isinstance(e, SLABreached) for e in await stream_events(nc, code))
