"""Lost-link resends of a complaint: three a day at most, none long after it was closed; the
complainant's answer (202) is the same whichever way it goes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from serambi_complaints.domain import decide_link
from serambi_contracts.complaints import ComplaintClosed
from serambi_kit.resends import LinkResends

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
CODE = "ADU-2026-000001"


def _asked_over(history: list, hours: list[float], policy: LinkResends = LinkResends()) -> list[bool]:
    sent = []
    for hour in hours:
        new = decide_link(history, CODE, NOW + timedelta(hours=hour), policy)
        history = [*history, *new]
        sent.append(bool(new))
    return sent


def test_a_complaint_s_lost_link_is_sent_again_at_most_three_times_a_day(received):
    sent = _asked_over(received(NOW), [0, 0.25, 0.5, 0.75, 12, 24.1])
    assert sent == [True, True, True, False, False, True]


def test_an_unknown_complaint_s_link_is_never_sent():
    assert _asked_over([], [0]) == [False]


def test_no_lost_link_is_sent_the_configured_days_after_the_complaint_was_closed(received):
    closed = [*received(NOW), ComplaintClosed(tracking_code=CODE, closed_at=NOW, closed_by="officer-1")]
    assert _asked_over(closed, [24 * 29, 24 * 30]) == [True, False]
    assert _asked_over(closed, [24 * 6, 24 * 7], LinkResends(days_after_end=7)) == [True, False]


def test_the_daily_cap_is_configurable():
    policy = LinkResends(per_day=1)
    assert policy.allow([], None, NOW)
    assert not policy.allow([NOW], None, NOW + timedelta(hours=1))
