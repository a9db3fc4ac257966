"""Complaints' use cases: load → decide → append (retried on a concurrent append)."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase
from serambi_calendar import WIB
from serambi_contracts import AggregateRef, Event
from serambi_contracts.base import DocumentRef, Sealed
from serambi_contracts.complaints import (
    ComplaintChannel,
    ComplaintNoteAdded,
    ComplaintReceived,
    ComplaintTier,
    Disclosure,
    DisputeSource,
    NoteSource,
)
from serambi_kit.documents import JPEG, M4A, OGG, PDF, PNG, DocumentStore, Upload
from serambi_kit.eventstore import AppendOutcomeUnknown, EventStore, decide_and_append
from serambi_kit.pii import Vault
from serambi_kit.tracking_links import (
    MAX_CODE_ATTEMPTS,
    LinkResends,
    hash_token,
    new_access_token,
    next_tracking_code,
    token_matches,
)

from .. import domain
from ..adapters.projections import COMPLAINTS
from ..domain import Complaint, Rules

MAX_ATTACHMENTS = 5  # ComplaintReceived.attachments holds at most five
ACCEPTED = frozenset({JPEG, PNG, PDF})  # what a complainant may attach
OFFICER_ACCEPTED = ACCEPTED | {M4A, OGG}  # and an officer: an audio note of a phone call
Reserve = Callable[[str, str, str], Awaitable[None]]  # (subject key, tracking code, token)


def complaint_ref(tracking_code: str) -> AggregateRef:
    return AggregateRef("complaints", "complaint", tracking_code)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The complaint after the command, and the events the command appended."""

    complaint: Complaint
    events: list[Event]
    #: the store already held these events (same ids: a racing keeper or replica appended them)
    duplicate: bool = False


async def run(
    store: EventStore,
    tracking_code: str,
    decide: Callable[[list[Event]], Sequence[Event]],
    *,
    event_ids: Callable[[Sequence[Event]], Sequence[str]] | None = None,
) -> Outcome:
    """A command on one complaint through the kit's driver (``decide_and_append``), answered
    as the complaint folded after it (which every route and channel shows; an unknown complaint
    is ``UnknownComplaintError``) with ``duplicate``: the store already held events with these
    ids (an SLA event a racing keeper or replica appended) — the clock keeper counts an SLA
    event in the metrics only when its own append stored it (``sla_timers``). Every attempt
    reads the history from the server (``cached=False``), as complaints always has."""
    executed = await decide_and_append(
        store, complaint_ref(tracking_code), decide, event_ids=event_ids, cached=False
    )
    state = domain.fold([*executed.before, *executed.new])
    if state is None:
        raise domain.UnknownComplaintError(f"no complaint {tracking_code}")
    return Outcome(state, executed.new, executed.duplicate)


async def load(store: EventStore, tracking_code: str) -> Complaint:
    state = domain.fold((await store.load(complaint_ref(tracking_code))).payloads)
    if state is None:
        raise domain.UnknownComplaintError(f"no complaint {tracking_code}")
    return state


@dataclass(frozen=True, slots=True)
class NewComplaint:
    """A complaint as received, in clear (sealed before anything is stored)."""

    channel: ComplaintChannel
    received_at: datetime
    disclosure: Disclosure
    summary: str
    description: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    tier: ComplaintTier | None = None
    recorded_by: str | None = None
    external_ref: str | None = None
    email_thread: str | None = None  # channel email: "<reference> … <message id>"


async def receive(
    store: EventStore,
    db: AsyncDatabase,
    vault: Vault,
    rules: Rules,
    new: NewComplaint,
    now: datetime,
    tracking_code: str | None = None,
    *,
    documents: DocumentStore | None = None,
    uploads: Sequence[tuple[Upload, str]] = (),
    token: str | None = None,
    reserved_code: str | None = None,
    reserve: Reserve | None = None,
) -> tuple[Outcome, str]:
    """Record a new complaint; returns the outcome and the complainant's access token.
    A tracking code already taken in the event store is skipped. ``uploads`` (upload, checked
    media type) are stored in ``documents`` first, as pending, and discarded if nothing is
    recorded (kept when the append's outcome is unknown); a crash in between leaves them to the
    sweep. An Idempotency-Key's work passes ``reserve(subject_key, code, token)``, awaited
    before each append, and on a takeover the ``token`` and ``reserved_code`` an earlier holder
    reserved: a complaint stored there with that token is the answer (``events`` empty), this
    run's attachments are discarded and that complaint's are marked attached. Before each
    append the tracking code is noted on the pending attachments (see ``sweep_attachments``)."""
    token = token or new_access_token()
    key = await vault.new_subject([new.email, new.phone])

    async def seal(value: str | None):
        return await vault.seal(key, value) if value else None

    sealed = {
        "name": await seal(new.name),
        "email": await seal(new.email),
        "phone": await seal(new.phone),
        "summary": await seal(new.summary),
        "description": await seal(new.description),
        "access_token": await seal(token),
        "email_thread": await seal(new.email_thread),
    }
    refs: list[DocumentRef] = []
    try:
        owner = "complaint-" + secrets.token_hex(8)
        if uploads:
            assert documents is not None, "attachments need a document store"
            refs = await documents.put_all_pending(uploads, owner, key)

        async def before_append(code: str, reserved_token: str) -> None:
            if reserve:
                await reserve(key, code, reserved_token)
            if refs and documents is not None:  # the sweep asks this case's events about them
                await documents.note_case([ref.document_id for ref in refs], code)

        outcome = await _receive(
            store,
            db,
            rules,
            new,
            now,
            tracking_code,
            token,
            sealed,
            tuple(refs),
            reserved_code,
            before_append,
        )
    except BaseException as exc:
        if refs and documents is not None and not isinstance(exc, AppendOutcomeUnknown):
            await documents.discard(refs)
        raise
    # After the append, outside the discard above (a MongoDB blip here leaves a stored complaint's
    # attachments pending, for a retry or the sweep to mark attached).
    if documents is not None and outcome.events:
        await documents.mark_attached([ref.document_id for ref in refs])
    elif documents is not None:  # a takeover: the earlier holder's complaint is the answer
        await documents.discard(refs)  # ours go; its own attachments, which it references, stay
        await documents.mark_attached(await received_attachments(store, outcome.complaint.tracking_code))
    return outcome, token


async def _receive(
    store: EventStore,
    db: AsyncDatabase,
    rules: Rules,
    new: NewComplaint,
    now: datetime,
    tracking_code: str | None,
    token: str,
    sealed: dict[str, Sealed | None],
    attachments: tuple[DocumentRef, ...],
    reserved_code: str | None = None,
    reserve: Callable[[str, str], Awaitable[None]] | None = None,
) -> Outcome:
    for _ in range(MAX_CODE_ATTEMPTS):
        code = tracking_code or reserved_code or await next_tracking_code(db, "ADU", now.astimezone(WIB).year)
        if reserve:
            await reserve(code, token)
        command = domain.ReceiveComplaint(
            tracking_code=code,
            channel=new.channel,
            received_at=new.received_at,
            disclosure=new.disclosure,
            access_token_sha256=hash_token(token),
            tier=new.tier,
            recorded_by=new.recorded_by,
            external_ref=new.external_ref,
            attachments=attachments,
            **sealed,
        )
        try:
            return await run(store, code, lambda h, c=command: domain.decide_receive(h, c, rules))
        except domain.ComplaintExistsError:
            if tracking_code:
                raise
            if code == reserved_code:
                found = await _received_with_token(store, code, token)
                if found is not None:
                    return found
                reserved_code = None
    raise RuntimeError(f"no free tracking code after {MAX_CODE_ATTEMPTS} attempts")


async def _received_with_token(store: EventStore, code: str, token: str) -> Outcome | None:
    """The complaint ``code`` if it was received with ``token`` (by an earlier run)."""
    state = domain.fold((await store.load(complaint_ref(code))).payloads)
    if state is not None and token_matches(state.access_token_sha256, token):
        return Outcome(state, [])
    return None


async def received_attachments(store: EventStore, code: str) -> list[str]:
    """The document ids complaint ``code`` references, from its events: those it was received
    with and those of its notes."""
    payloads = (await store.load(complaint_ref(code))).payloads
    return [
        ref.document_id
        for event in payloads
        if isinstance(event, ComplaintReceived | ComplaintNoteAdded)
        for ref in event.attachments
    ]


@dataclass(frozen=True, slots=True)
class NewNote:
    """More about a complaint, in clear (sealed with the complainant's key before it is stored).
    ``sender``: the address it came from (e-mail); when the vault does not find the complainant
    by it, the note is a third party's."""

    text: str
    added_at: datetime
    channel: ComplaintChannel | None = None
    recorded_by: str | None = None
    message_key: str | None = None
    source: NoteSource = NoteSource.COMPLAINANT
    sender: str | None = None


async def _sender(vault: Vault, state: Complaint, note: NewNote) -> tuple[NoteSource, Sealed | None]:
    """The note's source and its sender sealed. The sender is compared with the complainant's
    identifiers through the vault's keyed lookup hashes (never in clear): theirs is sealed under
    the complainant's key; another address makes the note a third party's, its address sealed
    under a key of its own that erasing the third party finds, and erasing the complainant too
    (their lookup hashes are copied onto it)."""
    if note.sender is None:
        return note.source, None
    if note.source is NoteSource.COMPLAINANT and state.subject_key in await vault.subjects_of(note.sender):
        return note.source, await vault.seal(state.subject_key, note.sender)
    key = await vault.new_subject([note.sender], found_with=[state.subject_key])
    source = NoteSource.THIRD_PARTY if note.source is NoteSource.COMPLAINANT else note.source
    return source, await vault.seal(key, note.sender)


async def add_note(
    store: EventStore,
    vault: Vault,
    code: str,
    note: NewNote,
    *,
    rules: Rules,
    documents: DocumentStore | None = None,
    uploads: Sequence[tuple[Upload, str]] = (),
) -> Outcome:
    """Keep ``note`` with complaint ``code`` (once per ``message_key``); the domain decides the
    rest (``domain.decide_note``: the complainant's note resumes a paused clock, its deadline
    moved by the ``rules``; a note on a closed complaint is flagged). Its
    ``uploads`` are stored sealed with the complainant's key, pending until the note is appended
    (discarded if nothing is, e.g. the message was noted before)."""
    state = await load(store, code)
    sealed = await vault.seal(state.subject_key, note.text)
    source, sender = await _sender(vault, state, note)
    refs: list[DocumentRef] = []
    owner = f"complaint-{code}"
    try:
        if uploads:
            assert documents is not None, "attachments need a document store"
            refs = await documents.put_all_pending(uploads, owner, state.subject_key)
        if refs and documents is not None:
            await documents.note_case([ref.document_id for ref in refs], code)
        command = domain.AddNote(
            tracking_code=code,
            added_at=note.added_at,
            text=sealed,
            source=source,
            channel=note.channel,
            recorded_by=note.recorded_by,
            message_key=note.message_key,
            attachments=tuple(refs),
            sender=sender,
        )
        outcome = await run(store, code, lambda h: domain.decide_note(h, command, rules))
    except BaseException as exc:
        if refs and documents is not None and not isinstance(exc, AppendOutcomeUnknown):
            await documents.discard(refs)
        raise
    if refs and documents is not None:
        if outcome.events:
            await documents.mark_attached([ref.document_id for ref in refs])
        else:  # noted before: its own files are attached already
            await documents.discard(refs)
    return outcome


async def request_link(
    store: EventStore,
    code: str,
    now: datetime,
    policy: LinkResends = LinkResends(),
) -> bool:
    """Record that the tracking link is to be sent again; False when nothing was recorded."""
    executed = await decide_and_append(
        store,
        complaint_ref(code),
        lambda history: domain.decide_link(history, code, now, policy),
        cached=False,
    )
    return bool(executed.new)


async def sweep_attachments(
    documents: DocumentStore, db: AsyncDatabase, store: EventStore, older_than: timedelta
) -> int:
    """Delete attachments left pending by a submission that died half-way (see DocumentStore.sweep).
    Whether a complaint references one is asked of the complaint's events, named by the case
    noted on the attachment before the append: the read model may lag behind them (a projection
    held up by an outage) and would have its attachments deleted. Attachments stored before
    cases were noted are looked up in the read model."""

    async def referenced(document_id: str) -> bool:
        if (code := await documents.case_of(document_id)) is not None:
            return document_id in await received_attachments(store, code)
        found = await db[COMPLAINTS].find_one({"attachments.document_id": document_id}, {"_id": 1})
        return found is not None

    return await documents.sweep(referenced, older_than)


async def classify(store: EventStore, rules: Rules, code: str, tier: ComplaintTier, by: str) -> Outcome:
    return await run(store, code, lambda h: domain.decide_classify(h, code, tier, by, rules))


async def assign(store: EventStore, code: str, team: str, assignee: str | None, by: str) -> Outcome:
    return await run(store, code, lambda h: domain.decide_assign(h, code, team, assignee, by))


async def answer(
    store: EventStore, vault: Vault, rules: Rules, code: str, text: str, by: str, now: datetime
) -> Outcome:
    state = await load(store, code)
    sealed = await vault.seal(state.subject_key, text)
    return await run(store, code, lambda h: domain.decide_answer(h, code, sealed, by, now, rules))


async def close(store: EventStore, code: str, by: str, now: datetime) -> Outcome:
    return await run(store, code, lambda h: domain.decide_close(h, code, by, now))


async def reopen(
    store: EventStore,
    vault: Vault,
    rules: Rules,
    code: str,
    reason: str,
    source: DisputeSource,
    by: str | None,
    now: datetime,
) -> Outcome:
    state = await load(store, code)
    sealed = await vault.seal(state.subject_key, reason)
    return await run(store, code, lambda h: domain.decide_reopen(h, code, sealed, source, by, now, rules))


async def pause(store: EventStore, code: str, reason: str, by: str, now: datetime) -> Outcome:
    return await run(store, code, lambda h: domain.decide_pause(h, code, reason, by, now))


async def resume(store: EventStore, rules: Rules, code: str, by: str, now: datetime) -> Outcome:
    return await run(store, code, lambda h: domain.decide_resume(h, code, by, now, rules))


async def check_clock(store: EventStore, rules: Rules, code: str, now: datetime) -> Outcome:
    """Append the SLA warning or breach due at ``now``, at most once per clock and deadline."""
    return await run(
        store,
        code,
        lambda h: domain.decide_check(h, rules, now),
        event_ids=lambda events: [domain.sla_event_id(code, e) for e in events],
    )


async def revise_deadline(store: EventStore, rules: Rules, code: str) -> list[Event]:
    """Record a deadline the current calendar and durations move (see ``domain.revise_deadline``)."""
    return (await run(store, code, lambda h: domain.revise_deadline(h, rules))).events
