"""Every notice renders in Bahasa Indonesia and English, plain text and HTML, and SMS fits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from notifier_fakes import project, recorded
from serambi_contracts import AggregateRef
from serambi_contracts.notifier import Channel
from serambi_contracts.survey import SurveyService
from serambi_notifier.adapters.cases import case_source
from serambi_notifier.adapters.ics import invitation_ics
from serambi_notifier.adapters.rendering import TEMPLATES, Renderer, format_wib
from serambi_notifier.application.compose import Composer
from serambi_notifier.application.planning import Planner
from serambi_notifier.domain import gsm7, subscriptions
from serambi_notifier.domain.subscriptions import SubscriptionError
from serambi_testing import samples

NOON = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
CODE = "AUD-2026-000011"
COMPLAINT = AggregateRef("complaints", "complaint", "ADU-2026-000011")
REQUEST = AggregateRef("intake", "request", CODE)
AUDIENCE = AggregateRef("scheduling", "audience", CODE)
WITH_LINK = {"request_acknowledged", "complaint_acknowledged", "tracking_link", "survey_invitation"}


async def every_event(vault, db, topic="Hilirisasi produk lada"):
    """One recorded event per subscribed type, with the read model projected before each."""
    who = await samples.requester(vault)
    token = await vault.seal(who.name.key, samples.ACCESS_TOKEN)
    request = await samples.request_submitted(vault, CODE, who, topic, token)
    events = [recorded(REQUEST, request), recorded(REQUEST, samples.request_link_requested(CODE), version=2)]
    audience = [
        samples.audience_requested(CODE, request.topic),
        samples.audience_scheduled(CODE),
        samples.audience_rescheduled(CODE, samples.STARTS.replace(day=6)),
        samples.audience_reminder_due(CODE, "same_day", samples.STARTS.replace(day=6), "B2"),
        samples.audience_declined(CODE),
        samples.audience_cancelled(CODE),
        samples.audience_no_show(CODE),
    ]
    from serambi_contracts import scheduling as s

    proposed = s.AudienceProposed(
        audience_id=CODE,
        request_tracking_code=CODE,
        starts_at=samples.STARTS,
        ends_at=samples.STARTS.replace(hour=3),
        room="Ruang Rapat",
        host="Kepala Biro",
        room_id="R1",
        host_id="H1",
        location="Lt. 2",
        booking_id="B9",
        proposed_by="auto",
    )
    referred = s.AudienceReferred(
        audience_id=CODE, request_tracking_code=CODE, reason="Semua ruang penuh", referred_by="auto"
    )
    events += [
        recorded(AUDIENCE, e, version=n)
        for n, e in enumerate([*audience[:1], proposed, referred, *audience[1:]], start=1)
    ]
    events.append(recorded(AUDIENCE, samples.sla_warning(CODE, "audience_answer"), version=10))
    received = await samples.complaint_received(vault, COMPLAINT.id)
    key = received.complainant_email.key
    complaint = [
        received,
        samples.complaint_classified(COMPLAINT.id),
        samples.complaint_assigned(COMPLAINT.id),
        await samples.complaint_answered(vault, key, COMPLAINT.id),
        await samples.complaint_reopened(vault, key, COMPLAINT.id),
        samples.sla_warning(COMPLAINT.id),
        samples.sla_breached(COMPLAINT.id),
        samples.complaint_link_requested(COMPLAINT.id),
    ]
    events += [recorded(COMPLAINT, e, version=n) for n, e in enumerate(complaint, start=1)]
    for event in events:
        project(db, event)
    # the hosts' day lists have no case (the notifier projects nothing of them)
    events.append(
        recorded(
            AggregateRef("scheduling", "daylist", "H1-20260304"), samples.host_day_list_due("H1"), version=1
        )
    )
    return events + [  # the notifier keeps no read model of invitations
        recorded(AggregateRef("intake", "survey", code), await samples.survey_invited(vault, code, service))
        for code, service in ((CODE, SurveyService.AUDIENSI), (COMPLAINT.id, SurveyService.PENGADUAN))
    ]


@pytest.mark.parametrize("language", ["id", "en"])
async def test_every_subscribed_notice_renders_as_email_and_sms(settings, vault, db, language):
    settings.citizen_language = settings.officer_language = language
    table = subscriptions.by_event(subscriptions.load(None, TEMPLATES))
    planner = Planner(settings, table, vault, case_source(db))
    composer = Composer(settings, Renderer(), invitation_ics)
    seen = set()
    for event in await every_event(vault, db):
        for planned in await planner.plan(event, NOON):
            seen.add(planned.notice)
            if planned.channel is Channel.EMAIL:
                email = await composer.email(planned, NOON)
                assert email.subject and "None" not in email.subject
                assert email.text.strip() and "<html" in email.html
                assert "{{" not in email.text and "{%" not in email.html
            else:
                parts = composer.sms(planned).parts
                assert parts and all(gsm7.length(p) <= 160 for p in parts)
    assert seen == {s.notice for s in subscriptions.load(None, TEMPLATES)}


async def test_short_notices_fit_one_sms_with_realistic_values(settings, vault, db):
    table = subscriptions.by_event(subscriptions.load(None, TEMPLATES))
    planner = Planner(settings, table, vault, case_source(db))
    composer = Composer(settings, Renderer(), invitation_ics)
    for event in await every_event(vault, db):
        if type(event.event).__name__ == "ComplaintAnswered":
            continue  # the answer itself may need several parts
        for planned in await planner.plan(event, NOON):
            if planned.channel is Channel.SMS:  # a tracking link (~100 characters) may need a second
                parts = 2 if planned.notice in WITH_LINK else 1
                assert len(composer.sms(planned).parts) <= parts, planned.notice


async def test_html_is_escaped_and_plain_text_is_not(settings, vault, db):
    table = subscriptions.by_event(subscriptions.load(None, TEMPLATES))
    planner = Planner(settings, table, vault, case_source(db))
    [event, *_] = await every_event(vault, db, topic="Lada <b>putih</b> & hitam")
    planned = next(p for p in await planner.plan(event, NOON) if p.channel is Channel.EMAIL)
    email = await Composer(settings, Renderer(), invitation_ics).email(planned, NOON)
    assert "Lada &lt;b&gt;putih&lt;/b&gt; &amp; hitam" in email.html
    assert "Lada <b>putih</b> & hitam" in email.text


def test_dates_are_written_in_wib_in_either_language():
    instant = datetime(2026, 8, 17, 1, 30, tzinfo=UTC)
    assert format_wib(instant, "id") == "Senin, 17 Agustus 2026 pukul 08.30 WIB"
    assert format_wib(instant, "en") == "Monday, 17 August 2026 at 08:30 WIB"


def test_a_missing_template_variable_is_an_error_not_an_empty_string(settings):
    with pytest.raises(Exception, match="case"):
        Renderer().email("id", "request_acknowledged", {"recipient": {"name": None}})


def test_the_packaged_subscriptions_are_valid():
    assert subscriptions.load(None, TEMPLATES)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[[notice]]\nevent = "Nope"\nnotice = "x"\nrecipients = ["requester"]\nchannels = ["email"]',
            "not an event",
        ),
        (
            '[[notice]]\nevent = "RequestSubmitted"\nnotice = "x"\nrecipients = ["mayor"]\nchannels = ["email"]',
            "unknown recipient",
        ),
        (
            '[[notice]]\nevent = "RequestSubmitted"\nnotice = "x"\nrecipients = ["requester"]\nchannels = ["fax"]',
            "fax",
        ),
        (
            '[[notice]]\nevent = "RequestSubmitted"\nnotice = "nowhere"\nrecipients = ["requester"]\nchannels = ["sms"]',
            "missing templates: en/nowhere/sms.txt, id/nowhere/sms.txt",
        ),
    ],
)
def test_invalid_subscriptions_are_refused_with_the_reason(toml, message):
    with pytest.raises(SubscriptionError, match=message):
        subscriptions.parse(toml, TEMPLATES)


def test_one_wib_zone_for_rendering_and_samples():
    import serambi_calendar
    from serambi_notifier.adapters import rendering
    from serambi_testing import samples

    assert samples.WIB is rendering.WIB is serambi_calendar.WIB
