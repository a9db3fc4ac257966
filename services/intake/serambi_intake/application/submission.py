"""One submission flow for every channel (online, desk, letter): idempotency, deadline, sealing,
documents, append. The route hands over the request as typed in and its checked documents; the
answer is what the requester (and a retry with the same Idempotency-Key) gets back."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import partial
from typing import Any, cast

from serambi_calendar import WIB
from serambi_contracts.base import Sealed
from serambi_contracts.intake import DocumentRef, InstitutionType, IntakeChannel, Requester, RequestSubmitted
from serambi_kit.documents import Upload
from serambi_kit.eventstore import AppendOutcomeUnknown, EventStore, execute
from serambi_kit.idempotency import Claim, answer_once, fingerprint
from serambi_kit.pii import Vault
from serambi_kit.tracking_links import MAX_CODE_ATTEMPTS, hash_token, new_access_token, token_matches

from ..domain import requests as domain
from .context import Intake
from .requests import request_ref


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


@dataclass(frozen=True, slots=True)
class RequestDetails:
    """The request as typed in, before sealing; ``typed`` is the form's canonical JSON, which the
    Idempotency-Key's fingerprint covers."""

    requester: RequesterDetails
    topic: str
    purpose: str
    participants: int
    proposed_dates: tuple[date, ...]
    typed: str


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


async def submit(
    intake: Intake,
    details: RequestDetails,
    uploads: list[tuple[Upload, str]],
    channel: IntakeChannel,
    now: datetime,
    *,
    received_at: datetime | None = None,
    recorded_by: str | None = None,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """Submit the request with its documents (``uploads``: upload, checked media type), once per
    ``idempotency_key``. Returns the answer: tracking code, access token, deadline (WIB)."""
    # the officer who records it is part of the request: another officer's same key is refused
    by = (recorded_by,) if recorded_by else ()
    print_ = idempotency_key and fingerprint(
        details.typed, channel.value, str(received_at), *by, *(upload.sha256() for upload, _ in uploads)
    )

    async def work(claim: Claim | None) -> tuple[dict[str, Any], str]:
        due = intake.answer_due(received_at or now)
        requester, identity_number = await seal_requester(intake.vault, details.requester)
        key = requester.name.key
        token = (claim.token if claim else None) or new_access_token()
        draft = domain.SubmitRequest(
            tracking_code="",
            channel=channel,
            requester=requester,
            # the topic and purpose are the requester's own words: sealed under their key too
            topic=await intake.vault.seal(key, details.topic),
            purpose=await intake.vault.seal(key, details.purpose),
            participants=details.participants,
            proposed_dates=details.proposed_dates,
            documents=(),
            submitted_at=now,
            answer_due_at=due,
            access_token_sha256=hash_token(token),
            received_at=received_at,
            identity_number=identity_number,
            recorded_by=recorded_by,
            access_token=await intake.vault.seal(key, token),  # for the notifier's link
        )
        reserve = None
        if claim is not None:  # reuse what an earlier holder reserved; reserve before the append
            assert intake.idempotency is not None
            reserve = partial(intake.idempotency.reserve, claim, key)
        submitted = await store_request(
            intake,
            draft,
            uploads,
            token,
            now,
            subject_key=key,
            tracking_code=claim.tracking_code if claim else None,
            reserve=reserve,
        )
        return {
            "tracking_code": submitted.tracking_code,
            "access_token": token,
            "answer_due_at": submitted.answer_due_at.astimezone(WIB).isoformat(),
            "status_url": f"/api/v1/requests/{submitted.tracking_code}",
        }, submitted.requester.name.key

    assert intake.idempotency is not None or not idempotency_key
    return await answer_once(intake.idempotency, idempotency_key, print_, work)  # type: ignore[arg-type]


async def store_request(
    intake: Intake,
    draft: domain.SubmitRequest,
    uploads: list[tuple[Upload, str]],
    token: str,
    now: datetime,
    *,
    subject_key: str,
    tracking_code: str | None = None,
    reserve: Callable[[str, str], Awaitable[None]] | None = None,
) -> RequestSubmitted:
    """Store the documents, then append RequestSubmitted; on a failure the documents go too —
    unless the append's outcome is unknown (NATS did not answer): the request may be stored, so
    they stay pending for the retry (or the sweep) to settle.

    ``uploads`` are (upload, checked media type), sealed with the requester's ``subject_key``;
    ``draft`` is the command without its tracking code and documents. Returns the stored event.
    A tracking code already taken (e.g. after the counter was lost with the database) is skipped.
    ``reserve(tracking_code, token)`` is awaited before each append (the Idempotency-Key keeps
    them); a re-run passes them back as ``tracking_code`` and ``token``: if the first run's
    request was stored, it is returned, this run's documents are discarded and nothing is
    appended; the first run's documents, which that request references, are marked attached.
    """
    documents = intake.documents
    owner = "submission-" + secrets.token_hex(8)
    refs: list[DocumentRef] = []
    try:
        refs = await documents.put_all_pending(uploads, owner, subject_key)
        draft = replace(draft, documents=tuple(refs))
        for _ in range(MAX_CODE_ATTEMPTS):
            code = tracking_code or await intake.tracking_codes(now.year)
            tracking_code = None
            if reserve:
                await reserve(code, token)
            submission = draft.with_code(code)
            try:
                [submitted] = await execute(
                    intake.store,
                    request_ref(code),
                    lambda history, c=submission: domain.submit(history, c),
                )
            except domain.RequestExistsError:
                stored = await submitted_with_token(intake.store, code, token)
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
    return stored


async def submitted_with_token(store: EventStore, tracking_code: str, token: str) -> RequestSubmitted | None:
    """The request ``tracking_code`` if it was submitted with ``token`` (by an earlier run)."""
    history = await store.load(request_ref(tracking_code))
    first = history.payloads[0] if history.payloads else None
    if isinstance(first, RequestSubmitted) and token_matches(first.access_token_sha256, token):
        return first
    return None
