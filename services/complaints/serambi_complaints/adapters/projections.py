"""The complaints read model: one document per complaint, for tracking, the queue and reports.

Projectors are pure ``(event, recorded) -> Change``; the kit applies them once each, in order.
The status is kept as a ``stage`` number so that an update never needs the current document:
classification and assignment only raise it (``$max``), the other steps set it.

``new_notes`` counts the notes from outside (the complainant's, a third party's) since an
officer's last step on the complaint: every officer step (classify, assign, answer, close, an
officer's reopening, pause or resumption, an officer's note) sets it back to 0; the queue,
"Kasus saya" and the case page show it as *catatan baru*.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from serambi_calendar import WIB
from serambi_contracts.complaints import (
    ComplaintAnswered,
    ComplaintAssigned,
    ComplaintClassified,
    ComplaintClockPaused,
    ComplaintClockResumed,
    ComplaintClosed,
    ComplaintDeadlineMoved,
    ComplaintNoteAdded,
    ComplaintReceived,
    ComplaintReopened,
    ComplaintReplyFailed,
    DisputeSource,
    NoteSource,
    ResumeCause,
)
from serambi_contracts.sla import SLABreached, SLAWarning
from serambi_kit.eventstore import RecordedEvent
from serambi_kit.projections import Change, Projection

from ..domain import TRIAGE, Status

COMPLAINTS = "complaints"
STAGES = {
    Status.RECEIVED: 0,
    Status.CLASSIFIED: 1,
    Status.REOPENED: 2,
    Status.ASSIGNED: 3,
    Status.ANSWERED: 4,
    Status.CLOSED: 5,
}
STATUS_OF_STAGE = {stage: status for status, stage in STAGES.items()}
FIRST_CLOSED_STAGE = STAGES[Status.ANSWERED]  # stage < 4: the complaint is open
NO_DEADLINE = datetime(9999, 12, 31, tzinfo=UTC)  # sorts complaints without a deadline last
SEEN = {"new_notes": 0}  # an officer's step: the notes before it count as seen


def _due(due_at: datetime | None) -> dict[str, Any]:
    return {"due_at": due_at, "due_sort": due_at or NO_DEADLINE}


def _step(step: str, recorded: RecordedEvent, at: datetime | None = None, **details: Any) -> dict:
    return {"$push": {"timeline": {"step": step, "at": at or recorded.envelope.time, **details}}}


def on_received(event: ComplaintReceived, recorded: RecordedEvent) -> Change:
    sealed = {
        "name": event.complainant_name,
        "email": event.complainant_email,
        "phone": event.complainant_phone,
    }
    return Change(
        event.tracking_code,
        {
            "$set": {
                "tracking_code": event.tracking_code,
                "channel": event.channel.value,
                "disclosure": event.disclosure.value,
                "received_at": event.received_at,
                "month": event.received_at.astimezone(WIB).strftime("%Y-%m"),
                "recorded_at": recorded.envelope.time,
                "recorded_by": event.recorded_by,
                "complainant": {k: v.model_dump() for k, v in sealed.items() if v is not None},
                "summary": event.summary.model_dump(),
                "description": event.description.model_dump(),
                "access_token_sha256": event.access_token_sha256,
                "external_ref": event.external_ref,
                "attachments": [ref.model_dump() for ref in event.attachments],
                "tier": event.tier.value if event.tier else None,
                "clock": _clock_at_receipt(event),
                "triage_due_at": None if event.tier else event.triage_due_at,  # a triage clock ran (reports)
                "stage": STAGES[Status.CLASSIFIED if event.tier else Status.RECEIVED],
                "round": 1,
                "clock_started_at": event.received_at,
                "pauses": [],
                "open_pause": None,
                "team": None,
                "assignee": None,
                "breached": False,
                "breach_count": 0,
                "triage_breach_count": 0,
                "answered_on_time": None,
                "note_count": 0,
                "new_notes": 0,
                **_due(event.due_at if event.tier else event.triage_due_at),
            },
            **_step("received", recorded, event.received_at, channel=event.channel.value),
        },
    )


def _clock_at_receipt(event: ComplaintReceived) -> str | None:
    """The running clock's name: the tier's, the triage clock, or None (unclassified complaints
    received before triage clocks existed)."""
    if event.tier:
        return event.tier.value
    return TRIAGE if event.triage_due_at is not None else None


def on_classified(event: ComplaintClassified, recorded: RecordedEvent) -> Change:
    return Change(
        event.tracking_code,
        {
            "$set": {"tier": event.tier.value, "clock": event.tier.value, **_due(event.due_at), **SEEN},
            "$max": {"stage": STAGES[Status.CLASSIFIED]},
            **_step("classified", recorded, tier=event.tier.value, by=event.classified_by),
        },
    )


def on_assigned(event: ComplaintAssigned, recorded: RecordedEvent) -> Change:
    return Change(
        event.tracking_code,
        {
            "$set": {"team": event.team, "assignee": event.assignee, **SEEN},
            "$max": {"stage": STAGES[Status.ASSIGNED]},
            **_step("assigned", recorded, team=event.team, by=event.assigned_by),
        },
    )


def on_answered(event: ComplaintAnswered, recorded: RecordedEvent) -> Change:
    return Change(
        event.tracking_code,
        {
            "$set": {
                "stage": STAGES[Status.ANSWERED],
                "answered_at": event.answered_at,
                "answer": event.answer.model_dump(),
                "answered_on_time": event.on_time,
                "open_pause": None,
                **SEEN,
            },
            **_step("answered", recorded, event.answered_at, by=event.answered_by),
        },
    )


def on_closed(event: ComplaintClosed, recorded: RecordedEvent) -> Change:
    return Change(
        event.tracking_code,
        {
            "$set": {"stage": STAGES[Status.CLOSED], "closed_at": event.closed_at, **SEEN},
            **_step("closed", recorded, event.closed_at, by=event.closed_by),
        },
    )


def on_reopened(event: ComplaintReopened, recorded: RecordedEvent) -> Change:
    return Change(
        event.tracking_code,
        {
            "$set": {
                "stage": STAGES[Status.REOPENED],
                "round": event.round,
                "clock_started_at": event.reopened_at,
                "pauses": [],
                "open_pause": None,
                "closed_at": None,
                "answered_on_time": None,
                **_due(event.due_at),
                **(SEEN if event.source is DisputeSource.OFFICER else {}),
            },
            "$inc": {"reopen_count": 1},
            **_step("reopened", recorded, event.reopened_at, source=event.source.value, by=event.recorded_by),
        },
    )


def on_paused(event: ComplaintClockPaused, recorded: RecordedEvent) -> Change:
    return Change(
        event.tracking_code,
        {
            "$set": {
                "open_pause": {"paused_at": event.paused_at, "reason": event.reason},
                **_due(None),
                **SEEN,
            },
            **_step("paused", recorded, event.paused_at, reason=event.reason, by=event.paused_by),
        },
    )


def on_resumed(event: ComplaintClockResumed, recorded: RecordedEvent) -> Change:
    """Resumed by an officer (a step: the notes count as seen) or by the complainant's note (the
    timeline says so: ``cause: complainant_note``)."""
    by_officer = event.cause is ResumeCause.OFFICER
    entry = {
        "step": "resumed",
        "at": event.resumed_at,
        "by": event.resumed_by,
        **({} if by_officer else {"cause": event.cause.value}),
    }
    return Change(
        event.tracking_code,
        {
            "$set": {"open_pause": None, **_due(event.due_at), **(SEEN if by_officer else {})},
            "$push": {
                "pauses": {"paused_at": event.paused_at, "resumed_at": event.resumed_at},
                "timeline": entry,
            },
        },
    )


def on_deadline_moved(event: ComplaintDeadlineMoved, recorded: RecordedEvent) -> Change:
    return Change(
        event.tracking_code,
        {
            "$set": _due(event.due_at),
            **_step(
                "deadline_moved",
                recorded,
                previous_due_at=event.previous_due_at,
                due_at=event.due_at,
                calendar_revision=event.calendar_revision,
            ),
        },
    )


def on_note_added(event: ComplaintNoteAdded, recorded: RecordedEvent) -> Change:
    """A note goes into the timeline (its text and sender still sealed; officers' views reveal
    the text), its files join the complaint's attachments. A note from outside counts as new
    (``new_notes``) until an officer's next step; an officer's own note is such a step."""
    entry = {
        "step": "note",
        "at": event.added_at,
        "source": event.source.value,
        "channel": event.channel.value if event.channel else None,
        "by": event.recorded_by,
        "text": event.text.model_dump(),
        "attachments": [ref.document_id for ref in event.attachments],
        **({"after_close": True} if event.after_close else {}),
    }
    push: dict[str, Any] = {"timeline": entry}
    if event.attachments:
        push["attachments"] = {"$each": [ref.model_dump() for ref in event.attachments]}
    officer = event.source is NoteSource.OFFICER
    return Change(
        event.tracking_code,
        {
            "$push": push,
            "$inc": {"note_count": 1, **({} if officer else {"new_notes": 1})},
            "$set": {"last_note_at": event.added_at, **(SEEN if officer else {})},
        },
    )


def on_reply_failed(event: ComplaintReplyFailed, recorded: RecordedEvent) -> Change:
    """A reply that did not reach the complainant on their channel (the notifier sent it by SMS):
    listed for officers (``failed_replies``)."""
    failed = {
        "reply": event.reply.value,
        "channel": event.channel.value,
        "at": event.failed_at,
        "reason": event.reason.value,
        "attempts": event.attempts,
        "error_code": event.error_code,
    }
    return Change(event.tracking_code, {"$push": {"failed_replies": failed}})


def on_warning(event: SLAWarning, recorded: RecordedEvent) -> Change:
    warning = {"percent": event.threshold_percent, "due_at": event.due_at, "at": event.warned_at}
    return Change(event.case_id, {"$push": {"warnings": warning}})


def on_breached(event: SLABreached, recorded: RecordedEvent) -> Change:
    """Any breach flags the complaint (the queue's ``breached``); the recap counts triage
    breaches (``triage_breach_count``) apart from the tier deadlines' (``breach_count``)."""
    breach = {
        "clock": event.clock,
        "due_at": event.due_at,
        "at": event.breached_at,
        "escalate_to": event.escalate_to,
    }
    counter = "triage_breach_count" if event.clock == TRIAGE else "breach_count"
    return Change(
        event.case_id,
        {
            "$set": {"breached": True},
            "$inc": {counter: 1},
            "$push": {
                "breaches": breach,
                "timeline": {"step": "breached", "at": event.breached_at, "due_at": event.due_at},
            },
        },
    )


TRACKING = Projection(
    collection=COMPLAINTS,
    sources=("complaints.complaint",),
    projectors={
        ComplaintReceived: on_received,
        ComplaintClassified: on_classified,
        ComplaintAssigned: on_assigned,
        ComplaintAnswered: on_answered,
        ComplaintClosed: on_closed,
        ComplaintReopened: on_reopened,
        ComplaintClockPaused: on_paused,
        ComplaintClockResumed: on_resumed,
        ComplaintDeadlineMoved: on_deadline_moved,
        ComplaintNoteAdded: on_note_added,
        ComplaintReplyFailed: on_reply_failed,
        SLAWarning: on_warning,
        SLABreached: on_breached,
    },
)
PROJECTIONS = (TRACKING,)
