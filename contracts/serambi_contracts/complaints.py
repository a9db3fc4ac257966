"""Events of the complaints context."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from .base import AggregateId, Event, LongText, PersonalData, ShortText


class ComplaintChannel(StrEnum):
    FACE_TO_FACE = "face_to_face"
    COMPLAINT_BOX = "complaint_box"
    WHATSAPP = "whatsapp"
    TELEPHONE = "telephone"
    FAX = "fax"
    EMAIL = "email"
    SP4N_LAPOR = "sp4n_lapor"
    ONLINE = "online"


class ComplaintTier(StrEnum):
    RINGAN = "ringan"
    NORMATIF = "normatif"
    TIDAK_BERKADAR_PENGAWASAN = "tidak_berkadar_pengawasan"
    BERKADAR_PENGAWASAN = "berkadar_pengawasan"


class Disclosure(StrEnum):
    NAMED = "named"
    ANONYMOUS = "anonymous"
    CONFIDENTIAL = "confidential"


class ComplaintReceived(Event):
    """A complaint reached the bureau through one of its channels; its clock starts."""

    context: ClassVar[str] = "complaints"
    tracking_code: AggregateId
    channel: ComplaintChannel
    received_at: datetime
    disclosure: Disclosure
    complainant_name: PersonalData | None = None
    complainant_email: PersonalData | None = None
    complainant_phone: PersonalData | None = None
    summary: ShortText
    description: LongText
    tier: ComplaintTier | None = None
    due_at: datetime | None = None
    recorded_by: str | None = Field(default=None, max_length=200)
