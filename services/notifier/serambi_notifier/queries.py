"""Reads of the delivery log for officers: filters, paging, recipients masked (citizens' only
for the roles that may see them), reasons as categories (the providers' words are sealed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import DESCENDING

from .ledger import Ledger

PUBLIC_FIELDS = (
    "case_id", "cause_type", "notice", "channel", "recipient_kind", "recipient_role",
    "recipient_masked", "state", "attempts", "created_at", "updated_at", "next_attempt_at",
    "held_until", "sent_at", "failed_at", "reason", "last_error", "provider", "receipt_status",
    "receipt_at", "lease_expiries", "language",
)


@dataclass(frozen=True, slots=True)
class DeliveryFilter:
    case_id: str | None = None
    cause_type: str | None = None
    notice: str | None = None
    channel: str | None = None
    state: str | None = None
    recipient_hash: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def query(self) -> dict[str, Any]:
        query: dict[str, Any] = {
            key: value for key, value in (
                ("case_id", self.case_id), ("cause_type", self.cause_type), ("notice", self.notice),
                ("channel", self.channel), ("state", self.state),
                ("recipient_hash", self.recipient_hash),
            ) if value is not None
        }
        window = {op: value for op, value in (("$gte", self.since), ("$lt", self.until)) if value}
        if window:
            query["created_at"] = window
        return query


def view(document: dict[str, Any], masked_citizens: bool = False) -> dict[str, Any]:
    """A delivery as officers see it (masked recipient — a citizen's only with
    ``masked_citizens`` —; no hash, no internals, no sealed words)."""
    out = {"delivery_id": document["_id"], "cause_event_id": document["cause"]["event_id"]}
    out.update({field: document.get(field) for field in PUBLIC_FIELDS})
    out["recipient"] = out.pop("recipient_masked")
    if out["recipient_kind"] == "citizen" and not masked_citizens:
        out["recipient"] = None
    # the receipt from the gateway if any, else what the provider answered when it took it
    out["receipt_status"] = out["receipt_status"] or document.get("provider_status")
    out["lease_expiries"] = out["lease_expiries"] or 0
    return out


async def deliveries(ledger: Ledger, where: DeliveryFilter, page: int, page_size: int,
                     masked_citizens: bool = False) -> dict[str, Any]:
    query = where.query()
    total = await ledger.collection.count_documents(query)
    cursor = (ledger.collection.find(query).sort([("created_at", DESCENDING), ("_id", DESCENDING)])
              .skip((page - 1) * page_size).limit(page_size))
    items = [view(document, masked_citizens) async for document in cursor]
    return {"items": items, "page": page, "page_size": page_size, "total": total}


async def delivery(ledger: Ledger, delivery_id: str, masked_citizens: bool = False
                   ) -> dict[str, Any] | None:
    document = await ledger.get(delivery_id)
    return view(document, masked_citizens) if document else None
