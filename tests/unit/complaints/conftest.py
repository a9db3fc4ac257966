"""Fixtures of the complaint domain tests: the packaged 2026 calendar, sealed placeholders,
and a builder of complaint histories."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from serambi_calendar import WIB, SlaPolicy, load_calendar
from serambi_complaints.domain import ReceiveComplaint, Rules, decide_receive
from serambi_contracts.base import Sealed
from serambi_contracts.complaints import ComplaintChannel, ComplaintTier, Disclosure

TOKEN_SHA256 = "ab" * 32


def _sealed(text: str = "x") -> Sealed:
    return Sealed(key="k1", nonce="AAAAAAAAAAAAAAAA", data=text.encode().hex() or "00")


@pytest.fixture(scope="session")
def sealed() -> Callable[..., Sealed]:
    """A stand-in for a sealed value (the domain never opens them)."""
    return _sealed


@pytest.fixture(scope="session")
def rules() -> Rules:
    return Rules(load_calendar(years=[2026, 2027]), SlaPolicy(), reopen_window_days=10)


@pytest.fixture(scope="session")
def wib() -> Callable[[str], datetime]:
    """`wib("2026-01-05 09:00")` -> that wall-clock time in WIB."""
    return lambda text: datetime.fromisoformat(text).replace(tzinfo=WIB)


@pytest.fixture
def received(rules: Rules):
    """The events of a complaint received at `at` (WIB text), with or without a tier."""

    def build(
        at: datetime,
        tier: ComplaintTier | None = None,
        code: str = "ADU-2026-000001",
        disclosure: Disclosure = Disclosure.NAMED,
    ) -> list:
        command = ReceiveComplaint(
            tracking_code=code,
            channel=ComplaintChannel.COMPLAINT_BOX,
            received_at=at,
            disclosure=disclosure,
            summary=_sealed("s"),
            description=_sealed("d"),
            access_token_sha256=TOKEN_SHA256,
            tier=tier,
            recorded_by="officer-1",
        )
        return decide_receive([], command, rules)

    return build
