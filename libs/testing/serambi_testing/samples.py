"""Sample events of every kind the notifier handles — for its tests, its benchmark and demos.

Personal data is sealed with the vault given; nothing here touches a network.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from serambi_calendar import WIB
from serambi_contracts import complaints as c
from serambi_contracts import scheduling as s
from serambi_contracts.base import Sealed
from serambi_contracts.intake import (
    DocumentRef,
    InstitutionType,
    IntakeChannel,
    Requester,
    RequestLinkRequested,
    RequestSubmitted,
)
from serambi_contracts.sla import SLABreached, SLAWarning
from serambi_contracts.survey import SurveyInvited, SurveyService

SUBMITTED = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 09:00 WIB
DUE = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)  # Thursday 16:00 WIB
STARTS = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)  # Wednesday 09:00 WIB
SURVEY_TOKEN = "Sv3yT0k3n-Aq9Wx2Lp7Rn4Bm8Kc1Hd6Jf5Gz0Ue_Ty3Io"  # noqa: S105 — a sample
ACCESS_TOKEN = "q7Rk2Lw9Xv4Tn8Ys1Pb6Hc3Jd5Mf0Gz-Ae_Uo2Ki7Wq"  # noqa: S105 — a sample, 43 URL-safe characters


async def requester(
    vault: Any,
    *,
    name: str = "Siti Aminah",
    email: str | None = "siti@example.go.id",
    phone: str | None = "+6281345678901",
) -> Requester:
    key = await vault.new_subject([email, phone])
    return Requester(
        name=await vault.seal(key, name),
        position="Sekretaris Dinas",
        institution="Dinas Perindustrian Kota Singkawang",
        institution_type=InstitutionType.LOCAL_GOVERNMENT,
        email=await vault.seal(key, email) if email else None,
        phone=await vault.seal(key, phone) if phone else None,
    )


async def request_submitted(
    vault: Any,
    code: str,
    who: Requester,
    topic: str = "Hilirisasi produk lada",
    access_token: Sealed | None = None,
) -> RequestSubmitted:
    """``access_token``: the token sealed (``await vault.seal(who.name.key, ACCESS_TOKEN)``); the
    topic and purpose are sealed here under the requester's key, as intake seals them."""
    return RequestSubmitted(
        tracking_code=code,
        channel=IntakeChannel.ONLINE,
        requester=who,
        topic=await vault.seal(who.name.key, topic),
        purpose=await vault.seal(who.name.key, "Audiensi program hilirisasi komoditas daerah."),
        participants=3,
        submitted_at=SUBMITTED,
        answer_due_at=DUE,
        access_token_sha256="0" * 64,
        access_token=access_token,
    )


def request_link_requested(code: str) -> RequestLinkRequested:
    return RequestLinkRequested(tracking_code=code, requested_at=SUBMITTED + timedelta(days=1))


def complaint_link_requested(code: str) -> c.ComplaintLinkRequested:
    return c.ComplaintLinkRequested(tracking_code=code, requested_at=SUBMITTED + timedelta(days=1))


def audience_requested(code: str, topic: Sealed) -> s.AudienceRequested:
    """``topic``: the request's sealed topic (its RequestSubmitted's), as scheduling copies it."""
    return s.AudienceRequested(
        audience_id=code,
        request_tracking_code=code,
        topic=topic,
        institution="Dinas Perindustrian Kota Singkawang",
        institution_type=InstitutionType.LOCAL_GOVERNMENT,
        requester_position="Sekretaris Dinas",
        participants=3,
        submitted_at=SUBMITTED,
        answer_due_at=DUE,
    )


def letter(document_id: str = "LTR-0001") -> DocumentRef:
    return DocumentRef(
        document_id=document_id,
        kind="answer_letter",
        media_type="application/pdf",
        sha256=hashlib.sha256(document_id.encode()).hexdigest(),
        size=1234,
    )


def audience_scheduled(code: str, starts: datetime = STARTS) -> s.AudienceScheduled:
    return s.AudienceScheduled(
        audience_id=code,
        request_tracking_code=code,
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        room="Ruang Rapat Biro Perekonomian",
        host="Kepala Biro Perekonomian",
        scheduled_by="penjadwal",
        room_id="R1",
        host_id="H1",
        location="Kantor Gubernur Lt. 2",
        booking_id="B1",
        answer_letter=letter(),
    )


def audience_rescheduled(code: str, starts: datetime, previous: datetime = STARTS) -> s.AudienceRescheduled:
    return s.AudienceRescheduled(
        audience_id=code,
        request_tracking_code=code,
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        room="Ruang Rapat Biro Perekonomian",
        host="Kepala Biro Perekonomian",
        room_id="R1",
        host_id="H1",
        location="Kantor Gubernur Lt. 2",
        booking_id="B2",
        previous_starts_at=previous,
        previous_ends_at=previous + timedelta(hours=1),
        reason="Kepala Biro dinas luar",
        rescheduled_by="penjadwal",
    )


def audience_reminder_due(
    code: str, reminder: str = "day_before", starts: datetime = STARTS, booking_id: str = "B1"
) -> s.AudienceReminderDue:
    local = starts.astimezone(WIB)
    due = (
        local.replace(hour=7, minute=0)
        if reminder == "same_day"
        else (local - timedelta(days=1)).replace(hour=9, minute=0)
    )
    return s.AudienceReminderDue(
        audience_id=code,
        request_tracking_code=code,
        reminder=s.ReminderKind(reminder),
        due_at=due.astimezone(UTC),
        booking_id=booking_id,
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        room="Ruang Rapat Biro Perekonomian",
        host="Kepala Biro Perekonomian",
        location="Kantor Gubernur Lt. 2",
    )


def host_day_list_due(
    host_id: str = "H1",
    starts: datetime = STARTS,
    codes: tuple[str, ...] = ("AUD-2026-000011", "AUD-2026-000012"),
) -> s.HostDayListDue:
    day = starts.astimezone(WIB).date()
    return s.HostDayListDue(
        host_id=host_id,
        host="Kepala Biro Perekonomian",
        day=day,
        due_at=datetime.combine(day, datetime.min.time().replace(hour=7), WIB).astimezone(UTC),
        audiences=[
            s.DayListEntry(
                audience_id=code,
                request_tracking_code=code,
                starts_at=starts + timedelta(hours=2 * n),
                ends_at=starts + timedelta(hours=2 * n + 1),
                room="Ruang Rapat Biro Perekonomian",
                location="Kantor Gubernur Lt. 2",
                institution="Dinas Perindustrian Kota Singkawang",
                participants=3 + n,
            )
            for n, code in enumerate(codes)
        ],
    )


def audience_cancelled(
    code: str, withdrawn: bool = False, reason: Sealed | None = None
) -> s.AudienceCancelled:
    """``reason``: the officer's words, sealed under the requester's key (none: a withdrawal,
    or an event recorded before reasons were sealed)."""
    return s.AudienceCancelled(
        audience_id=code,
        request_tracking_code=code,
        reason="withdrawn by the requester" if withdrawn else "cancelled by the bureau",
        reason_sealed=reason,
        cancelled_by="penjadwal",
        withdrawn=withdrawn,
    )


def audience_no_show(code: str, starts: datetime = STARTS, notes: Sealed | None = None) -> s.AudienceNoShow:
    return s.AudienceNoShow(
        audience_id=code,
        request_tracking_code=code,
        starts_at=starts,
        recorded_by="penjadwal",
        notes_sealed=notes,
    )


def audience_declined(code: str) -> s.AudienceDeclined:
    return s.AudienceDeclined(
        audience_id=code,
        request_tracking_code=code,
        reason="Topik di luar kewenangan Biro Perekonomian",
        declined_by="penjadwal",
        answer_letter=letter("LTR-0002"),
    )


async def complaint_received(
    vault: Any,
    code: str,
    *,
    email: str | None = "budi@example.com",
    phone: str | None = "081298765432",
    tier: bool = True,
) -> c.ComplaintReceived:
    key = await vault.new_subject([email, phone])
    return c.ComplaintReceived(
        tracking_code=code,
        channel=c.ComplaintChannel.ONLINE,
        received_at=SUBMITTED,
        disclosure=c.Disclosure.NAMED,
        complainant_name=await vault.seal(key, "Budi Santoso"),
        complainant_email=await vault.seal(key, email) if email else None,
        complainant_phone=await vault.seal(key, phone) if phone else None,
        summary=await vault.seal(key, "Antrian layanan terlalu lama"),
        description=await vault.seal(key, "Saya menunggu dua jam di loket."),
        tier=c.ComplaintTier.RINGAN if tier else None,
        due_at=SUBMITTED + timedelta(hours=3) if tier else None,
        access_token_sha256="0" * 64,
        access_token=await vault.seal(key, ACCESS_TOKEN),
    )


def complaint_classified(code: str) -> c.ComplaintClassified:
    return c.ComplaintClassified(
        tracking_code=code,
        tier=c.ComplaintTier.NORMATIF,
        previous_tier=c.ComplaintTier.RINGAN,
        clock_started_at=SUBMITTED,
        due_at=datetime(2026, 3, 9, 9, 0, tzinfo=UTC),
        classified_by="officer-1",
    )


def complaint_assigned(code: str, assignee: str | None = "officer-7") -> c.ComplaintAssigned:
    return c.ComplaintAssigned(
        tracking_code=code, team="Tim Pengelola Pengaduan", assignee=assignee, assigned_by="officer-1"
    )


async def complaint_answered(
    vault: Any, key: str, code: str, answer: str = "Loket tambahan dibuka mulai Senin."
) -> c.ComplaintAnswered:
    return c.ComplaintAnswered(
        tracking_code=code,
        answered_at=SUBMITTED + timedelta(hours=2),
        answer=await vault.seal(key, answer),
        answered_by="officer-7",
        due_at=SUBMITTED + timedelta(hours=3),
        on_time=True,
    )


async def complaint_reopened(vault: Any, key: str, code: str) -> c.ComplaintReopened:
    return c.ComplaintReopened(
        tracking_code=code,
        reopened_at=SUBMITTED + timedelta(days=1),
        reason=await vault.seal(key, "Loket tambahan belum dibuka."),
        source=c.DisputeSource.COMPLAINANT,
        round=2,
        due_at=SUBMITTED + timedelta(days=1, hours=3),
    )


def sla_warning(case_id: str, clock: str = "ringan") -> SLAWarning:
    return SLAWarning(
        case_id=case_id,
        clock=clock,
        threshold_percent=75,
        started_at=SUBMITTED,
        due_at=SUBMITTED + timedelta(hours=3),
        warned_at=SUBMITTED + timedelta(hours=2),
    )


def sla_breached(case_id: str, clock: str = "ringan") -> SLABreached:
    return SLABreached(
        case_id=case_id,
        clock=clock,
        started_at=SUBMITTED,
        due_at=SUBMITTED + timedelta(hours=3),
        breached_at=SUBMITTED + timedelta(hours=3),
    )


async def survey_invited(
    vault: Any, code: str, service: SurveyService, token: str = SURVEY_TOKEN
) -> SurveyInvited:
    key = await vault.new_subject()
    return SurveyInvited(
        case_code=code,
        service=service,
        invited_at=SUBMITTED + timedelta(days=3),
        token_hmac=hashlib.sha256(b"sample-hmac:" + token.encode()).hexdigest(),
        token=await vault.seal(key, token),
    )
