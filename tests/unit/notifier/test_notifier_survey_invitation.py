"""A survey invitation (SurveyInvited) goes once, by e-mail and SMS, to the case's citizen — the
requester of a held audience, the complainant of a closed complaint — with the survey link; an
anonymous complainant without contact gets nothing, and no officer is told."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from notifier_fakes import project, recorded
from serambi_contracts import AggregateRef
from serambi_contracts.notifier import Channel, RecipientKind
from serambi_contracts.survey import SurveyService
from serambi_notifier.adapters.cases import case_source
from serambi_notifier.adapters.ics import invitation_ics
from serambi_notifier.adapters.rendering import TEMPLATES, Renderer
from serambi_notifier.application.compose import Composer
from serambi_notifier.application.planning import NotProjectedYetError, Planner
from serambi_notifier.domain import subscriptions
from serambi_testing import samples

CODE = "AUD-2026-000031"
COMPLAINT = AggregateRef("complaints", "complaint", "ADU-2026-000031")
NOON = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
LINK = f"http://127.0.0.1:8000/survei/{samples.SURVEY_TOKEN}"


def planner(settings, vault, db) -> Planner:
    return Planner(
        settings, subscriptions.by_event(subscriptions.load(None, TEMPLATES)), vault, case_source(db)
    )


async def invitation(vault, code: str, service: SurveyService):
    return recorded(
        AggregateRef("intake", "survey", code), await samples.survey_invited(vault, code, service)
    )


async def sent(settings, vault, db, event) -> dict[Channel, tuple[str, str]]:
    composer, out = Composer(settings, Renderer(), invitation_ics), {}
    plans = await planner(settings, vault, db).plan(event, NOON)
    assert all(p.recipient_kind is RecipientKind.CITIZEN and p.notice == "survey_invitation" for p in plans)
    for planned in plans:
        if planned.channel is Channel.EMAIL:
            email = await composer.email(planned, NOON)
            out[Channel.EMAIL] = (planned.address, email.text + email.html)
        else:
            out[Channel.SMS] = (planned.address, "".join(composer.sms(planned).parts))
    return out


async def test_a_held_audience_invites_the_requester_by_email_and_sms(settings, vault, db):
    who = await samples.requester(vault)
    project(
        db,
        recorded(AggregateRef("intake", "request", CODE), await samples.request_submitted(vault, CODE, who)),
    )
    out = await sent(settings, vault, db, await invitation(vault, CODE, SurveyService.AUDIENSI))
    assert set(out) == {Channel.EMAIL, Channel.SMS}
    assert out[Channel.EMAIL][0] == "siti@example.go.id" and out[Channel.SMS][0] == "+6281345678901"
    assert LINK in out[Channel.EMAIL][1] and f'<a href="{LINK}">' in out[Channel.EMAIL][1]
    assert LINK in out[Channel.SMS][1]
    assert "Survei Kepuasan Masyarakat" in out[Channel.EMAIL][1]


async def test_a_closed_complaint_invites_the_complainant(settings, vault, db):
    project(db, recorded(COMPLAINT, await samples.complaint_received(vault, COMPLAINT.id)))
    out = await sent(settings, vault, db, await invitation(vault, COMPLAINT.id, SurveyService.PENGADUAN))
    assert out[Channel.EMAIL][0] == "budi@example.com" and out[Channel.SMS][0] == "+6281298765432"
    assert LINK in out[Channel.SMS][1] and "layanan pengaduan" in out[Channel.EMAIL][1]


async def test_an_anonymous_complainant_without_contact_gets_nothing(settings, vault, db):
    project(
        db, recorded(COMPLAINT, await samples.complaint_received(vault, COMPLAINT.id, email=None, phone=None))
    )
    assert (
        await sent(settings, vault, db, await invitation(vault, COMPLAINT.id, SurveyService.PENGADUAN)) == {}
    )


async def test_the_invitation_waits_for_the_case_to_be_projected(settings, vault, db):
    settings.contact_wait_seconds = 0.1
    with pytest.raises(NotProjectedYetError):
        await planner(settings, vault, db).plan(await invitation(vault, CODE, SurveyService.AUDIENSI), NOON)


async def test_the_same_invitation_plans_the_same_deliveries(settings, vault, db):
    who = await samples.requester(vault)
    project(
        db,
        recorded(AggregateRef("intake", "request", CODE), await samples.request_submitted(vault, CODE, who)),
    )
    event = await invitation(vault, CODE, SurveyService.AUDIENSI)
    first = {p.delivery_id for p in await planner(settings, vault, db).plan(event, NOON)}
    again = {p.delivery_id for p in await planner(settings, vault, db).plan(event, NOON)}
    assert first == again and len(first) == 2
