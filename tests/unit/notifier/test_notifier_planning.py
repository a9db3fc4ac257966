"""Planning: which deliveries an event causes, to whom, through which channel — and rendering
every notice they use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from notifier_fakes import project, recorded
from serambi_contracts import AggregateRef
from serambi_contracts.notifier import Channel, RecipientKind
from serambi_notifier.adapters.cases import case_source
from serambi_notifier.adapters.ics import invitation_ics
from serambi_notifier.adapters.rendering import TEMPLATES, WIB, Renderer
from serambi_notifier.application.compose import Composer
from serambi_notifier.application.planning import ERASED, NotProjectedYetError, Planner
from serambi_notifier.domain import gsm7, subscriptions
from serambi_testing import samples

CODE = "AUD-2026-000007"
NOON = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)  # 12:00 WIB
REQUEST = AggregateRef("intake", "request", CODE)
AUDIENCE = AggregateRef("scheduling", "audience", CODE)
COMPLAINT = AggregateRef("complaints", "complaint", "ADU-2026-000003")


def planner(settings, vault, db) -> Planner:
    table = subscriptions.by_event(subscriptions.load(None, TEMPLATES))
    return Planner(settings, table, vault, case_source(db))


async def submitted(vault, **who):
    return recorded(
        REQUEST, await samples.request_submitted(vault, CODE, await samples.requester(vault, **who))
    )


async def scheduled_case(vault, db):
    """RequestSubmitted, AudienceRequested, AudienceScheduled — projected; returns the last."""
    request = await submitted(vault)
    project(db, request)
    project(db, recorded(AUDIENCE, samples.audience_requested(CODE, request.event.topic), version=1))
    event = recorded(AUDIENCE, samples.audience_scheduled(CODE), version=2)
    project(db, event)
    return event


async def test_a_submitted_request_is_acknowledged_to_the_requester_by_email_and_sms(settings, vault, db):
    plans = await planner(settings, vault, db).plan(await submitted(vault), NOON)
    assert sorted(p.channel for p in plans) == [Channel.EMAIL, Channel.SMS]
    assert {p.notice for p in plans} == {"request_acknowledged"}
    email = next(p for p in plans if p.channel is Channel.EMAIL)
    assert email.address == "siti@example.go.id" and email.recipient_masked == "s***@example.go.id"
    assert email.recipient_kind is RecipientKind.CITIZEN and email.case_id == CODE
    sms = next(p for p in plans if p.channel is Channel.SMS)
    assert sms.address == "+6281345678901" and "345678" not in sms.recipient_masked


async def test_the_acknowledgement_states_the_tracking_code_and_the_due_date_in_wib(settings, vault, db):
    plans = await planner(settings, vault, db).plan(await submitted(vault), NOON)
    composer = Composer(settings, Renderer(), invitation_ics)
    email = await composer.email(next(p for p in plans if p.channel is Channel.EMAIL), NOON)
    assert CODE in email.subject
    assert "Kamis, 5 Maret 2026 pukul 16.00 WIB" in email.text
    assert "Yth. Siti Aminah," in email.text and "Siti Aminah" in email.html
    assert email.message_id == f"<{plans[0].delivery_id}@{settings.mail_domain}>" or any(
        email.message_id == f"<{p.delivery_id}@{settings.mail_domain}>" for p in plans
    )
    parts = composer.sms(next(p for p in plans if p.channel is Channel.SMS)).parts
    sms = "".join(parts)  # two parts with the tracking link
    assert CODE in sms and "05/03/2026 16.00 WIB" in sms
    assert len(parts) <= 2 and all(gsm7.length(part) <= 160 for part in parts)


async def test_delivery_ids_are_stable_per_cause_channel_and_recipient(settings, vault, db):
    event = await submitted(vault)
    first = {p.delivery_id for p in await planner(settings, vault, db).plan(event, NOON)}
    again = {p.delivery_id for p in await planner(settings, vault, db).plan(event, NOON + timedelta(hours=1))}
    other = {p.delivery_id for p in await planner(settings, vault, db).plan(await submitted(vault), NOON)}
    assert first == again and len(first) == 2
    assert not first & other  # another cause event: other deliveries


async def test_a_requester_with_only_an_email_gets_no_sms(settings, vault, db):
    plans = await planner(settings, vault, db).plan(await submitted(vault, phone=None), NOON)
    assert [p.channel for p in plans] == [Channel.EMAIL]


async def test_malformed_addresses_are_planned_as_failures_with_the_reason(settings, vault, db):
    plans = await planner(settings, vault, db).plan(
        await submitted(vault, email="siti at example", phone="+6221555"), NOON
    )
    problems = {p.channel: p.problem for p in plans}
    assert problems[Channel.EMAIL].startswith("invalid email address")
    assert problems[Channel.SMS].startswith("invalid phone number")


async def test_an_erased_requester_gets_nothing_and_the_reason_is_recorded(settings, vault, db):
    event = await submitted(vault)
    vault.erased.add(event.event.requester.email.key)
    plans = await planner(settings, vault, db).plan(event, NOON)
    assert {p.problem for p in plans} == {ERASED}
    assert all(p.address is None and p.recipient_masked == "(erased)" for p in plans)


async def test_an_invitation_waits_until_the_requests_contact_is_projected(settings, vault, db):
    event = recorded(AUDIENCE, samples.audience_scheduled(CODE), version=2)
    with pytest.raises(NotProjectedYetError):
        await planner(settings, vault, db).plan(event, NOON)


async def test_an_invitation_reads_only_the_requests_document(settings, vault, db):
    """The first invitation names its slot and has no SEQUENCE to count: the audience's document
    is not read, so the invitation neither waits for it nor pays for the read."""
    from serambi_notifier.adapters.projections import CASES

    request = await submitted(vault)
    project(db, request)  # the audience's own document is not projected at all
    event = recorded(AUDIENCE, samples.audience_scheduled(CODE), version=2)
    plans = await planner(settings, vault, db).plan(event, NOON)
    assert sorted(p.channel for p in plans) == [Channel.EMAIL, Channel.SMS]
    assert db[CASES].reads == [f"request:{CODE}"]


async def test_the_planner_that_acknowledged_a_request_reads_nothing_for_its_invitation(settings, vault, db):
    """The acknowledgement's planner keeps what the projection writes for the request: the
    invitation moments later costs no read; another replica's planner reads the database."""
    from serambi_notifier.adapters.projections import CASES

    request = await submitted(vault)
    project(db, request)
    acknowledging = planner(settings, vault, db)
    await acknowledging.plan(request, NOON)
    event = recorded(AUDIENCE, samples.audience_scheduled(CODE), version=2)
    plans = await acknowledging.plan(event, NOON)
    assert sorted(p.channel for p in plans) == [Channel.EMAIL, Channel.SMS]
    assert {p.address for p in plans} == {"siti@example.go.id", "+6281345678901"}
    assert db[CASES].reads == []
    elsewhere = await planner(settings, vault, db).plan(event, NOON)
    assert {p.delivery_id for p in elsewhere} == {p.delivery_id for p in plans}
    assert db[CASES].reads == [f"request:{CODE}"]


async def test_an_erased_requester_acknowledged_moments_ago_gets_no_invitation(settings, vault, db):
    request = await submitted(vault)
    project(db, request)
    acknowledging = planner(settings, vault, db)
    await acknowledging.plan(request, NOON)
    vault.erased.add(request.event.requester.email.key)
    plans = await acknowledging.plan(recorded(AUDIENCE, samples.audience_scheduled(CODE), version=2), NOON)
    assert plans and {p.problem for p in plans} == {ERASED}


async def test_a_rescheduled_invitation_still_waits_for_the_audiences_document(settings, vault, db):
    """A reschedule counts the earlier ones (iCalendar SEQUENCE): it needs the audience's document
    up to the event before it."""
    project(db, await submitted(vault))
    event = recorded(AUDIENCE, samples.audience_rescheduled(CODE, NOON + timedelta(days=7)), version=3)
    with pytest.raises(NotProjectedYetError):
        await planner(settings, vault, db).plan(event, NOON)


async def test_an_invitation_carries_an_ics_request_with_sequence_zero_in_wib(settings, vault, db):
    event = await scheduled_case(vault, db)
    plans = await planner(settings, vault, db).plan(event, NOON)
    email_plan = next(p for p in plans if p.channel is Channel.EMAIL)
    email = await Composer(settings, Renderer(), invitation_ics).email(email_plan, NOON)
    [attachment] = email.attachments
    calendar = icalendar.Calendar.from_ical(attachment.content)
    [vevent] = calendar.walk("VEVENT")
    assert calendar["METHOD"] == "REQUEST" and vevent["SEQUENCE"] == 0
    assert str(vevent["UID"]) == f"{CODE}@{settings.mail_domain}"
    assert vevent.decoded("DTSTART").astimezone(WIB).hour == 9
    assert "Rabu, 4 Maret 2026 pukul 09.00" in email.text
    assert f"{settings.letters_base_url}/LTR-0001" in email.text


async def test_reschedules_raise_the_sequence_and_a_cancellation_cancels_the_last_one(settings, vault, db):
    await scheduled_case(vault, db)
    p = planner(settings, vault, db)
    composer = Composer(settings, Renderer(), invitation_ics)

    async def calendar_of(event):
        plans = await p.plan(event, NOON)
        email = await composer.email(next(x for x in plans if x.channel is Channel.EMAIL), NOON)
        [vevent] = icalendar.Calendar.from_ical(email.attachments[0].content).walk("VEVENT")
        return icalendar.Calendar.from_ical(email.attachments[0].content)["METHOD"], vevent

    later = samples.STARTS + timedelta(days=1, hours=5)
    moved = recorded(AUDIENCE, samples.audience_rescheduled(CODE, later), version=3)
    with pytest.raises(NotProjectedYetError):  # the read model is behind version 2… it is not
        await p.plan(recorded(AUDIENCE, samples.audience_rescheduled(CODE, later), version=5), NOON)
    project(db, moved)
    method, vevent = await calendar_of(moved)
    assert (method, vevent["SEQUENCE"]) == ("REQUEST", 1)
    assert vevent.decoded("DTSTART").astimezone(WIB).hour == 14
    again = recorded(
        AUDIENCE, samples.audience_rescheduled(CODE, later + timedelta(days=1), later), version=4
    )
    project(db, again)
    assert (await calendar_of(again))[1]["SEQUENCE"] == 2
    cancelled = recorded(AUDIENCE, samples.audience_cancelled(CODE), version=5)
    method, vevent = await calendar_of(cancelled)
    assert (method, vevent["SEQUENCE"], vevent["STATUS"]) == ("CANCEL", 2, "CANCELLED")


async def test_a_no_show_tells_the_requester_the_audience_did_not_take_place_without_cancelling_it(
    settings, vault, db
):
    await scheduled_case(vault, db)
    notes = await vault.seal("k1", "Tidak ada kabar dari pemohon")  # sealed, as scheduling keeps them
    no_show = recorded(AUDIENCE, samples.audience_no_show(CODE, notes=notes), version=3)
    plans = await planner(settings, vault, db).plan(no_show, NOON)
    assert sorted(p.channel for p in plans) == [Channel.EMAIL, Channel.SMS]
    assert {p.notice for p in plans} == {"audience_no_show"}
    composer = Composer(settings, Renderer(), invitation_ics)
    email = await composer.email(next(p for p in plans if p.channel is Channel.EMAIL), NOON)
    assert email.subject == f"Audiensi {CODE} tidak terlaksana"
    assert "Rabu, 4 Maret 2026 pukul 09.00 WIB" in email.text and "tidak hadir" in email.text
    assert "dibatalkan" not in email.text.lower() and not email.attachments
    assert "Tidak ada kabar" not in email.text  # the officer's notes stay with the bureau
    sms = composer.sms(next(p for p in plans if p.channel is Channel.SMS)).parts
    assert len(sms) == 1 and "tidak hadir" in sms[0]


async def test_events_without_a_notice_cause_no_deliveries(settings, vault, db):
    from serambi_contracts.scheduling import AudienceHeld

    held = AudienceHeld(audience_id=CODE, request_tracking_code=CODE, held_at=NOON, recorded_by="x")
    assert await planner(settings, vault, db).plan(recorded(AUDIENCE, held, version=3), NOON) == []


async def test_sms_to_citizens_is_held_in_quiet_hours_but_email_and_officers_are_not(settings, vault, db):
    night = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)  # 22:30 WIB
    plans = await planner(settings, vault, db).plan(await submitted(vault), night)
    held = {p.channel: p.not_before for p in plans}
    assert held[Channel.EMAIL] is None
    assert held[Channel.SMS] == datetime(2026, 3, 3, 6, 0, tzinfo=WIB)
    breach = recorded(COMPLAINT, samples.sla_breached(COMPLAINT.id), version=2)
    officer_sms = [
        p for p in await planner(settings, vault, db).plan(breach, night) if p.channel is Channel.SMS
    ]
    assert officer_sms and all(p.not_before is None for p in officer_sms)


async def test_a_breach_reaches_the_responsible_officer_and_the_supervisor_once_each(settings, vault, db):
    breach = recorded(COMPLAINT, samples.sla_breached(COMPLAINT.id), version=2)
    plans = await planner(settings, vault, db).plan(breach, NOON)
    emails = sorted(p.address for p in plans if p.channel is Channel.EMAIL)
    assert emails == ["kabiro@ekonomi.example", "pengaduan@ekonomi.example"]
    assert [p.address for p in plans if p.channel is Channel.SMS] == ["+6281211112222"]
    settings.sla_default_responsible_role = "supervisor"  # responsible and escalation: one person
    plans = await planner(settings, vault, db).plan(breach, NOON)
    assert sorted(p.address for p in plans if p.channel is Channel.EMAIL) == ["kabiro@ekonomi.example"]


async def test_a_complaint_is_acknowledged_with_its_deadline_and_the_officer_is_told(settings, vault, db):
    event = recorded(COMPLAINT, await samples.complaint_received(vault, COMPLAINT.id))
    plans = await planner(settings, vault, db).plan(event, NOON)
    by_notice = {(p.notice, p.channel) for p in plans}
    assert by_notice == {
        ("complaint_acknowledged", Channel.EMAIL),
        ("complaint_acknowledged", Channel.SMS),
        ("complaint_received_officer", Channel.EMAIL),
    }
    ack = next(p for p in plans if p.notice == "complaint_acknowledged" and p.channel is Channel.EMAIL)
    text = (await Composer(settings, Renderer(), invitation_ics).email(ack, NOON)).text
    assert COMPLAINT.id in text and "Senin, 2 Maret 2026 pukul 12.00 WIB" in text


async def complaint_case(vault, db):
    received = recorded(COMPLAINT, await samples.complaint_received(vault, COMPLAINT.id))
    project(db, received)
    return received


async def test_a_complaints_answer_reaches_the_complainant_and_a_long_one_is_split_for_sms(
    settings, vault, db
):
    received = await complaint_case(vault, db)
    key = received.event.complainant_email.key
    answer = "Terima kasih atas pengaduan Anda. " + "Kami telah menambah petugas loket. " * 12
    event = recorded(COMPLAINT, await samples.complaint_answered(vault, key, COMPLAINT.id, answer), 2)
    plans = await planner(settings, vault, db).plan(event, NOON)
    composer = Composer(settings, Renderer(), invitation_ics)
    email = await composer.email(next(p for p in plans if p.channel is Channel.EMAIL), NOON)
    assert "Kami telah menambah petugas loket." in email.text and COMPLAINT.id in email.subject
    parts = composer.sms(next(p for p in plans if p.channel is Channel.SMS)).parts
    assert len(parts) > 1 and parts[0].startswith(f"(1/{len(parts)}) ")
    assert all(gsm7.length(part) <= 160 for part in parts)


async def test_officer_notices_never_show_what_the_complainant_wrote(settings, vault, db):
    settings.assignee_emails = {"officer-7": ["petugas7@ekonomi.example"]}
    received = await complaint_case(vault, db)
    key = received.event.complainant_email.key
    p = planner(settings, vault, db)
    composer = Composer(settings, Renderer(), invitation_ics)
    officer_new = next(x for x in await p.plan(received, NOON) if x.recipient_kind is RecipientKind.OFFICER)
    assert "Antrian" not in (await composer.email(officer_new, NOON)).text
    assigned = recorded(COMPLAINT, samples.complaint_assigned(COMPLAINT.id), 2)
    project(db, assigned)
    [to_assignee] = await p.plan(assigned, NOON)
    assert to_assignee.address == "petugas7@ekonomi.example"
    reopened = recorded(COMPLAINT, await samples.complaint_reopened(vault, key, COMPLAINT.id), 3)
    plans = await p.plan(reopened, NOON)
    officers = [x for x in plans if x.recipient_kind is RecipientKind.OFFICER]
    assert sorted(x.address for x in officers) == ["kabiro@ekonomi.example", "petugas7@ekonomi.example"]
    assert all(["belum dibuka" not in (await composer.email(x, NOON)).text for x in officers])
    citizen = next(
        x for x in plans if x.recipient_kind is RecipientKind.CITIZEN and x.channel is Channel.EMAIL
    )
    assert "Loket tambahan belum dibuka." in (await composer.email(citizen, NOON)).text


async def test_a_breach_of_an_assigned_complaint_goes_to_its_assignee(settings, vault, db):
    settings.assignee_emails = {"Tim Pengelola Pengaduan": ["tim@ekonomi.example"]}
    await complaint_case(vault, db)
    project(db, recorded(COMPLAINT, samples.complaint_assigned(COMPLAINT.id, assignee=None), 2))
    breach = recorded(COMPLAINT, samples.sla_breached(COMPLAINT.id), version=3)
    plans = await planner(settings, vault, db).plan(breach, NOON)
    assert sorted(p.address for p in plans if p.channel is Channel.EMAIL) == [
        "kabiro@ekonomi.example",
        "tim@ekonomi.example",
    ]


async def test_a_reclassified_complaint_tells_the_complainant_the_new_deadline(settings, vault, db):
    await complaint_case(vault, db)
    event = recorded(COMPLAINT, samples.complaint_classified(COMPLAINT.id), 2)
    plans = await planner(settings, vault, db).plan(event, NOON)
    [sms] = (
        Composer(settings, Renderer(), invitation_ics)
        .sms(next(p for p in plans if p.channel is Channel.SMS))
        .parts
    )
    assert "09/03/2026 16.00 WIB" in sms


async def test_a_reminder_goes_to_the_requester_by_email_and_sms_and_a_late_one_waits_out_quiet_hours(
    settings, vault, db
):
    await scheduled_case(vault, db)  # Wednesday 4 March 2026, 09.00 WIB
    reminder = recorded(AUDIENCE, samples.audience_reminder_due(CODE, "day_before"), version=3)
    at_nine = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)  # Tuesday 09.00 WIB, its instant
    plans = await planner(settings, vault, db).plan(reminder, at_nine)
    assert sorted(p.channel for p in plans) == [Channel.EMAIL, Channel.SMS]
    assert {p.notice for p in plans} == {"audience_reminder"}
    assert all(p.not_before is None for p in plans)
    composer = Composer(settings, Renderer(), invitation_ics)
    email = await composer.email(next(p for p in plans if p.channel is Channel.EMAIL), at_nine)
    assert email.subject == f"Pengingat audiensi {CODE}: Rabu, 4 Maret 2026"
    assert "Rabu, 4 Maret 2026 pukul 09.00 WIB" in email.text and "Ruang Rapat Biro" in email.text
    assert "Yth. Siti Aminah," in email.text and "Hilirisasi produk lada" in email.text
    [sms] = composer.sms(next(p for p in plans if p.channel is Channel.SMS)).parts
    assert "pengingat audiensi" in sms and CODE in sms and "hari ini" not in sms
    # the same event planned again (a redelivery) finds the same deliveries: sent once
    again = await planner(settings, vault, db).plan(reminder, at_nine)
    assert {p.delivery_id for p in again} == {p.delivery_id for p in plans}

    project(db, reminder)
    # the timer fired late, in quiet hours (the service was down): the SMS waits until 06.00
    same_day = recorded(AUDIENCE, samples.audience_reminder_due(CODE, "same_day"), version=4)
    late = datetime(2026, 3, 3, 22, 30, tzinfo=UTC)  # Wednesday 05.30 WIB
    plans = await planner(settings, vault, db).plan(same_day, late)
    sms = next(p for p in plans if p.channel is Channel.SMS)
    assert sms.not_before == datetime(2026, 3, 4, 6, 0, tzinfo=WIB)
    assert next(p for p in plans if p.channel is Channel.EMAIL).not_before is None
    [text] = Composer(settings, Renderer(), invitation_ics).sms(sms).parts
    assert "hari ini" in text


async def test_a_host_day_list_goes_to_the_hosts_addresses_by_email_and_sms(settings, vault, db):
    daylist = AggregateRef("scheduling", "daylist", "H1-20260304")
    event = recorded(daylist, samples.host_day_list_due("H1"), version=1)
    seven = datetime(2026, 3, 4, 0, 0, tzinfo=UTC)  # Wednesday 07.00 WIB
    plans = await planner(settings, vault, db).plan(event, seven)
    assert sorted((p.channel, p.address) for p in plans) == [
        (Channel.EMAIL, "kabiro.ekonomi@ekonomi.example"),
        (Channel.SMS, "+6281233334444"),
    ]
    assert {p.notice for p in plans} == {"host_day_list"}
    assert all(p.recipient_kind is RecipientKind.OFFICER for p in plans)
    composer = Composer(settings, Renderer(), invitation_ics)
    email = await composer.email(next(p for p in plans if p.channel is Channel.EMAIL), seven)
    assert email.subject == "Jadwal audiensi hari ini, Rabu, 4 Maret 2026: 2 audiensi"
    assert "09.00–10.00 WIB, Ruang Rapat Biro Perekonomian" in email.text
    assert "11.00–12.00 WIB" in email.text and "Dinas Perindustrian Kota Singkawang, 4 orang" in email.text
    [sms] = composer.sms(next(p for p in plans if p.channel is Channel.SMS)).parts
    assert sms.startswith("Biro Perekonomian Kalbar: 2 audiensi hari ini, mulai 09.00 WIB")
    other = recorded(
        AggregateRef("scheduling", "daylist", "H9-20260304"), samples.host_day_list_due("H9"), version=1
    )
    assert await planner(settings, vault, db).plan(other, seven) == []  # no address: nothing


async def test_the_hosts_sms_waits_out_quiet_hours_and_the_email_does_not(settings, vault, db):
    daylist = AggregateRef("scheduling", "daylist", "H1-20260304")
    event = recorded(daylist, samples.host_day_list_due("H1"), version=1)
    dawn = datetime(2026, 3, 3, 22, 30, tzinfo=UTC)  # Wednesday 05.30 WIB
    held = {p.channel: p.not_before for p in await planner(settings, vault, db).plan(event, dawn)}
    assert held == {Channel.EMAIL: None, Channel.SMS: datetime(2026, 3, 4, 6, 0, tzinfo=WIB)}


async def test_a_day_list_for_a_host_without_addresses_is_logged_by_host_id_only(settings, vault, db):
    from structlog.testing import capture_logs

    other = recorded(
        AggregateRef("scheduling", "daylist", "H9-20260304"), samples.host_day_list_due("H9"), version=1
    )
    with capture_logs() as logs:
        assert await planner(settings, vault, db).plan(other, datetime(2026, 3, 4, 0, 0, tzinfo=UTC)) == []
    [warning] = [entry for entry in logs if entry["event"] == "notifier.host_without_addresses"]
    assert warning["log_level"] == "warning" and warning["host_id"] == "H9"
    assert "@" not in str(logs) and "+62" not in str(logs)


def test_the_notifier_hears_the_hosts_day_lists_without_projecting_them():
    from serambi_notifier.subscribers import CASE_CONSUMERS, NOTIFY_CONSUMERS

    [notify] = [c for c in NOTIFY_CONSUMERS if c.context == "scheduling"]
    [cases] = [c for c in CASE_CONSUMERS if c.context == "scheduling"]
    assert notify.filter_subjects == ("scheduling.audience.>", "scheduling.daylist.*.HostDayListDue")
    assert cases.filter_subjects == ("scheduling.audience.>",)
