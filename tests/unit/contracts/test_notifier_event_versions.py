"""Notifier events, version 2: nothing derived from the recipient's address, a failure's category
instead of the provider's words; version 1 stays readable and upcasts (issue 19, items 3, 4)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from serambi_contracts import event_class
from serambi_contracts.notifier import (
    FailureCategory,
    NotificationFailed,
    NotificationFailedV1,
    NotificationSent,
    NotificationSentV1,
    failure_category,
)

V1 = {
    "delivery_id": "d-1",
    "cause_event_id": "e-1",
    "cause_type": "ComplaintReceived",
    "case_id": "ADU-1",
    "notice": "complaint_acknowledged",
    "channel": "email",
    "recipient_kind": "citizen",
    "recipient_role": "complainant",
    "recipient_masked": "s***@example.id",
    "recipient_hash": "a" * 64,
    "attempts": 1,
}
AT = datetime(2026, 3, 2, tzinfo=UTC)


def test_version_2_is_published_and_version_1_is_still_read_under_its_own_type():
    assert NotificationSent.event_type().endswith("notifier.NotificationSent.v2")
    assert event_class(NotificationSentV1.event_type()) is NotificationSentV1
    assert NotificationSentV1.event_type().endswith("notifier.NotificationSent.v1")
    assert NotificationFailedV1.name() == NotificationFailed.name() == "NotificationFailed"
    for event in (NotificationSent, NotificationFailed):
        assert {"recipient_masked", "recipient_hash", "reason"}.isdisjoint(event.model_fields)


def test_a_version_1_event_upcasts_without_what_it_carried_of_the_recipient():
    sent = NotificationSentV1(**V1, provider="smtp", sent_at=AT).upcast()
    assert isinstance(sent, NotificationSent) and sent.case_id == "ADU-1"
    failed = NotificationFailedV1(
        **V1, reason="recipient refused: 550 <siti@example.id>", failed_at=AT
    ).upcast()
    assert failed.category is FailureCategory.REFUSED
    assert "siti" not in failed.model_dump_json() and "a" * 64 not in failed.model_dump_json()


@pytest.mark.parametrize(
    ("reason", "category"),
    [
        ("recipient erased", "recipient_erased"),
        ("invalid email address: x", "invalid_address"),
        ("invalid phone number: y", "invalid_address"),
        ("gave up after 10 attempts: z", "gave_up"),
        ("no longer planned: the cause event changed", "not_planned"),
        ("gateway refused: HTTP 422", "refused"),
        ("refused", "refused"),
        (None, "other"),
    ],
)
def test_the_reasons_of_version_1_map_to_categories(reason, category):
    assert failure_category(reason) == category
