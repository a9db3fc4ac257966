"""Intake's use cases: load → decide → append, with documents and sealed personal data."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from pymongo.asynchronous.database import AsyncDatabase
from serambi_contracts import AggregateRef
from serambi_contracts.base import Sealed
from serambi_contracts.intake import (
    DocumentRef,
    GuestRegistered,
    InstitutionType,
    Requester,
    RequestSubmitted,
)
from serambi_kit.documents import DocumentStore, Upload
from serambi_kit.eventstore import AppendOutcomeUnknown, EventStore, execute
from serambi_kit.pii import Vault
from serambi_kit.tracking_links import (
    MAX_CODE_ATTEMPTS,
    LinkResends,
    hash_token,
    new_access_token,
    next_tracking_code,
    token_matches,
)

from . import domain


def request_ref(tracking_code: str) -> AggregateRef:
    return AggregateRef("intake", "request", tracking_code)


def guest_ref(guest_id: str) -> AggregateRef:
    return AggregateRef("intake", "guest", guest_id)


@dataclass(frozen=True, slots=True)
class RequesterDetails:
    """The requester as typed in, before sealing."""

    name: str
    position: str
    institution: str
    institution_type: InstitutionType
    email: str | None
    phone: str | None
    identity_number: str | None = None


async def seal_requester(vault: Vault, details: RequesterDetails) -> tuple[Requester, Sealed | None]:
    """The requester with name, email and phone — and the NIK — sealed under a new subject key."""
    key = await vault.new_subject([details.email, details.phone, details.identity_number])

    async def seal(value: str | None) -> Sealed | None:
        return await vault.seal(key, value) if value else None

    requester = Requester(
        name=await vault.seal(key, details.name),
        position=details.position,
        institution=details.institution,
        institution_type=details.institution_type,
        email=await seal(details.email),
        phone=await seal(details.phone),
    )
    return requester, await seal(details.identity_number)


async def submit_request(
    store: EventStore,
    db: AsyncDatabase,
    documents: DocumentStore,
    uploads: list[tuple[Upload, str]],
    command: Callable[[str, tuple[DocumentRef, ...]], domain.SubmitRequest],
    now: datetime,
    *,
    subject_key: str,
    token: str | None = None,
    tracking_code: str | None = None,
    reserve: Callable[[str, str], Awaitable[None]] | None = None,
) -> tuple[RequestSubmitted, str]:
    """Store the documents, then append RequestSubmitted; on a failure the documents go too —
    unless the append's outcome is unknown (NATS did not answer): the request may be stored, so
    they stay pending for the retry (or the sweep) to settle.

    ``uploads`` are (upload, checked media type), sealed with the requester's ``subject_key``;
    ``command(token_sha256, documents)`` builds the command without its tracking code. Returns
    the stored event and the access token. A tracking code already taken (e.g. after the
    counter was lost with the database) is skipped.
    ``reserve(tracking_code, token)`` is awaited before each append (the Idempotency-Key keeps
    them); a re-run passes them back as ``tracking_code`` and ``token``: if the first run's
    request was stored, it is returned, this run's documents are discarded and nothing is
    appended; the first run's documents, which that request references, are marked attached.
    """
    token = token or new_access_token()
    owner = "submission-" + secrets.token_hex(8)
    refs: list[DocumentRef] = []
    try:
        for upload, media_type in uploads:
            refs.append(await documents.put_pending(upload, media_type, owner, subject_key))
        draft = command(hash_token(token), tuple(refs))
        for _ in range(MAX_CODE_ATTEMPTS):
            code = tracking_code or await next_tracking_code(db, "AUD", now.year)
            tracking_code = None
            if reserve:
                await reserve(code, token)
            submission = draft.with_code(code)
            try:
                [submitted] = await execute(
                    store, request_ref(code), lambda history, c=submission: domain.submit(history, c)
                )
            except domain.RequestExistsError:
                stored = await submitted_with_token(store, code, token)
                if stored is None:
                    continue
                await documents.discard(refs)
                refs = list(stored.documents)  # the earlier run's, which its request references
                break
            stored = cast(RequestSubmitted, submitted)
            break
        else:
            raise RuntimeError(f"no free tracking code after {MAX_CODE_ATTEMPTS} attempts")
    except BaseException as exc:
        if not isinstance(exc, AppendOutcomeUnknown):
            await documents.discard(refs)
        raise
    # After the append, outside the discard above: if this fails (MongoDB away), the stored
    # request keeps its documents — pending, until a retry or the sweep marks them attached.
    await documents.mark_attached([ref.document_id for ref in refs])
    return stored, token


async def submitted_with_token(store: EventStore, tracking_code: str, token: str) -> RequestSubmitted | None:
    """The request ``tracking_code`` if it was submitted with ``token`` (by an earlier run)."""
    history = await store.load(request_ref(tracking_code))
    first = history.payloads[0] if history.payloads else None
    if isinstance(first, RequestSubmitted) and token_matches(first.access_token_sha256, token):
        return first
    return None


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


async def register_guest(store: EventStore, guest: GuestRegistered) -> None:
    await execute(store, guest_ref(guest.guest_id), lambda h: domain.register_guest(h, guest))


async def sweep_documents(documents: DocumentStore, db: AsyncDatabase, older_than: timedelta) -> int:
    """Delete documents left pending by a submission that died half-way; documents that a
    request does reference (the process died after the append) are marked attached instead."""

    async def referenced(document_id: str) -> bool:
        return await db["requests"].find_one({"documents.document_id": document_id}, {"_id": 1}) is not None

    return await documents.sweep(referenced, older_than)
