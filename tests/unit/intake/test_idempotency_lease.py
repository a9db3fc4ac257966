"""The Idempotency-Key lease: when a retry may take over a key whose holder went silent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from serambi_intake.settings import IntakeSettings
from serambi_kit.idempotency import lease_left

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def test_a_running_lease_leaves_its_seconds():
    assert lease_left({"lease_until": NOW + timedelta(seconds=12.5)}, NOW) == 12.5


def test_an_ended_lease_leaves_nothing():
    assert lease_left({"lease_until": NOW - timedelta(seconds=1)}, NOW) == 0
    assert lease_left({"lease_until": NOW}, NOW) == 0


def test_a_record_of_older_code_without_a_lease_counts_as_ended():
    assert lease_left({"status": "in_progress"}, NOW) == 0


def test_the_lease_is_a_bounded_setting(monkeypatch):
    monkeypatch.delenv("SERAMBI_IDEMPOTENCY_LEASE_SECONDS", raising=False)
    assert IntakeSettings().idempotency_lease_seconds == 30
    monkeypatch.setenv("SERAMBI_IDEMPOTENCY_LEASE_SECONDS", "0")
    with pytest.raises(ValidationError):
        IntakeSettings()
