"""Events of the scheduling context: audiences, the bureau's rooms and hosting officials, and
the per-day bookings that keep them from being double-booked.

Aggregates (subject ``scheduling.<aggregate>.<id>.<Event>``):

- ``audience``, id = the request's tracking code: AudienceRequested, AudienceProposed,
  AudienceReferred, AudienceScheduled, AudienceRescheduled, AudienceDeclined, AudienceHeld,
  AudienceNoShow, AudienceCancelled, AudienceDeadlineMoved, AudienceReminderDue (and the
  audience_answer clock's SLAWarning / SLABreached);
- ``room`` / ``host``, id = the resource id: RoomRegistered, RoomChanged, HostRegistered,
  HostChanged, HostAvailabilitySet, HostLeaveRecorded, HostLeaveCancelled;
- ``roomday`` / ``hostday``, id = ``<resource id>-<yyyymmdd>`` (WIB date): SlotBooked,
  SlotReleased. Appended with optimistic concurrency: a day's active bookings never overlap.
- ``daylist``, id = ``<host id>-<yyyymmdd>`` (WIB date): HostDayListDue — a host's audiences of
  the day, each working morning.
- ``calendar``, id = ``working-days``: WorkingDayRevised — the working calendar's revisions
  after the override file, which every owner of clocks applies (docs/calendar.md).

Hosting officials' names and positions are published in their official capacity (they sign the
answer letter); they are not a data subject's personal data in the sense of UU 27/2022.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import ConfigDict, Field, model_validator

from .base import AggregateId, Event, PersonalData, ShortText, Value
from .intake import DocumentRef, InstitutionType, IntakeChannel


class ResourceKind(StrEnum):
    ROOM = "room"
    HOST = "host"


class WeeklyWindow(Value):
    """A weekly window of availability, in WIB wall-clock time: ISO weekday 1 (Monday) to 7."""

    weekday: int = Field(ge=1, le=7)
    starts: time
    ends: time

    @model_validator(mode="after")
    def _ordered(self) -> WeeklyWindow:
        if self.ends <= self.starts:
            raise ValueError("a window must end after it starts")
        return self


class _Scheduling(Event):
    context: ClassVar[str] = "scheduling"


# -- resources ---------------------------------------------------------------------------------
class RoomRegistered(_Scheduling):
    """A meeting room the bureau can host audiences in."""

    room_id: AggregateId
    room_name: ShortText
    capacity: int = Field(ge=1, le=1000)
    location: ShortText
    registered_by: ShortText


class RoomChanged(_Scheduling):
    """A room's details changed; an inactive room receives no new bookings."""

    room_id: AggregateId
    room_name: ShortText
    capacity: int = Field(ge=1, le=1000)
    location: ShortText
    active: bool = True
    changed_by: ShortText


class HostRegistered(_Scheduling):
    """An official who receives audiences (available in all working time until told otherwise)."""

    host_id: AggregateId
    host_name: ShortText
    position: ShortText
    registered_by: ShortText


class HostChanged(_Scheduling):
    """A hosting official's details changed; an inactive host receives no new bookings."""

    host_id: AggregateId
    host_name: ShortText
    position: ShortText
    active: bool = True
    changed_by: ShortText


class HostAvailabilitySet(_Scheduling):
    """The host's weekly availability (replaces the previous one; intersected with working time).
    An empty list: not available for audiences."""

    host_id: AggregateId
    weekly: list[WeeklyWindow] = Field(max_length=50)
    set_by: ShortText


class HostLeaveRecorded(_Scheduling):
    """The host is on leave (cuti, dinas luar) for whole days, first to last inclusive (WIB)."""

    host_id: AggregateId
    leave_id: AggregateId
    first_day: date
    last_day: date
    reason: str | None = Field(default=None, max_length=300)
    recorded_by: ShortText

    @model_validator(mode="after")
    def _ordered(self) -> HostLeaveRecorded:
        if self.last_day < self.first_day:
            raise ValueError("leave must end on or after its first day")
        return self


class HostLeaveCancelled(_Scheduling):
    """A recorded leave was cancelled."""

    host_id: AggregateId
    leave_id: AggregateId
    cancelled_by: ShortText


# -- bookings (roomday / hostday aggregates) ---------------------------------------------------
class SlotBooked(_Scheduling):
    """A room or host is booked for an audience from starts_at to ends_at (one WIB day).

    ``audience_version`` is the audience's version the booking was made for: the audience event
    that takes the booking can only be appended at that version (see docs/scheduling.md).
    """

    resource: ResourceKind
    resource_id: AggregateId
    day: date
    booking_id: AggregateId
    audience_id: AggregateId
    audience_version: int = Field(ge=0)
    starts_at: datetime
    ends_at: datetime


class SlotReleased(_Scheduling):
    """A booking no longer holds its room or host (cancelled, rescheduled, or never taken)."""

    resource: ResourceKind
    resource_id: AggregateId
    day: date
    booking_id: AggregateId
    audience_id: AggregateId
    reason: ShortText


# -- audiences ---------------------------------------------------------------------------------
class AudienceRequested(_Scheduling):
    """Scheduling opened the audience case for a submitted request (its answer clock runs).
    Version 2: the topic, the requester's own words, travels sealed under their data key (the
    key id scheduling seals the officers' notes with)."""

    version: ClassVar[int] = 2
    audience_id: AggregateId
    request_tracking_code: AggregateId
    topic: PersonalData = Field(description="the request's topic, sealed under the requester's data key")
    institution: ShortText
    institution_type: InstitutionType
    requester_position: ShortText
    participants: int = Field(ge=1, le=500)
    proposed_dates: list[date] = Field(default_factory=list, max_length=10)
    submitted_at: datetime
    answer_due_at: datetime
    received_at: datetime | None = Field(
        default=None,
        description="when the bureau received a request recorded later at the desk: "
        "the answer clock started then (absent: at submitted_at)",
    )
    channel: IntakeChannel | None = Field(
        default=None,
        description="how the request reached the bureau (intake's RequestSubmitted "
        "channel: online, desk, letter); absent on audiences opened before it was recorded",
    )


class _Slot(_Scheduling):
    audience_id: AggregateId
    request_tracking_code: AggregateId
    starts_at: datetime
    ends_at: datetime
    room: ShortText
    host: ShortText


class AudienceProposed(_Slot):
    """A slot is held for the audience until a scheduling officer confirms it (hold mode)."""

    room_id: AggregateId
    host_id: AggregateId
    location: ShortText
    booking_id: AggregateId
    proposed_by: ShortText


class AudienceReferred(_Scheduling):
    """No slot fits the request: it waits in the officer queue for a decision."""

    audience_id: AggregateId
    request_tracking_code: AggregateId
    reason: ShortText
    referred_by: ShortText


class AudienceScheduled(Event):
    """An audience was booked for a request: when, where and with whom."""

    context: ClassVar[str] = "scheduling"
    audience_id: AggregateId
    request_tracking_code: AggregateId
    starts_at: datetime
    ends_at: datetime
    room: ShortText
    host: ShortText
    scheduled_by: ShortText
    room_id: AggregateId | None = None
    host_id: AggregateId | None = None
    location: ShortText | None = None
    booking_id: AggregateId | None = None
    answer_letter: DocumentRef | None = Field(
        default=None, description="the answer letter (surat jawaban kesediaan dan jadwal), PDF"
    )


class AudienceRescheduled(_Slot):
    """The audience moved to another time, room or host."""

    room_id: AggregateId
    host_id: AggregateId
    location: ShortText
    booking_id: AggregateId
    previous_starts_at: datetime
    previous_ends_at: datetime
    reason: ShortText
    rescheduled_by: ShortText
    answer_letter: DocumentRef | None = None


class AudienceDeclined(_Scheduling):
    """The bureau declined the request, with a reason, in an answer letter."""

    audience_id: AggregateId
    request_tracking_code: AggregateId
    reason: ShortText
    declined_by: ShortText
    answer_letter: DocumentRef | None = None


class AudienceHeld(_Scheduling):
    """The audience took place."""

    audience_id: AggregateId
    request_tracking_code: AggregateId
    held_at: datetime
    recorded_by: ShortText
    notes: str | None = Field(
        default=None,
        max_length=2000,
        description="no longer filled: the notes in clear, as events recorded before "
        "notes_sealed carried them",
    )
    notes_sealed: PersonalData | None = Field(
        default=None,
        description="the officer's notes on the meeting, sealed under the requester's data key",
    )


class AudienceNoShow(_Scheduling):
    """The requester did not come to the scheduled audience: it did not take place, and the
    case ends (a final outcome, like AudienceHeld; not a cancellation: the slot was kept and
    has passed)."""

    audience_id: AggregateId
    request_tracking_code: AggregateId
    starts_at: datetime = Field(description="the start of the slot the requester missed")
    recorded_by: ShortText
    notes: str | None = Field(
        default=None,
        max_length=2000,
        description="no longer filled: the notes in clear, as events recorded before "
        "notes_sealed carried them",
    )
    notes_sealed: PersonalData | None = Field(
        default=None,
        description="the officer's notes, sealed under the requester's data key",
    )


class AudienceCancelled(_Scheduling):
    """The audience was cancelled: by an officer, or because the requester withdrew. ``reason``
    says only which ("cancelled by the bureau", "withdrawn by the requester"); an officer's own
    words travel sealed in ``reason_sealed`` (events recorded before it carried them in
    ``reason``)."""

    audience_id: AggregateId
    request_tracking_code: AggregateId
    reason: ShortText
    cancelled_by: ShortText
    withdrawn: bool = False
    reason_sealed: PersonalData | None = Field(
        default=None,
        description="the officer's reason, sealed under the requester's data key",
    )


class AudienceDeadlineMoved(_Scheduling):
    """A revision of the working calendar (or of the answer clock's duration) moved the answer
    deadline of an audience still waiting for its answer; its timers are re-armed for the new one."""

    audience_id: AggregateId
    request_tracking_code: AggregateId
    clock: ShortText
    previous_due_at: datetime
    due_at: datetime
    calendar_revision: ShortText


class ReminderKind(StrEnum):
    DAY_BEFORE = "day_before"  # H-1: the working day before the audience, 09.00 WIB
    SAME_DAY = "same_day"  # the morning of the audience, 07.00 WIB


class AudienceReminderDue(_Scheduling):
    """A reminder of a scheduled audience is due to its requester (the notifier sends it by
    e-mail and SMS). Once per reminder kind and booking: a rescheduled audience is reminded of
    its new slot, a cancelled or closed one is not reminded. Names only the slot (the room and
    the hosting official in their official capacity), nothing of the requester."""

    audience_id: AggregateId
    request_tracking_code: AggregateId
    reminder: ReminderKind
    due_at: datetime = Field(description="when the reminder was due (its timer's instant)")
    booking_id: AggregateId
    starts_at: datetime
    ends_at: datetime
    room: ShortText
    host: ShortText
    location: ShortText | None = None


class DayListEntry(Value):
    """One audience of a host's day list: when, where, and which institution comes."""

    audience_id: AggregateId
    request_tracking_code: AggregateId
    starts_at: datetime
    ends_at: datetime
    room: ShortText
    location: ShortText | None = None
    institution: ShortText
    participants: int = Field(ge=1, le=500)


class HostDayListDue(_Scheduling):
    """A working morning (07.00 WIB): the audiences a hosting official receives that day, for
    the notifier to send them (once per host and day, only to a host with audiences). Names
    institutions and slots, nothing of the requesters (the topics stay in the console)."""

    host_id: AggregateId
    host: ShortText
    day: date
    due_at: datetime
    audiences: list[DayListEntry] = Field(min_length=1, max_length=50)


# -- the working calendar (calendar aggregate) -------------------------------------------------
class WorkingDayRevised(_Scheduling):
    """An administrator revised the working calendar after the override file (a new or moved
    cuti bersama, a cancelled holiday), as an entry of its ``[[day]]`` table: ``add`` makes
    ``day`` a non-working day, ``remove`` makes it a working day again, ``move`` moves it to
    ``to``. ``revision`` counts the revisions (1, 2, …): later ones win for their dates. Every
    owner of clocks applies it on top of the file and moves its open deadlines."""

    revision: int = Field(ge=1)
    action: Literal["add", "remove", "move"]
    day: date
    to: date | None = None
    holiday_name: ShortText | None = Field(default=None, description="required for add")
    decree: ShortText = Field(description="the decision it comes from, e.g. SKB 3 Menteri …")
    revised_by: ShortText


AUDIENCE_EVENTS: tuple[type[Event], ...] = (
    AudienceRequested,
    AudienceProposed,
    AudienceReferred,
    AudienceScheduled,
    AudienceRescheduled,
    AudienceDeclined,
    AudienceHeld,
    AudienceNoShow,
    AudienceCancelled,
    AudienceDeadlineMoved,
    AudienceReminderDue,
)
RESOURCE_EVENTS: tuple[type[Event], ...] = (
    RoomRegistered,
    RoomChanged,
    HostRegistered,
    HostChanged,
    HostAvailabilitySet,
    HostLeaveRecorded,
    HostLeaveCancelled,
)
BOOKING_EVENTS: tuple[type[Event], ...] = (SlotBooked, SlotReleased)
CALENDAR_EVENTS: tuple[type[Event], ...] = (WorkingDayRevised,)
DAYLIST_EVENTS: tuple[type[Event], ...] = (HostDayListDue,)


# -- version 1, read only (audiences opened before version 2) ----------------------------------
class AudienceRequestedV1(_Scheduling):
    """Scheduling opened the audience case for a submitted request (its answer clock runs)."""

    model_config = ConfigDict(frozen=True, extra="ignore", title="AudienceRequested")
    audience_id: AggregateId
    request_tracking_code: AggregateId
    topic: ShortText
    institution: ShortText
    institution_type: InstitutionType
    requester_position: ShortText
    participants: int = Field(ge=1, le=500)
    proposed_dates: list[date] = Field(default_factory=list, max_length=10)
    submitted_at: datetime
    answer_due_at: datetime
    received_at: datetime | None = Field(
        default=None,
        description="when the bureau received a request recorded later at the desk: "
        "the answer clock started then (absent: at submitted_at)",
    )

    @classmethod
    def name(cls) -> str:
        return cls.__name__.removesuffix("V1")

    def upcast(self) -> AudienceRequested:
        """Version 2 as it reads in memory, its topic the clear text version 1 recorded (as
        ``RequestSubmittedV1.upcast``; readers use ``serambi_kit.pii.reveal_text``)."""
        return AudienceRequested.model_construct(**dict(self))
