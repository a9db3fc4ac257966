"""Reads of the delivery log for officers: filters, paging, recipients masked (citizens' only
for the roles that may see them, revealed from their sealed copy: none once the person was
erased), reasons as categories (the providers' words are sealed).

A search by contact (``RecipientSearch``) finds an officer's deliveries by the keyed hash of their
configured address, and a citizen's through the vault: the data keys the contact's lookup hash
finds (``Vault.subjects_of``) against each delivery's ``subject_key``, on the contact's channel.
After an erasure the vault finds no key, so the person's deliveries are found by nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import DESCENDING
from serambi_kit.pagination import PageRequest
from serambi_kit.pii import Vault

from .ledger import Ledger

PUBLIC_FIELDS = (
    "case_id",
    "cause_type",
    "notice",
    "channel",
    "recipient_kind",
    "recipient_role",
    "state",
    "attempts",
    "created_at",
    "updated_at",
    "next_attempt_at",
    "held_until",
    "sent_at",
    "failed_at",
    "reason",
    "last_error",
    "provider",
    "receipt_status",
    "receipt_at",
    "lease_expiries",
    "language",
)


@dataclass(frozen=True, slots=True)
class RecipientSearch:
    """The deliveries to one e-mail address or phone number."""

    channel: str  # the contact's: email or sms
    officer_hash: str  # keyed hash of the normalised contact (officers' deliveries keep theirs)
    subject_keys: tuple[str, ...] = ()  # the data keys the vault finds by it (none once erased)

    def query(self) -> dict[str, Any]:
        ways: list[dict[str, Any]] = [{"recipient_kind": "officer", "recipient_hash": self.officer_hash}]
        if self.subject_keys:
            ways.append(
                {
                    "recipient_kind": "citizen",
                    "channel": self.channel,
                    "subject_key": {"$in": list(self.subject_keys)},
                }
            )
        return {"$or": ways}


@dataclass(frozen=True, slots=True)
class DeliveryFilter:
    case_id: str | None = None
    cause_type: str | None = None
    notice: str | None = None
    channel: str | None = None
    state: str | None = None
    recipient: RecipientSearch | None = None
    since: datetime | None = None
    until: datetime | None = None

    def query(self) -> dict[str, Any]:
        query: dict[str, Any] = {
            key: value
            for key, value in (
                ("case_id", self.case_id),
                ("cause_type", self.cause_type),
                ("notice", self.notice),
                ("channel", self.channel),
                ("state", self.state),
            )
            if value is not None
        }
        if self.recipient is not None:
            query.update(self.recipient.query())
        window = {op: value for op, value in (("$gte", self.since), ("$lt", self.until)) if value}
        if window:
            query["created_at"] = window
        return query


def view(
    document: dict[str, Any], masked_citizens: bool = False, citizen: str | None = None
) -> dict[str, Any]:
    """A delivery as officers see it (masked recipient — a citizen's, ``citizen`` as revealed
    from its sealed copy, only with ``masked_citizens`` —; no hash, no internals, no sealed
    words)."""
    out = {"delivery_id": document["_id"], "cause_event_id": document["cause"]["event_id"]}
    out.update({field: document.get(field) for field in PUBLIC_FIELDS})
    if out["recipient_kind"] == "citizen":  # never a mask a ledger of before may still hold
        out["recipient"] = citizen if masked_citizens else None
    else:
        out["recipient"] = document.get("recipient_masked")
    # the receipt from the gateway if any, else what the provider answered when it took it
    out["receipt_status"] = out["receipt_status"] or document.get("provider_status")
    out["lease_expiries"] = out["lease_expiries"] or 0
    return out


async def revealed_recipient(vault: Vault | None, document: dict[str, Any]) -> str | None:
    """A citizen's masked address from its sealed copy (None once they were erased)."""
    sealed = document.get("recipient_sealed")
    return await vault.reveal(sealed) if vault is not None and sealed else None


async def deliveries(
    ledger: Ledger,
    where: DeliveryFilter,
    paging: PageRequest,
    masked_citizens: bool = False,
    vault: Vault | None = None,
) -> dict[str, Any]:
    query = where.query()
    total = await ledger.collection.count_documents(query)
    cursor = (
        ledger.collection.find(query)
        .sort([("created_at", DESCENDING), ("_id", DESCENDING)])
        .skip(paging.skip)
        .limit(paging.size)
    )
    items = [
        view(
            document, masked_citizens, await revealed_recipient(vault, document) if masked_citizens else None
        )
        async for document in cursor
    ]
    return paging.answer(items, total)


async def delivery(
    ledger: Ledger, delivery_id: str, masked_citizens: bool = False, vault: Vault | None = None
) -> dict[str, Any] | None:
    document = await ledger.get(delivery_id)
    if document is None:
        return None
    citizen = await revealed_recipient(vault, document) if masked_citizens else None
    return view(document, masked_citizens, citizen)
