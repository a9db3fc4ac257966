"""A complainant is answered on the channel they used: an e-mail complainant's e-mails are replies
in their thread; a WhatsApp complainant's receipt and answer go on WhatsApp (sent by the
complaints service), not again by SMS — their e-mail, if they gave one, still goes — and by SMS
when WhatsApp could not deliver them (ComplaintReplyFailed)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from notifier_fakes import project, recorded
from serambi_contracts import AggregateRef
from serambi_contracts.complaints import ComplaintChannel, ComplaintReplyFailed, ReplyFailure, ReplyKind
from serambi_contracts.notifier import Channel, RecipientKind
from serambi_notifier.adapters.cases import case_source
from serambi_notifier.adapters.ics import invitation_ics
from serambi_notifier.adapters.rendering import TEMPLATES, Renderer
from serambi_notifier.application.compose import Composer
from serambi_notifier.application.planning import Planner
from serambi_notifier.domain import subscriptions
from serambi_testing import samples

CODE = "ADU-2026-000011"
NOON = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
COMPLAINT = AggregateRef("complaints", "complaint", CODE)
THREAD = "<a@elsewhere.example> <m1@mail.example.id>"


def planner(settings, vault, db) -> Planner:
    return Planner(
        settings, subscriptions.by_event(subscriptions.load(None, TEMPLATES)), vault, case_source(db)
    )


async def received(vault, db, channel: ComplaintChannel, **changes):
    event = await samples.complaint_received(vault, CODE, email="rina@example.id", phone="081298765432")
    key = event.summary.key
    if channel is ComplaintChannel.EMAIL:
        changes["email_thread"] = await vault.seal(key, THREAD)
        changes["summary"] = await vault.seal(key, "Antrean loket perizinan")
    event = event.model_copy(update={"channel": channel, **changes})
    first = recorded(COMPLAINT, event)
    project(db, first)
    return first, key


def citizens(plans):
    return sorted((p.notice, p.channel.value) for p in plans if p.recipient_kind is RecipientKind.CITIZEN)


async def test_an_email_complainant_gets_every_email_as_a_reply_in_their_thread(settings, vault, db):
    first, key = await received(vault, db, ComplaintChannel.EMAIL)
    answered = recorded(COMPLAINT, await samples.complaint_answered(vault, key, CODE), version=2)
    composer = Composer(settings, Renderer(), invitation_ics)
    for event in (first, answered):
        [plan] = [
            p
            for p in await planner(settings, vault, db).plan(event, NOON)
            if p.recipient_kind is RecipientKind.CITIZEN and p.channel is Channel.EMAIL
        ]
        email = await composer.email(plan, NOON)
        headers = dict(email.headers)
        assert headers["In-Reply-To"] == "<m1@mail.example.id>"
        assert headers["References"] == THREAD
        assert email.subject == "Re: Antrean loket perizinan"
    officers = [
        p
        for p in await planner(settings, vault, db).plan(first, NOON)
        if p.recipient_kind is RecipientKind.OFFICER
    ]
    officer_email = await composer.email(officers[0], NOON)
    assert "In-Reply-To" not in dict(officer_email.headers)  # the thread is the complainant's only


async def test_other_complainants_emails_are_not_replies(settings, vault, db):
    first, _ = await received(vault, db, ComplaintChannel.ONLINE)
    [plan] = [
        p
        for p in await planner(settings, vault, db).plan(first, NOON)
        if p.recipient_kind is RecipientKind.CITIZEN and p.channel is Channel.EMAIL
    ]
    email = await Composer(settings, Renderer(), invitation_ics).email(plan, NOON)
    assert "In-Reply-To" not in dict(email.headers) and "References" not in dict(email.headers)
    assert not email.subject.startswith("Re:")


async def test_with_the_whatsapp_channel_on_a_whatsapp_complainant_gets_no_sms_of_receipt_and_answer(
    settings, vault, db
):
    on = settings.model_copy(update={"whatsapp_mode": "cloud"})
    first, key = await received(vault, db, ComplaintChannel.WHATSAPP)
    assert citizens(await planner(on, vault, db).plan(first, NOON)) == [  # the e-mail still goes
        ("complaint_acknowledged", "email")
    ]
    answered = recorded(COMPLAINT, await samples.complaint_answered(vault, key, CODE), version=2)
    assert citizens(await planner(on, vault, db).plan(answered, NOON)) == [("complaint_answered", "email")]
    classified = recorded(COMPLAINT, samples.complaint_classified(CODE), version=3)
    assert citizens(await planner(on, vault, db).plan(classified, NOON)) == [  # WhatsApp sends no such notice
        ("complaint_classified", "email"),
        ("complaint_classified", "sms"),
    ]
    officers = [
        p for p in await planner(on, vault, db).plan(first, NOON) if p.recipient_kind is RecipientKind.OFFICER
    ]
    assert officers  # the officers are still told


def reply_failed(reply: ReplyKind, answer=None) -> ComplaintReplyFailed:
    return ComplaintReplyFailed(
        tracking_code=CODE,
        channel=ComplaintChannel.WHATSAPP,
        reply=reply,
        cause_event_id="5b0e2c52-4a52-4c0e-9f0e-3f8f0a6a1c11",
        failed_at=NOON,
        reason=ReplyFailure.REFUSED,
        attempts=1,
        error_code=131026,
        answer=answer,
    )


@pytest.mark.parametrize("mode", ["cloud", "off"])
async def test_a_receipt_whatsapp_did_not_deliver_goes_by_sms(settings, vault, db, mode):
    on = settings.model_copy(update={"whatsapp_mode": mode})
    await received(vault, db, ComplaintChannel.WHATSAPP)
    failed = recorded(COMPLAINT, reply_failed(ReplyKind.RECEIPT), version=2)
    plans = await planner(on, vault, db).plan(failed, NOON)
    assert citizens(plans) == [("complaint_acknowledged", "sms")]
    text = "".join(Composer(on, Renderer(), invitation_ics).sms(plans[0]).parts)
    assert CODE in text and "pengaduan Anda diterima" in text
    assert plans[0].address == "+6281298765432"


async def test_an_answer_whatsapp_did_not_deliver_goes_by_sms_with_the_answer(settings, vault, db):
    on = settings.model_copy(update={"whatsapp_mode": "cloud"})
    _, key = await received(vault, db, ComplaintChannel.WHATSAPP)
    sealed = await vault.seal(key, "Loket tambahan dibuka mulai Senin.")
    failed = recorded(COMPLAINT, reply_failed(ReplyKind.ANSWER, sealed), version=3)
    [plan] = [
        p
        for p in await planner(on, vault, db).plan(failed, NOON)
        if p.recipient_kind is RecipientKind.CITIZEN
    ]
    assert (plan.notice, plan.channel) == ("complaint_answered", Channel.SMS)
    assert "Loket tambahan dibuka mulai Senin." in "".join(
        Composer(on, Renderer(), invitation_ics).sms(plan).parts
    )


def test_a_subscription_condition_must_name_a_field_of_its_event():
    toml = """[[notice]]
event = "ComplaintReplyFailed"
when = { kind = "answer" }
notice = "complaint_answered"
recipients = ["complainant"]
channels = ["sms"]
"""
    with pytest.raises(subscriptions.SubscriptionError, match="'kind', not a field of ComplaintReplyFailed"):
        subscriptions.parse(toml, TEMPLATES)


def test_a_subscription_condition_must_be_a_value_of_its_fields_enumeration():
    toml = """[[notice]]
event = "ComplaintReplyFailed"
when = { reply = "answers" }
notice = "complaint_answered"
recipients = ["complainant"]
channels = ["sms"]
"""
    with pytest.raises(subscriptions.SubscriptionError, match="'answers' is none of answer, receipt"):
        subscriptions.parse(toml, TEMPLATES)
    assert subscriptions.parse(toml.replace('"answers"', '"answer"'), TEMPLATES)


async def test_without_the_whatsapp_channel_or_a_number_the_notifier_still_sends_them(settings, vault, db):
    first, _ = await received(vault, db, ComplaintChannel.WHATSAPP)
    assert citizens(
        await planner(settings, vault, db).plan(first, NOON)
    ) == [  # channel off: nobody else would
        ("complaint_acknowledged", "email"),
        ("complaint_acknowledged", "sms"),
    ]
    on = settings.model_copy(update={"whatsapp_mode": "cloud"})
    no_number, _ = await received(vault, db, ComplaintChannel.WHATSAPP, complainant_phone=None)
    assert citizens(await planner(on, vault, db).plan(no_number, NOON)) == [
        ("complaint_acknowledged", "email")
    ]
