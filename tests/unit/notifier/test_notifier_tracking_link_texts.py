"""Citizens' messages link to the portal's tracking pages with their access token in the URL
fragment; "lost your link?" sends that link again; officers never see a token."""

from __future__ import annotations

from datetime import UTC, datetime

from notifier_fakes import project, recorded
from serambi_contracts import AggregateRef
from serambi_contracts.notifier import Channel, RecipientKind
from serambi_notifier.adapters.cases import case_source
from serambi_notifier.adapters.ics import invitation_ics
from serambi_notifier.adapters.rendering import TEMPLATES, Renderer
from serambi_notifier.application.compose import Composer
from serambi_notifier.application.planning import NotProjectedYetError, Planner
from serambi_notifier.domain import subscriptions
from serambi_notifier.settings import NotifierSettings
from serambi_testing import samples

CODE = "AUD-2026-000021"
NOON = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
REQUEST = AggregateRef("intake", "request", CODE)
COMPLAINT = AggregateRef("complaints", "complaint", "ADU-2026-000021")
TOKEN = samples.ACCESS_TOKEN
REQUEST_LINK = f"http://127.0.0.1:8000/lacak/audiensi/{CODE}#t={TOKEN}"
COMPLAINT_LINK = f"http://127.0.0.1:8000/lacak/pengaduan/{COMPLAINT.id}#t={TOKEN}"


def planner(settings, vault, db) -> Planner:
    return Planner(
        settings, subscriptions.by_event(subscriptions.load(None, TEMPLATES)), vault, case_source(db)
    )


async def submitted(vault, sealed_token: bool = True):
    who = await samples.requester(vault)
    token = await vault.seal(who.name.key, TOKEN) if sealed_token else None
    return recorded(REQUEST, await samples.request_submitted(vault, CODE, who, access_token=token))


async def messages(settings, vault, db, event) -> dict[tuple[str, Channel], str]:
    """(notice, channel) → the plain text sent (email text, or the SMS parts joined)."""
    composer, sent = Composer(settings, Renderer(), invitation_ics), {}
    for planned in await planner(settings, vault, db).plan(event, NOON):
        if planned.channel is Channel.EMAIL:
            email = await composer.email(planned, NOON)
            sent[planned.notice, planned.channel] = email.text + email.html
        else:
            sent[planned.notice, planned.channel] = "".join(composer.sms(planned).parts)
    return sent


async def test_the_acknowledgement_links_to_the_portal_page_with_the_token_by_email_and_sms(
    settings, vault, db
):
    sent = await messages(settings, vault, db, await submitted(vault))
    assert REQUEST_LINK in sent["request_acknowledged", Channel.EMAIL]
    assert f'<a href="{REQUEST_LINK}">' in sent["request_acknowledged", Channel.EMAIL]
    assert REQUEST_LINK in sent["request_acknowledged", Channel.SMS]


async def test_a_complaint_acknowledgement_links_to_the_complaint_page_and_the_officer_gets_no_token(
    settings, vault, db
):
    event = recorded(COMPLAINT, await samples.complaint_received(vault, COMPLAINT.id))
    sent = await messages(settings, vault, db, event)
    assert COMPLAINT_LINK in sent["complaint_acknowledged", Channel.EMAIL]
    assert COMPLAINT_LINK in sent["complaint_acknowledged", Channel.SMS]
    assert TOKEN not in sent["complaint_received_officer", Channel.EMAIL]


async def test_lost_link_sends_the_request_link_again_by_email_and_sms(settings, vault, db):
    project(db, await submitted(vault))
    event = recorded(REQUEST, samples.request_link_requested(CODE), version=2)
    plans = await planner(settings, vault, db).plan(event, NOON)
    assert {(p.notice, p.channel, p.recipient_kind) for p in plans} == {
        ("tracking_link", Channel.EMAIL, RecipientKind.CITIZEN),
        ("tracking_link", Channel.SMS, RecipientKind.CITIZEN),
    }
    sent = await messages(settings, vault, db, event)
    assert REQUEST_LINK in sent["tracking_link", Channel.EMAIL]
    assert "permohonan audiensi" in sent["tracking_link", Channel.EMAIL]
    assert REQUEST_LINK in sent["tracking_link", Channel.SMS]


async def test_lost_link_sends_the_complaint_link_again(settings, vault, db):
    project(db, recorded(COMPLAINT, await samples.complaint_received(vault, COMPLAINT.id)))
    event = recorded(COMPLAINT, samples.complaint_link_requested(COMPLAINT.id), version=2)
    sent = await messages(settings, vault, db, event)
    assert set(sent) == {("tracking_link", Channel.EMAIL), ("tracking_link", Channel.SMS)}
    assert (
        COMPLAINT_LINK in sent["tracking_link", Channel.EMAIL]
        and "pengaduan" in sent["tracking_link", Channel.SMS]
    )


async def test_lost_link_waits_for_the_request_to_be_projected(settings, vault, db):
    event = recorded(REQUEST, samples.request_link_requested(CODE), version=2)
    try:
        await planner(settings, vault, db).plan(event, NOON)
    except NotProjectedYetError as exc:
        assert CODE in str(exc)
    else:
        raise AssertionError("planned before the request's contact was known")


async def test_a_case_submitted_without_a_sealed_token_gets_the_page_without_a_fragment(settings, vault, db):
    sent = await messages(settings, vault, db, await submitted(vault, sealed_token=False))
    assert f"http://127.0.0.1:8000/lacak/audiensi/{CODE}" in sent["request_acknowledged", Channel.EMAIL]
    assert "#t=" not in sent["request_acknowledged", Channel.EMAIL]


async def test_the_links_follow_the_public_base_url(vault, db):
    settings = NotifierSettings(
        _env_file=None, public_base_url="https://layanan.example.go.id", contact_wait_seconds=0
    )
    sent = await messages(settings, vault, db, await submitted(vault))
    link = f"https://layanan.example.go.id/lacak/audiensi/{CODE}#t={TOKEN}"
    assert (
        link in sent["request_acknowledged", Channel.EMAIL]
        and link in sent["request_acknowledged", Channel.SMS]
    )
