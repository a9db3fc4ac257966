"""Reminders of a scheduled audience to its requester: when they fall, and when one is due. Pure.

- ``day_before`` (H-1): the working day before the audience's day, at 09.00 WIB. "Working day"
  is the bureau's calendar (weekends, national holidays and cuti bersama, the override file and
  its revisions): an audience on Wednesday 18 February 2026 is reminded on Friday 13 February,
  Monday 16 (cuti bersama Imlek) and Tuesday 17 (Imlek) being off.
- ``same_day``: the morning of the audience, at 07.00 WIB (before the working day starts at
  07.30, so a requester travelling in for an early slot still reads it in time).

A reminder whose instant has passed when the audience is (re)scheduled is not armed and never
sent (the invitation has just gone); one whose instant is at or after the audience's start is
never sent. A reminder whose instant passed *after* the booking without being recorded (its
timer lost, a crash between the booking and the arming, or a calendar revision moving H-1 to a
morning already gone) is caught up at once (``overdue``) while the audience has not started — the
H-1 one only before the audience's day: on the day itself only the same-day reminder goes.
Each is appended once per kind and booking (AudienceReminderDue): a rescheduled audience holds a
new booking and is reminded again of its new slot; a cancelled, held or no-show audience is not
reminded.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from serambi_calendar import WorkingCalendar
from serambi_contracts import Event
from serambi_contracts.scheduling import AudienceReminderDue, ReminderKind

from .audience import Audience, Status
from .time import at, wib_day

DAY_BEFORE_AT = time(9, 0)  # WIB
SAME_DAY_AT = time(7, 0)  # WIB
#: how far back to look for the working day before (the longest run of days off in a year,
#: Idul Fitri with its cuti bersama and a weekend, is well under this)
SEARCH_DAYS = 31
#: the timer clocks (ClockDue.clock) of the two reminders
CLOCKS = {ReminderKind.DAY_BEFORE: "reminder_day_before", ReminderKind.SAME_DAY: "reminder_same_day"}
KINDS = {clock: kind for kind, clock in CLOCKS.items()}


def is_working_day(calendar: WorkingCalendar, day: date) -> bool:
    return bool(calendar.working_periods(day))


def working_day_before(calendar: WorkingCalendar, day: date) -> date:
    """The last working day strictly before ``day``."""
    for back in range(1, SEARCH_DAYS + 1):
        candidate = day - timedelta(days=back)
        if is_working_day(calendar, candidate):
            return candidate
    raise ValueError(f"no working day in the {SEARCH_DAYS} days before {day}")


def reminder_instants(starts_at: datetime, calendar: WorkingCalendar) -> dict[ReminderKind, datetime]:
    """When each reminder of an audience starting at ``starts_at`` falls (aware instants)."""
    day = wib_day(starts_at)
    before = working_day_before(calendar, day)
    return {
        ReminderKind.DAY_BEFORE: at(before, DAY_BEFORE_AT.hour, DAY_BEFORE_AT.minute),
        ReminderKind.SAME_DAY: at(day, SAME_DAY_AT.hour, SAME_DAY_AT.minute),
    }


def wanted(state: Audience, calendar: WorkingCalendar, now: datetime) -> dict[ReminderKind, datetime]:
    """The reminders still to come for the audience's current slot (to arm), by kind."""
    p = state.placement
    if state.status is not Status.SCHEDULED or p is None:
        return {}
    return {
        kind: instant
        for kind, instant in reminder_instants(p.starts_at, calendar).items()
        if now < instant < p.starts_at and (kind, p.booking_id) not in state.reminded
    }


def overdue(
    state: Audience, calendar: WorkingCalendar, now: datetime, booked_at: datetime | None
) -> dict[ReminderKind, datetime]:
    """The reminders of the audience's current slot whose instant has passed since it was booked
    (``booked_at``) and that are not recorded: to append now, by kind."""
    p = state.placement
    if state.status is not Status.SCHEDULED or p is None or booked_at is None or now >= p.starts_at:
        return {}
    return {
        kind: instant
        for kind, instant in reminder_instants(p.starts_at, calendar).items()
        if booked_at < instant <= now
        and instant < p.starts_at
        and (kind, p.booking_id) not in state.reminded
        and not _too_late(kind, p.starts_at, now)
    }


def _too_late(kind: ReminderKind, starts_at: datetime, now: datetime) -> bool:
    """H-1 is pointless once the audience's day has come (the same-day one goes then)."""
    return kind is ReminderKind.DAY_BEFORE and wib_day(now) >= wib_day(starts_at)


def remind(
    state: Audience | None, kind: ReminderKind, due_at: datetime, calendar: WorkingCalendar, now: datetime
) -> list[Event]:
    """AudienceReminderDue when a reminder timer fired for the audience's current slot: nothing
    when the audience is no longer scheduled, the timer was for another slot or calendar (a
    reschedule or revision re-armed it), the audience has started, or it was reminded already;
    nor H-1 once the audience's day has come (a timer handled late, after an outage)."""
    if state is None or state.status is not Status.SCHEDULED or state.placement is None:
        return []
    p = state.placement
    if reminder_instants(p.starts_at, calendar).get(kind) != due_at:
        return []
    if now >= p.starts_at or (kind, p.booking_id) in state.reminded or _too_late(kind, p.starts_at, now):
        return []
    return [
        AudienceReminderDue(
            audience_id=state.audience_id,
            request_tracking_code=state.request.request_tracking_code,
            reminder=kind,
            due_at=due_at,
            booking_id=p.booking_id,
            starts_at=p.starts_at,
            ends_at=p.ends_at,
            room=p.room,
            host=p.host,
            location=p.location or None,
        )
    ]


def event_key(event: AudienceReminderDue) -> str:
    """What makes a reminder unique (for its deterministic id): the audience, kind and booking."""
    return f"{event.audience_id}:reminder:{event.reminder.value}:{event.booking_id}"
