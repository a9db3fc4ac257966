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


def delivery_ref(delivery_id: str) -> AggregateRef:
    return AggregateRef("notifier", "delivery", delivery_id)


async def append_event(store: Any, document: dict[str, Any]) -> None:
    """Append the final delivery's event once: a deterministic event id and expected sequence 0
    make a repeat (a retried append, another replica's) a no-op."""
    delivery_id = document["_id"]
    cause = document["cause"]
    with caused_by(cause.get("correlation_id"), cause["event_id"]):
        await store.append(
            delivery_ref(delivery_id),
            [outcome_event(document)],
            expected_sequence=0,
            expected_version=0,
            event_ids=[deterministic_id("notification", delivery_id)],
        )


async def append_outcome(store: Any, ledger: DeliveryLedger, document: dict[str, Any]) -> bool:
    """The outbox's round: append the event of a delivery the ledger has final but not
    published (its append failed, or a ledger written before events came first), then mark it
    published."""
    await append_event(store, document)
    await ledger.published(document["_id"])
    return True


async def recorded_outcome(store: Any, delivery_id: str) -> NotificationSent | NotificationFailed | None:
    """The delivery's event if its stream has one: then the delivery was sent (or failed) and
    its holder stopped before the ledger said so."""
    history = await store.load(delivery_ref(delivery_id))
    for recorded in history.events:
        event = recorded.event
        upcast = getattr(event, "upcast", None)
        event = upcast() if callable(upcast) else event
        if isinstance(event, NotificationSent | NotificationFailed):
            return event
    return None
