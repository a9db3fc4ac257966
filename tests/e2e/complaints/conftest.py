"""Two stacks of real processes (nats-server, SecantusDB, the complaints service): one on the
bureau's real 2026 calendar, one on a calendar where every hour is working time (for SLA timing)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from complaints_e2e import Client, always_working_overrides
from serambi_testing.stack import running_stack

REAL_CALENDAR_ENV = {"SERAMBI_RECEIVED_AT_MAX_AGE_DAYS": "3650"}


@pytest.fixture(scope="module")
def real_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    with running_stack(tmp_path_factory.mktemp("complaints"), ("complaints",), REAL_CALENDAR_ENV) as stack:
        yield stack


@pytest.fixture(scope="module")
def api(real_stack) -> Client:
    return Client(real_stack.urls["complaints"])


@pytest.fixture(scope="module")
def sla_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    base = tmp_path_factory.mktemp("complaints-sla")
    env = {"SERAMBI_CALENDAR_OVERRIDES": str(always_working_overrides(base / "always.toml"))}
    with running_stack(base, ("complaints",), env) as stack:
        yield stack


@pytest.fixture(scope="module")
def sla_api(sla_stack) -> Client:
    return Client(sla_stack.urls["complaints"])
