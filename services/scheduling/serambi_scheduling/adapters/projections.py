"""Scheduling's read models (MongoDB), projected from its own events.

- ``audiences``: one document per audience — request details, status, schedule, answer letter,
  SLA state and a timeline. Feeds the details view, the officer queue and the SLA sweep.
- ``resource_days``: one document per room-day / host-day (``roomday:<room>-<yyyymmdd>``) with
  its active bookings. Feeds the calendars and the automatic search's first guess (the booking
  aggregates themselves decide; this view may lag).
"""

from __future__ import annotations

from typing import Any

from serambi_contracts.scheduling import (
    AudienceCancelled,
    AudienceDeadlineMoved,
    AudienceDeclined,
    AudienceHeld,
    AudienceNoShow,
    AudienceProposed,
    AudienceReferred,
    AudienceReminderDue,
    AudienceRequested,
    AudienceRescheduled,
    AudienceScheduled,
    SlotBooked,
    SlotReleased,
)
from serambi_contracts.sla import SLABreached, SLAWarning
from serambi_kit.eventstore import RecordedEvent
from serambi_kit.projections import Change, Projection

AUDIENCES = "audiences"
RESOURCE_DAYS = "resource_days"


def _text(value: Any) -> Any:
    """A sealed text as stored (revealed on read, ``queries.revealed``); a clear one — recorded
    by an event before sealing — as it is; None as None."""
    return value.model_dump() if hasattr(value, "model_dump") else value


def _entry(step: str, recorded: RecordedEvent, **details: Any) -> dict:
    return {"step": step, "at": recorded.envelope.time, **details}


def _slot(event: AudienceProposed | AudienceScheduled | AudienceRescheduled) -> dict:
    return {
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "room_id": event.room_id,
        "room": event.room,
        "host_id": event.host_id,
        "host": event.host,
        "location": event.location,
        "booking_id": event.booking_id,
    }


def on_requested(event: AudienceRequested, recorded: RecordedEvent) -> Change:
    return Change(
        event.audience_id,
        {
            "$set": {
                "audience_id": event.audience_id,
                "request_tracking_code": event.request_tracking_code,
                "status": "requested",
                "topic": _text(event.topic),  # sealed under the requester's key
                "institution": event.institution,
                "institution_type": event.institution_type.value,
                "requester_position": event.requester_position,
                "participants": event.participants,
                "proposed_dates": [day.isoformat() for day in event.proposed_dates],
                "submitted_at": event.submitted_at,
                "answer_due_at": event.answer_due_at,
                "received_at": event.received_at,  # the answer clock's start when set (reports)
                "channel": event.channel.value if event.channel else None,  # None: opened before
                "answered": False,
                "schedule": None,
            },
            "$push": {"timeline": _entry("requested", recorded)},
        },
    )


def on_proposed(event: AudienceProposed, recorded: RecordedEvent) -> Change:
    return Change(
        event.audience_id,
        {
            "$set": {"status": "proposed", "schedule": _slot(event)},
            "$push": {"timeline": _entry("proposed", recorded, by=event.proposed_by)},
        },
    )


def on_referred(event: AudienceReferred, recorded: RecordedEvent) -> Change:
    return Change(
        event.audience_id,
        {
            "$set": {"status": "referred", "referral_reason": event.reason},
            "$push": {"timeline": _entry("referred", recorded, reason=event.reason)},
        },
    )


def _letter(event: Any) -> dict:
    letter = event.answer_letter
    return {"answer_letter": letter.model_dump(mode="json")} if letter else {}


def on_scheduled(event: AudienceScheduled, recorded: RecordedEvent) -> Change:
    return Change(
        event.audience_id,
        {
            "$set": {
                "audience_id": event.audience_id,
                "request_tracking_code": event.request_tracking_code,
                "status": "scheduled",
                "answered": True,
                "schedule": _slot(event),
                **_letter(event),
            },
            "$push": {"timeline": _entry("scheduled", recorded, by=event.scheduled_by)},
        },
    )


def on_rescheduled(event: AudienceRescheduled, recorded: RecordedEvent) -> Change:
    return Change(
        event.audience_id,
        {
            "$set": {"status": "scheduled", "schedule": _slot(event), **_letter(event)},
            "$push": {
                "timeline": _entry(
                    "rescheduled",
                    recorded,
                    by=event.rescheduled_by,
                    reason=event.reason,
                    previous_starts_at=event.previous_starts_at,
                )
            },
        },
    )


def on_declined(event: AudienceDeclined, recorded: RecordedEvent) -> Change:
    return Change(
        event.audience_id,
        {
            "$set": {
                "status": "declined",
                "answered": True,
                "schedule": None,
                "decline_reason": event.reason,
                **_letter(event),
            },
            "$push": {"timeline": _entry("declined", recorded, by=event.declined_by, reason=event.reason)},
        },
    )


def on_held(event: AudienceHeld, recorded: RecordedEvent) -> Change:
    return Change(
        event.audience_id,
        {
            "$set": {
                "status": "held",
                "held_at": event.held_at,
                "notes": _text(event.notes_sealed or event.notes),
            },
            "$push": {"timeline": _entry("held", recorded, by=event.recorded_by)},
        },
    )


def on_no_show(event: AudienceNoShow, recorded: RecordedEvent) -> Change:
    return Change(
        event.audience_id,
        {
            "$set": {"status": "no_show", "notes": _text(event.notes_sealed or event.notes)},
            "$push": {"timeline": _entry("no_show", recorded, by=event.recorded_by)},
        },
    )


def on_cancelled(event: AudienceCancelled, recorded: RecordedEvent) -> Change:
    reason = _text(event.reason_sealed or event.reason)  # an officer's words, sealed
    return Change(
        event.audience_id,
        {
            "$set": {"status": "cancelled", "cancel_reason": reason, "withdrawn": event.withdrawn},
            "$push": {"timeline": _entry("cancelled", recorded, by=event.cancelled_by, reason=reason)},
        },
    )


def on_warning(event: SLAWarning, recorded: RecordedEvent) -> Change:
    return Change(
        event.case_id,
        {
            "$set": {"sla.warned_percent": event.threshold_percent, "sla.warned_at": event.warned_at},
            "$push": {"timeline": _entry("sla_warning", recorded, percent=event.threshold_percent)},
        },
    )


def on_breached(event: SLABreached, recorded: RecordedEvent) -> Change:
    return Change(
        event.case_id,
        {
            "$set": {"sla.breached_at": event.breached_at},
            "$push": {"timeline": _entry("sla_breached", recorded)},
        },
    )


def on_deadline_moved(event: AudienceDeadlineMoved, recorded: RecordedEvent) -> Change:
    """The queue follows the new deadline; a breach of the old one no longer stands (the new
    deadline breaches in its turn). Warnings stay: each is reported once per audience."""
    return Change(
        event.audience_id,
        {
            "$set": {"answer_due_at": event.due_at},
            "$unset": {"sla.breached_at": ""},
            "$push": {
                "timeline": _entry(
                    "deadline_moved",
                    recorded,
                    previous_due_at=event.previous_due_at,
                    due_at=event.due_at,
                    calendar_revision=event.calendar_revision,
                )
            },
        },
    )


def on_reminder(event: AudienceReminderDue, recorded: RecordedEvent) -> Change:
    return Change(
        event.audience_id,
        {
            "$push": {
                "timeline": _entry(
                    "reminded", recorded, reminder=event.reminder.value, starts_at=event.starts_at
                )
            },
        },
    )


AUDIENCE_DETAILS = Projection(
    collection=AUDIENCES,
    sources=("scheduling.audience",),
    projectors={
        AudienceRequested: on_requested,
        AudienceProposed: on_proposed,
        AudienceReferred: on_referred,
        AudienceScheduled: on_scheduled,
        AudienceRescheduled: on_rescheduled,
        AudienceDeclined: on_declined,
        AudienceHeld: on_held,
        AudienceNoShow: on_no_show,
        AudienceCancelled: on_cancelled,
        SLAWarning: on_warning,
        SLABreached: on_breached,
        AudienceDeadlineMoved: on_deadline_moved,
        AudienceReminderDue: on_reminder,
    },
)


def day_document(recorded: RecordedEvent) -> str:
    return f"{recorded.ref.aggregate}:{recorded.ref.id}"


def on_booked(event: SlotBooked, recorded: RecordedEvent) -> Change:
    return Change(
        day_document(recorded),
        {
            "$set": {
                "resource": event.resource.value,
                "resource_id": event.resource_id,
                "day": event.day.isoformat(),
                f"bookings.{event.booking_id}": {
                    "booking_id": event.booking_id,
                    "audience_id": event.audience_id,
                    "audience_version": event.audience_version,
                    "starts_at": event.starts_at,
                    "ends_at": event.ends_at,
                },
            }
        },
    )


def on_released(event: SlotReleased, recorded: RecordedEvent) -> Change:
    return Change(day_document(recorded), {"$unset": {f"bookings.{event.booking_id}": ""}})


CALENDAR = Projection(
    collection=RESOURCE_DAYS,
    sources=("scheduling.roomday", "scheduling.hostday"),
    projectors={SlotBooked: on_booked, SlotReleased: on_released},
    document_id=day_document,
)
PROJECTIONS = (AUDIENCE_DETAILS, CALENDAR)
