"""Fixtures of the notifier's unit tests (fakes in notifier_fakes.py)."""

from __future__ import annotations

import pytest
from notifier_fakes import FakeDb, FakeVault
from serambi_notifier.settings import NotifierSettings


@pytest.fixture
def vault() -> FakeVault:
    return FakeVault()


@pytest.fixture
def db() -> FakeDb:
    return FakeDb()


@pytest.fixture
def settings() -> NotifierSettings:
    return NotifierSettings(
        _env_file=None,
        officer_emails={
            "supervisor": ["kabiro@ekonomi.example"],
            "complaint_officer": ["pengaduan@ekonomi.example"],
            "scheduler": ["jadwal@ekonomi.example"],
            "complaint_team": ["tim@ekonomi.example"],
        },
        officer_phones={"supervisor": ["081211112222"]},
        host_emails={"H1": ["kabiro.ekonomi@ekonomi.example"]},
        host_phones={"H1": ["081233334444"]},
        contact_wait_seconds=0,
    )
