"""Intake's use cases besides the submission (``submission.py``): withdraw a request, send its
tracking link again, register a guest, sweep the documents a dead submission left."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from serambi_contracts import AggregateRef
from serambi_contracts.intake import RequestSubmitted
from serambi_kit.eventstore import EventStore, execute
from serambi_kit.phones import phone_identifier
from serambi_kit.pii import Vault
from serambi_kit.resends import LinkResends

from ..domain import guests
from ..domain import requests as domain
from .ports import Documents, RequestViews


def request_ref(tracking_code: str) -> AggregateRef:
    return AggregateRef("intake", "request", tracking_code)


def guest_ref(guest_id: str) -> AggregateRef:
    return AggregateRef("intake", "guest", guest_id)


async def withdraw_request(
    store: EventStore,
    vault: Vault,
    tracking_code: str,
    now: datetime,
    reason: str | None = None,
) -> None:
    """Withdraw the request; the requester's reason is sealed under their data key (it is their
    own words: erasing them erases it, and it never reaches a public event in clear)."""
    sealed = None
    if reason:
        history = await store.load(request_ref(tracking_code))
        first = history.payloads[0] if history.payloads else None
        if isinstance(first, RequestSubmitted):
            sealed = await vault.seal(first.requester.name.key, reason)
    command = domain.WithdrawRequest(tracking_code, now, sealed)
    await execute(store, request_ref(tracking_code), lambda history: domain.withdraw(history, command))


async def request_link(
    store: EventStore,
    tracking_code: str,
    now: datetime,
    policy: LinkResends = LinkResends(),
) -> bool:
    """Record that the tracking link is to be sent again; False when nothing was recorded."""
    return bool(
        await execute(
            store,
            request_ref(tracking_code),
            lambda history: domain.request_link(history, tracking_code, now, policy),
        )
    )


@dataclass(frozen=True, slots=True)
class GuestDetails:
    """A walk-in guest as the desk typed them in. The email, phone and NIK are not stored: only
    their keyed hashes, beside the guest's data key, so that erasing the person finds their
    guest-book entry too."""

    name: str
    institution: str
    purpose: str
    arrived_at: datetime | None = None  # default: now
    request_tracking_code: str | None = None
    email: str | None = None
    phone: str | None = None
    identity_number: str | None = None


async def register_guest(
    store: EventStore, vault: Vault, views: RequestViews, details: GuestDetails, recorded_by: str
) -> guests.RegisterGuest:
    """Record a guest in the guest book, their name sealed under a new data key — found with the
    requester's identifiers too when the guest is linked to a request."""
    linked = []
    if details.request_tracking_code:
        requester = await views.requester_key(details.request_tracking_code)
        if requester:
            linked.append(requester)
    key = await vault.new_subject(
        [details.email, phone_identifier(details.phone), details.identity_number], found_with=linked
    )
    command = guests.RegisterGuest(
        guest_id="G" + uuid.uuid4().hex[:20],
        name=await vault.seal(key, details.name),
        institution=details.institution,
        purpose=details.purpose,
        arrived_at=details.arrived_at or datetime.now(UTC),
        recorded_by=recorded_by,
        request_tracking_code=details.request_tracking_code,
    )
    await execute(store, guest_ref(command.guest_id), lambda history: guests.register(history, command))
    return command


async def sweep_documents(documents: Documents, views: RequestViews, older_than: timedelta) -> int:
    """Delete documents left pending by a submission that died half-way; documents that a
    request does reference (the process died after the append) are marked attached instead."""
    return await documents.sweep(views.references, older_than)
