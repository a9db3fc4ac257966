"""Events of the complaints context (Pengaduan, design §1).

One aggregate per complaint, ``complaints.complaint.<tracking_code>``. The flow:
ComplaintReceived → ComplaintClassified → ComplaintAssigned → ComplaintAnswered → ComplaintClosed,
with ComplaintReopened (the complainant disputes the answer), ComplaintClockPaused /
ComplaintClockResumed (waiting on the complainant), ComplaintDeadlineMoved (a calendar or
policy revision), ComplaintNoteAdded (more from the complainant: a reply in the e-mail thread,
a later WhatsApp message) and ComplaintReplyFailed (a WhatsApp receipt or answer that could not
be delivered: the notifier sends it by SMS). SLAWarning and SLABreached (``sla`` context) are
appended to the same aggregate.

Everything the complainant wrote or was told is personal data and travels sealed: their name,
email and phone, the complaint's summary and description, the answer, a dispute's reason and a
note's text.
Clear fields are operational (channel, tier, team, instants, officer ids).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from .base import AggregateId, DocumentRef, Event, PersonalData, ShortText

OfficerId = ShortText  # an officer's subject id from the identity provider


class ComplaintChannel(StrEnum):
    """The seven channels of the service standard, plus Serambi's own online form."""

    FACE_TO_FACE = "face_to_face"
    COMPLAINT_BOX = "complaint_box"
    WHATSAPP = "whatsapp"
    TELEPHONE = "telephone"
    FAX = "fax"
    EMAIL = "email"
    SP4N_LAPOR = "sp4n_lapor"
    ONLINE = "online"


class ComplaintTier(StrEnum):
    """Deadline tiers: ringan 3 working hours, normatif 5, tidak berkadar pengawasan 14 and
    berkadar pengawasan 60 working days (the SLA clock of the same name)."""

    RINGAN = "ringan"
    NORMATIF = "normatif"
    TIDAK_BERKADAR_PENGAWASAN = "tidak_berkadar_pengawasan"
    BERKADAR_PENGAWASAN = "berkadar_pengawasan"


class Disclosure(StrEnum):
    """named: identity known to the handlers; anonymous: identity hidden from every view except
    the notifier's; confidential: nothing about the complaint is public."""

    NAMED = "named"
    ANONYMOUS = "anonymous"
    CONFIDENTIAL = "confidential"


class DisputeSource(StrEnum):
    COMPLAINANT = "complainant"  # through the public tracking endpoint, with the access token
    OFFICER = "officer"  # recorded by an officer (e.g. the complainant phoned)


class NoteSource(StrEnum):
    COMPLAINANT = "complainant"  # the complainant wrote again (a reply in the thread, a message)
    OFFICER = "officer"  # an officer noted something about the complaint
    THIRD_PARTY = "third_party"  # someone else wrote in the thread (another address than theirs)


class ResumeCause(StrEnum):
    OFFICER = "officer"  # an officer resumed the clock
    COMPLAINANT_NOTE = "complainant_note"  # the complainant's note arrived while the bureau waited on them


class ComplaintReceived(Event):
    """A complaint reached the bureau through one of its channels; its clock starts at
    ``received_at`` (the actual receipt, which an officer may record later)."""

    context: ClassVar[str] = "complaints"
    tracking_code: AggregateId
    channel: ComplaintChannel
    received_at: datetime
    disclosure: Disclosure
    complainant_name: PersonalData | None = None
    complainant_email: PersonalData | None = None
    complainant_phone: PersonalData | None = None
    summary: PersonalData
    description: PersonalData
    tier: ComplaintTier | None = None
    due_at: datetime | None = Field(default=None, description="the tier's deadline, if classified")
    triage_due_at: datetime | None = Field(
        default=None,
        description="without a tier: the deadline of the triage clock (SLA clock 'triage', counted "
        "from received_at) that classification stops; None on complaints received "
        "before triage clocks existed",
    )
    recorded_by: OfficerId | None = Field(default=None, description="officer id; None: online")
    access_token_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 of the complainant's 256-bit random access token (never the token)",
    )
    external_ref: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_.:/-]{1,64}$",
        description="the complaint's id in SP4N-LAPOR! (channel sp4n_lapor)",
    )
    access_token: PersonalData | None = Field(
        default=None,
        description="the access token, sealed: the notifier puts it in the tracking link it sends",
    )
    attachments: list[DocumentRef] = Field(
        default_factory=list,
        max_length=5,
        description="photos (JPEG, PNG) and PDFs sent with the complaint, stored by complaints",
    )
    email_thread: PersonalData | None = Field(
        default=None,
        description="channel email: the complainant's message as a thread, sealed (a Message-ID "
        "names the sender's domain): the Message-IDs of its References, then its own, "
        "space-separated; the notifier answers in that thread (In-Reply-To, References)",
    )


class ComplaintClassified(Event):
    """The complaint got its tier (or a new one); the deadline is counted from the clock's
    original start, with its pauses."""

    context: ClassVar[str] = "complaints"
    tracking_code: AggregateId
    tier: ComplaintTier
    previous_tier: ComplaintTier | None = None
    clock_started_at: datetime
    due_at: datetime | None = Field(description="None while the clock is paused")
    classified_by: OfficerId


class ComplaintAssigned(Event):
    """The complaint team (Tim Pengelola Pengaduan) or a unit takes the complaint."""

    context: ClassVar[str] = "complaints"
    tracking_code: AggregateId
    team: ShortText
    assignee: OfficerId | None = None
    previous_team: ShortText | None = None
    assigned_by: OfficerId


class ComplaintAnswered(Event):
    """The answer was sent to the complainant; the clock stops."""

    context: ClassVar[str] = "complaints"
    tracking_code: AggregateId
    answered_at: datetime
    answer: PersonalData
    answered_by: OfficerId
    due_at: datetime | None = None
    on_time: bool = Field(description="answered at or before the deadline")


class ComplaintClosed(Event):
    """The complaint is closed after its answer (it may still be reopened within the window)."""

    context: ClassVar[str] = "complaints"
    tracking_code: AggregateId
    closed_at: datetime
    closed_by: OfficerId


class ComplaintReopened(Event):
    """The complainant disputed the answer within the window; a new handling round starts
    with a fresh clock of the complaint's tier from ``reopened_at``."""

    context: ClassVar[str] = "complaints"
    tracking_code: AggregateId
    reopened_at: datetime
    reason: PersonalData
    source: DisputeSource
    recorded_by: OfficerId | None = None
    round: int = Field(ge=2, description="1 is the first handling; each reopening adds one")
    due_at: datetime | None = None


class ComplaintClockPaused(Event):
    """The clock stops while the bureau waits on the complainant."""

    context: ClassVar[str] = "complaints"
    tracking_code: AggregateId
    paused_at: datetime
    reason: ShortText = Field(description="operational reason, e.g. waiting for documents")
    paused_by: OfficerId


class ComplaintClockResumed(Event):
    """The clock runs again; the deadline moves by the working time spent paused. An officer
    resumes it, or the complainant's note does (``cause: complainant_note``, appended with the
    ComplaintNoteAdded, ``resumed_by`` the channel's intake): the bureau waited on them."""

    context: ClassVar[str] = "complaints"
    tracking_code: AggregateId
    paused_at: datetime
    resumed_at: datetime
    resumed_by: OfficerId
    due_at: datetime | None = None
    cause: ResumeCause = Field(default=ResumeCause.OFFICER, description="who or what resumed it")


class ComplaintDeadlineMoved(Event):
    """A revision of the working calendar (or of the SLA durations) moved an open clock's
    deadline; timers are re-armed for the new one."""

    context: ClassVar[str] = "complaints"
    tracking_code: AggregateId
    clock: ShortText
    previous_due_at: datetime | None
    due_at: datetime | None
    calendar_revision: ShortText


class ComplaintLinkRequested(Event):
    """Someone asked, with the tracking code alone, that the tracking link be sent again to
    the contact on file ("lost your link?"); the notifier sends it. Nothing personal."""

    context: ClassVar[str] = "complaints"
    tracking_code: AggregateId
    requested_at: datetime


class ComplaintNoteAdded(Event):
    """More about a complaint, kept with it: the complainant's reply in the e-mail thread, a
    later WhatsApp message from the same number while the complaint is open, or a reply in the
    thread from another address (``source: third_party``). It changes neither the status nor the
    deadline — but the complainant's note on a paused complaint comes with a ComplaintClockResumed;
    officers see it in the case's timeline and as "new" in the queue until their next step."""

    context: ClassVar[str] = "complaints"
    tracking_code: AggregateId
    added_at: datetime = Field(description="when it reached the bureau (the message's arrival)")
    source: NoteSource
    channel: ComplaintChannel | None = Field(default=None, description="the channel it came by")
    recorded_by: OfficerId | None = Field(
        default=None,
        description="officer id, or the channel's intake ('email', 'whatsapp')",
    )
    text: PersonalData
    message_key: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{32,64}$",
        description="a hash of the channel's message id: one message is noted once",
    )
    attachments: list[DocumentRef] = Field(
        default_factory=list,
        max_length=5,
        description="files that came with it (stored by complaints, like the complaint's own)",
    )
    sender: PersonalData | None = Field(
        default=None,
        description="the address it came from (e-mail), sealed: under the complainant's key when it "
        "is theirs, else under a key of its own that erasing either person finds",
    )
    after_close: bool = Field(
        default=False,
        description="the complaint was closed when it arrived: kept and flagged for officers (a "
        "dispute goes through the tracking page)",
    )


class ReplyKind(StrEnum):
    """What the complaints service sends back on the complaint's own channel."""

    RECEIPT = "receipt"  # the tracking code and link
    ANSWER = "answer"


class ReplyFailure(StrEnum):
    REFUSED = "refused"  # the channel refused it for good (e.g. the number is not on WhatsApp)
    UNAVAILABLE = "unavailable"  # every attempt failed (an outage, an expired access token)
    OUTSIDE_WINDOW = "outside_window"  # over 24 hours since the complainant wrote, and no template for it


class ComplaintReplyFailed(Event):
    """A reply the complaints service sends on the complaint's own channel — on WhatsApp the
    receipt with the tracking link, and the answer — could not be delivered; the notifier sends
    that receipt or answer by SMS instead (its e-mail, if any, went with the complaint's event).
    Nothing personal in clear: the answer, for that SMS, travels sealed."""

    context: ClassVar[str] = "complaints"
    tracking_code: AggregateId
    channel: ComplaintChannel = Field(description="the channel the reply was meant for (whatsapp)")
    reply: ReplyKind
    cause_event_id: str = Field(
        pattern=r"^[A-Za-z0-9_.:-]{1,128}$",
        description="the id of the event replied to (its ComplaintReceived or ComplaintAnswered): "
        "one failure per reply",
    )
    failed_at: datetime
    reason: ReplyFailure
    attempts: int = Field(ge=0, le=1000, description="sending attempts made (0: none could be)")
    error_code: int | None = Field(default=None, description="the channel's error code, if it gave one")
    answer: PersonalData | None = Field(
        default=None,
        description="reply answer: the answer, sealed, for the notifier's SMS",
    )


COMPLAINT_EVENTS: tuple[type[Event], ...] = (
    ComplaintReceived,
    ComplaintClassified,
    ComplaintAssigned,
    ComplaintAnswered,
    ComplaintClosed,
    ComplaintReopened,
    ComplaintClockPaused,
    ComplaintClockResumed,
    ComplaintDeadlineMoved,
    ComplaintLinkRequested,
    ComplaintNoteAdded,
    ComplaintReplyFailed,
)
