"""Fixtures of scheduling's unit tests (helpers live in scheduling_support.py)."""

from __future__ import annotations

import pytest
from scheduling_support import make_context
from serambi_calendar import WorkingCalendar, load_calendar
from serambi_scheduling.application.context import Context


@pytest.fixture(scope="session")
def calendar() -> WorkingCalendar:
    return load_calendar(years=range(2025, 2028))


@pytest.fixture
def ctx(calendar: WorkingCalendar) -> Context:
    return make_context(calendar)
