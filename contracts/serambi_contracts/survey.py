"""Events of the satisfaction survey (Survei Kepuasan Masyarakat, PermenPANRB 14/2017), kept by
intake: one invitation per case, and answers that cannot be traced back to a person or case."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from .base import AggregateId, Event, PersonalData, Value


class SurveyService(StrEnum):
    AUDIENSI = "audiensi"
    PENGADUAN = "pengaduan"


class SurveyChannel(StrEnum):
    ONLINE = "online"  # the portal, through the invitation's link
    PAPER = "paper"  # a paper questionnaire, typed in at the desk


class AgeBand(StrEnum):
    UNDER_20 = "under_20"
    FROM_20_TO_29 = "20_29"
    FROM_30_TO_39 = "30_39"
    FROM_40_TO_49 = "40_49"
    FROM_50_TO_59 = "50_59"
    FROM_60 = "60_plus"


class Sex(StrEnum):
    MALE = "laki_laki"
    FEMALE = "perempuan"


class Education(StrEnum):
    SD = "sd"
    SMP = "smp"
    SMA = "sma"
    DIPLOMA = "diploma"  # D1–D4
    S1 = "s1"
    S2 = "s2"
    S3 = "s3"


class Occupation(StrEnum):
    PNS = "pns"
    TNI = "tni"
    POLRI = "polri"
    SWASTA = "swasta"
    WIRAUSAHA = "wirausaha"
    LAINNYA = "lainnya"


class RespondentProfile(Value):
    """What the respondent chose to say about themselves: bands, never a person."""

    age_band: AgeBand | None = None
    sex: Sex | None = None
    education: Education | None = None
    occupation: Occupation | None = None


class SurveyScores(Value):
    """The nine elements (unsur) U1–U9 on the regulation's 1–4 scale."""

    u1: int = Field(ge=1, le=4, description="persyaratan")
    u2: int = Field(ge=1, le=4, description="sistem, mekanisme, dan prosedur")
    u3: int = Field(ge=1, le=4, description="waktu penyelesaian")
    u4: int = Field(ge=1, le=4, description="biaya/tarif")
    u5: int = Field(ge=1, le=4, description="produk spesifikasi jenis pelayanan")
    u6: int = Field(ge=1, le=4, description="kompetensi pelaksana")
    u7: int = Field(ge=1, le=4, description="perilaku pelaksana")
    u8: int = Field(ge=1, le=4, description="penanganan pengaduan, saran dan masukan")
    u9: int = Field(ge=1, le=4, description="sarana dan prasarana")

    def by_code(self) -> dict[str, int]:
        return {f"U{n}": getattr(self, f"u{n}") for n in range(1, 10)}


class SurveyInvited(Event):
    """A case ended (an audience held, a complaint closed): its citizen is invited, once, to
    answer the survey. The token travels only sealed (for the notifier's link) and as a keyed
    hash (to recognise it: someone holding the link cannot compute it to find the case); the
    aggregate is the case (``intake.survey.<case code>``)."""

    context: ClassVar[str] = "intake"
    case_code: AggregateId = Field(description="the request's or the complaint's tracking code")
    service: SurveyService
    invited_at: datetime
    token_hmac: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="HMAC-SHA-256 of the 256-bit random survey token under a key "
        "derived from the PII master key (not a plain hash: a link "
        "holder cannot find the case with it)",
    )
    token: PersonalData = Field(description="the survey token, sealed: the notifier's link holds it")


class SurveyAnswered(Event):
    """One answered questionnaire. Not linkable to a person or case: the aggregate
    (``intake.response.<response_id>``) is derived from the invitation's token, which the event
    does not hold, or random for a paper questionnaire; only the service, the day, the scores,
    the profile bands and the suggestion scrubbed of e-mail addresses, phone numbers and NIKs."""

    context: ClassVar[str] = "intake"
    response_id: AggregateId
    service: SurveyService
    channel: SurveyChannel
    answered_on: date = Field(description="the day (WIB) it was answered; the period follows from it")
    scores: SurveyScores
    profile: RespondentProfile = Field(default_factory=RespondentProfile)
    suggestion: str | None = Field(
        default=None, max_length=2000, description="saran, scrubbed of personal data"
    )


SURVEY_EVENTS: tuple[type[Event], ...] = (SurveyInvited, SurveyAnswered)
