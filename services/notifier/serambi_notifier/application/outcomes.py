"""A final delivery as its event: NotificationSent or NotificationFailed on
``notifier.delivery.<id>``, caused by the delivery's cause event."""

from __future__ import annotations

from typing import Any

from serambi_contracts import AggregateRef
from serambi_contracts.notifier import NotificationFailed, NotificationSent, failure_category
from serambi_kit.causation import caused_by
from serambi_kit.eventstore import deterministic_id

from .ports import DeliveryLedger


def outcome_event(document: dict[str, Any]) -> NotificationSent | NotificationFailed:
    """The public event of a final delivery: nothing derived from the address (neither the
    masked one nor its hash, both kept in the ledger) and of a failure only its category."""
    cause = document["cause"]
    common = dict(
        delivery_id=document["_id"],
        cause_event_id=cause["event_id"],
        cause_type=cause["type"],
        case_id=document.get("case_id"),
        notice=document["notice"],
        channel=document["channel"],
        recipient_kind=document["recipient_kind"],
        recipient_role=document["recipient_role"],
        attempts=document["attempts"],
    )
    if document["state"] == "sent":
        ids = document.get("provider_message_ids") or []
        return NotificationSent(
            **common,
            provider=document.get("provider") or "unknown",
            provider_message_id=",".join(ids)[:300] or None,
            sent_at=document["sent_at"],
        )
    return NotificationFailed(
        **common, category=failure_category(document.get("reason")), failed_at=document["failed_at"]
    )


async def append_outcome(store: Any, ledger: DeliveryLedger, document: dict[str, Any]) -> bool:
    """Append the delivery's event once (a deterministic event id makes a repeat a no-op), then
    mark the delivery published."""
    delivery_id = document["_id"]
    cause = document["cause"]
    with caused_by(cause.get("correlation_id"), cause["event_id"]):
        await store.append(
            AggregateRef("notifier", "delivery", delivery_id),
            [outcome_event(document)],
            expected_sequence=0,
            expected_version=0,
            event_ids=[deterministic_id("notification", delivery_id)],
        )
    await ledger.published(delivery_id)
    return True
