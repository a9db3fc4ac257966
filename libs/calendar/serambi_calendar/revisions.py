"""Calendar revisions: which open clocks get a different deadline under a new calendar, and the
fingerprint that tells an owner of clocks that the calendar or the durations changed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from serambi_calendar.calendar import WorkingCalendar
from serambi_calendar.clocks import Clock
from serambi_calendar.policy import SlaPolicy


@dataclass(frozen=True, slots=True)
class DeadlineMoved:
    """A clock whose deadline differs between two calendars; the owner records it and re-arms."""

    clock: Clock
    old: datetime | None
    new: datetime | None


def revise(
    open_clocks: Iterable[Clock],
    old_calendar: WorkingCalendar,
    new_calendar: WorkingCalendar,
    policy: SlaPolicy,
) -> list[DeadlineMoved]:
    """The clocks whose deadline moves from the old calendar to the new one, in input order."""
    moved = []
    for clock in open_clocks:
        old = clock.deadline(old_calendar, policy)
        new = clock.deadline(new_calendar, policy)
        if old != new:
            moved.append(DeadlineMoved(clock, old, new))
    return moved


def fingerprint(calendar: WorkingCalendar, policy: SlaPolicy) -> str:
    """The calendar revision and the clock durations in one text, e.g. ``overrides.toml v2026.1 /
    clocks 3f2a…``: an owner of clocks records it and revises its open deadlines when it changes.
    (The warning thresholds are left out: they move no deadline.)"""
    clocks = {name: str(spec) for name, spec in sorted(policy.clocks.items())}
    digest = hashlib.sha256(json.dumps(clocks, sort_keys=True).encode()).hexdigest()[:12]
    return f"{calendar.revision} / clocks {digest}"
