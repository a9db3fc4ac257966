"""Complaint commands: pure decisions from a complaint's events, no I/O.

Each ``decide_*`` takes the complaint's events and a command and returns the new events, or
raises a ``ComplaintError`` that names why the complaint's state does not allow it (nothing is
appended then).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from serambi_calendar import WIB, Clock
from serambi_contracts import Event
from serambi_contracts.base import DocumentRef, Sealed
from serambi_contracts.complaints import (
    ComplaintAnswered,
    ComplaintAssigned,
    ComplaintChannel,
    ComplaintClassified,
    ComplaintClockPaused,
    ComplaintClockResumed,
    ComplaintClosed,
    ComplaintLinkRequested,
    ComplaintNoteAdded,
    ComplaintReceived,
    ComplaintReopened,
    ComplaintTier,
    Disclosure,
    DisputeSource,
    NoteSource,
    ResumeCause,
)
from serambi_kit.resends import LinkResends

from .rules import Rules
from .state import TRIAGE, Complaint, Status, fold


class ComplaintError(Exception):
    """A command the complaint's current state does not allow (HTTP 409)."""


class ComplaintExistsError(ComplaintError):
    """A complaint with this tracking code exists already."""


class UnknownComplaintError(ComplaintError):
    """No complaint with this tracking code (HTTP 404)."""


@dataclass(frozen=True, slots=True)
class ReceiveComplaint:
    tracking_code: str
    channel: ComplaintChannel
    received_at: datetime
    disclosure: Disclosure
    summary: Sealed
    description: Sealed
    access_token_sha256: str
    name: Sealed | None = None
    email: Sealed | None = None
    phone: Sealed | None = None
    tier: ComplaintTier | None = None
    recorded_by: str | None = None
    external_ref: str | None = None
    access_token: Sealed | None = None  # the token itself, sealed for the notifier's link
    attachments: tuple[DocumentRef, ...] = ()
    email_thread: Sealed | None = None  # channel email: References and Message-ID, for the answer


@dataclass(frozen=True, slots=True)
class AddNote:
    """More about a complaint: ``text`` sealed with the complainant's key; ``message_key`` (a
    hash of the channel's message id) makes a message noted once however often it is handled."""

    tracking_code: str
    added_at: datetime
    text: Sealed
    source: NoteSource = NoteSource.COMPLAINANT
    channel: ComplaintChannel | None = None
    recorded_by: str | None = None
    message_key: str | None = None
    attachments: tuple[DocumentRef, ...] = ()
    sender: Sealed | None = None  # the address it came from (e-mail), sealed


def _existing(events: Sequence[Event], code: str) -> Complaint:
    state = fold(events)
    if state is None:
        raise UnknownComplaintError(f"no complaint {code}")
    return state


def _refuse_unless_open(state: Complaint, action: str) -> None:
    if not state.is_open:
        raise ComplaintError(f"cannot {action} complaint {state.tracking_code}: it is {state.status}")


def decide_receive(events: Sequence[Event], command: ReceiveComplaint, rules: Rules) -> list[Event]:
    if events:
        raise ComplaintExistsError(f"complaint {command.tracking_code} already exists")
    due = triage_due = None
    if command.tier is not None:
        due = rules.deadline(Clock(command.tier.value, command.received_at))
    else:  # the triage clock runs until classification
        triage_due = rules.deadline(Clock(TRIAGE, command.received_at))
    return [
        ComplaintReceived(
            tracking_code=command.tracking_code,
            channel=command.channel,
            received_at=command.received_at,
            disclosure=command.disclosure,
            complainant_name=command.name,
            complainant_email=command.email,
            complainant_phone=command.phone,
            summary=command.summary,
            description=command.description,
            tier=command.tier,
            due_at=due,
            triage_due_at=triage_due,
            recorded_by=command.recorded_by,
            access_token_sha256=command.access_token_sha256,
            external_ref=command.external_ref,
            access_token=command.access_token,
            attachments=list(command.attachments),
            email_thread=command.email_thread,
        )
    ]


def decide_classify(
    events: Sequence[Event], code: str, tier: ComplaintTier, by: str, rules: Rules
) -> list[Event]:
    state = _existing(events, code)
    _refuse_unless_open(state, "classify")
    if state.tier is tier:
        raise ComplaintError(f"complaint {code} is already classified as {tier}")
    clock = state.clock()
    started = clock.started_at if clock else state.clock_started_at or state.received_at
    new_clock = Clock(tier.value, started, clock.pauses if clock else ())
    return [
        ComplaintClassified(
            tracking_code=code,
            tier=tier,
            previous_tier=state.tier,
            clock_started_at=started,
            due_at=rules.deadline(new_clock),
            classified_by=by,
        )
    ]


def decide_assign(
    events: Sequence[Event], code: str, team: str, assignee: str | None, by: str
) -> list[Event]:
    state = _existing(events, code)
    _refuse_unless_open(state, "assign")
    if state.tier is None:
        raise ComplaintError(f"classify complaint {code} before assigning it (its tier sets the deadline)")
    if (state.team, state.assignee) == (team, assignee):
        raise ComplaintError(f"complaint {code} is already assigned to {team}")
    return [
        ComplaintAssigned(
            tracking_code=code,
            team=team,
            assignee=assignee,
            previous_team=state.team,
            assigned_by=by,
        )
    ]


def decide_answer(
    events: Sequence[Event], code: str, answer: Sealed, by: str, now: datetime, rules: Rules
) -> list[Event]:
    state = _existing(events, code)
    _refuse_unless_open(state, "answer")
    if state.team is None or state.status not in (Status.ASSIGNED, Status.REOPENED):
        raise ComplaintError(f"assign complaint {code} to the complaint team before answering it")
    clock = state.clock()
    if clock is not None and clock.paused:
        clock = clock.resume(now)  # answering ends the wait on the complainant
    due = rules.deadline(clock)
    return [
        ComplaintAnswered(
            tracking_code=code,
            answered_at=now,
            answer=answer,
            answered_by=by,
            due_at=due,
            on_time=due is None or now <= due,
        )
    ]


def decide_close(events: Sequence[Event], code: str, by: str, now: datetime) -> list[Event]:
    state = _existing(events, code)
    if state.status is not Status.ANSWERED:
        raise ComplaintError(f"cannot close complaint {code}: it is {state.status}, not answered")
    return [ComplaintClosed(tracking_code=code, closed_at=now, closed_by=by)]


def decide_reopen(
    events: Sequence[Event],
    code: str,
    reason: Sealed,
    source: DisputeSource,
    by: str | None,
    now: datetime,
    rules: Rules,
) -> list[Event]:
    state = _existing(events, code)
    if state.status not in (Status.ANSWERED, Status.CLOSED) or state.answered_at is None:
        raise ComplaintError(f"cannot reopen complaint {code}: it is {state.status}, not answered")
    until = rules.reopen_until(state.answered_at)
    if now > until:
        raise ComplaintError(
            f"the answer to complaint {code} can no longer be disputed: the window of "
            f"{rules.reopen_window_days} working days ended at {until.astimezone(WIB).isoformat()}"
        )
    due = rules.deadline(Clock(state.tier.value, now)) if state.tier else None
    return [
        ComplaintReopened(
            tracking_code=code,
            reopened_at=now,
            reason=reason,
            source=source,
            recorded_by=by,
            round=state.round + 1,
            due_at=due,
        )
    ]


def decide_pause(events: Sequence[Event], code: str, reason: str, by: str, now: datetime) -> list[Event]:
    state = _existing(events, code)
    _refuse_unless_open(state, "pause the clock of")
    if state.paused:
        raise ComplaintError(f"the clock of complaint {code} is already paused")
    return [ComplaintClockPaused(tracking_code=code, paused_at=now, reason=reason, paused_by=by)]


def decide_resume(events: Sequence[Event], code: str, by: str, now: datetime, rules: Rules) -> list[Event]:
    state = _existing(events, code)
    _refuse_unless_open(state, "resume the clock of")
    if not state.paused:
        raise ComplaintError(f"the clock of complaint {code} is not paused")
    clock = state.clock()
    due = rules.deadline(clock.resume(now)) if clock else None
    return [
        ComplaintClockResumed(
            tracking_code=code,
            paused_at=state.pauses[-1].paused_at,
            resumed_at=now,
            resumed_by=by,
            due_at=due,
        )
    ]


def decide_note(events: Sequence[Event], note: AddNote, rules: Rules | None = None) -> list[Event]:
    """Keep a note with the complaint, whatever its status (a reply may come after the answer);
    nothing when the same message was noted before.

    - A note that reaches a **closed** complaint is kept and flagged (``after_close``): officers
      see it as new; a dispute still goes through the tracking page.
    - The **complainant's** note on a complaint whose clock is **paused** (the bureau waits on the
      complainant, which is what a pause is for) resumes the clock: a ComplaintClockResumed with
      ``cause: complainant_note`` follows the note, at its arrival (never before the pause),
      by the channel's intake. A third party's note or an officer's resumes nothing. Without
      ``rules`` (no calendar to move the deadline with) the clock is left paused."""
    state = _existing(events, note.tracking_code)
    if note.message_key is not None and any(
        isinstance(event, ComplaintNoteAdded) and event.message_key == note.message_key for event in events
    ):
        return []
    new: list[Event] = [
        ComplaintNoteAdded(
            tracking_code=note.tracking_code,
            added_at=note.added_at,
            source=note.source,
            channel=note.channel,
            recorded_by=note.recorded_by,
            text=note.text,
            message_key=note.message_key,
            attachments=list(note.attachments),
            sender=note.sender,
            after_close=state.status is Status.CLOSED,
        )
    ]
    if rules is not None and state.is_open and state.paused and note.source is NoteSource.COMPLAINANT:
        paused_at = state.pauses[-1].paused_at
        at = max(note.added_at, paused_at)
        clock = state.clock()
        due = rules.deadline(clock.resume(at)) if clock else None
        new.append(
            ComplaintClockResumed(
                tracking_code=note.tracking_code,
                paused_at=paused_at,
                resumed_at=at,
                resumed_by=note.recorded_by or "system",
                due_at=due,
                cause=ResumeCause.COMPLAINANT_NOTE,
            )
        )
    return new


def decide_link(
    events: Sequence[Event],
    code: str,
    now: datetime,
    policy: LinkResends = LinkResends(),
) -> list[Event]:
    """Send the tracking link again: nothing for an unknown complaint, nor when ``policy``
    refuses (too soon, too often today, closed long ago); the caller answers the same."""
    state = fold(events)
    if state is None:
        return []
    asked = [event.requested_at for event in events if isinstance(event, ComplaintLinkRequested)]
    if not policy.allow(asked, state.closed_at if state.status == Status.CLOSED else None, now):
        return []
    return [ComplaintLinkRequested(tracking_code=code, requested_at=now)]
