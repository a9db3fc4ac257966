"""The requester's own words reach the requester's messages only: the topic (sealed in
RequestSubmitted / AudienceRequested version 2) and an officer's reason for cancelling (sealed in
AudienceCancelled) are revealed into the requester's notices, never into officers' ones; events
recorded before sealing (topic or reason in clear) still read (issue 19, item 10)."""

from __future__ import annotations

from datetime import UTC, datetime

from notifier_fakes import project, recorded
from serambi_contracts import AggregateRef
from serambi_contracts.intake import RequestSubmittedV1
from serambi_contracts.notifier import Channel, RecipientKind
from serambi_notifier.adapters.cases import case_source
from serambi_notifier.adapters.ics import invitation_ics
from serambi_notifier.adapters.rendering import TEMPLATES, Renderer
from serambi_notifier.application.compose import Composer
from serambi_notifier.application.planning import Planner
from serambi_notifier.domain import subscriptions
from serambi_testing import samples

CODE = "AUD-2026-000017"
NOON = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
REQUEST = AggregateRef("intake", "request", CODE)
AUDIENCE = AggregateRef("scheduling", "audience", CODE)
TOPIC = "Rencana pabrik lada keluarga Lim"


def planner(settings, vault, db) -> Planner:
    return Planner(
        settings, subscriptions.by_event(subscriptions.load(None, TEMPLATES)), vault, case_source(db)
    )


async def emails(settings, vault, db, event) -> dict[RecipientKind, list[str]]:
    out: dict[RecipientKind, list[str]] = {}
    for planned in await planner(settings, vault, db).plan(event, NOON):
        if planned.channel is Channel.EMAIL:
            out.setdefault(planned.recipient_kind, []).append(
                (await Composer(settings, Renderer(), invitation_ics).email(planned, NOON)).text
            )
    return out


async def test_the_sealed_topic_is_revealed_into_the_requesters_acknowledgement(settings, vault, db):
    who = await samples.requester(vault)
    submitted = recorded(REQUEST, await samples.request_submitted(vault, CODE, who, TOPIC))
    assert TOPIC not in submitted.event.model_dump_json()
    [text] = (await emails(settings, vault, db, submitted))[RecipientKind.CITIZEN]
    assert f'"{TOPIC}"' in text


async def test_a_request_recorded_before_sealing_is_acknowledged_with_its_clear_topic(settings, vault, db):
    who = await samples.requester(vault)
    v2 = await samples.request_submitted(vault, CODE, who)
    legacy = RequestSubmittedV1(**{**v2.model_dump(), "topic": TOPIC, "purpose": "Audiensi."}).upcast()
    [text] = (await emails(settings, vault, db, recorded(REQUEST, legacy)))[RecipientKind.CITIZEN]
    assert f'"{TOPIC}"' in text


async def test_an_officers_sealed_reason_for_cancelling_reaches_the_requester_alone(settings, vault, db):
    who = await samples.requester(vault)
    request = recorded(REQUEST, await samples.request_submitted(vault, CODE, who, TOPIC))
    project(db, request)
    project(db, recorded(AUDIENCE, samples.audience_requested(CODE, request.event.topic), version=1))
    project(db, recorded(AUDIENCE, samples.audience_scheduled(CODE), version=2))
    reason = await vault.seal(who.name.key, "Ruang dipakai acara gubernur")
    cancelled = recorded(AUDIENCE, samples.audience_cancelled(CODE, reason=reason), version=3)
    assert "gubernur" not in cancelled.event.model_dump_json()
    [text] = (await emails(settings, vault, db, cancelled))[RecipientKind.CITIZEN]
    assert "Alasan: Ruang dipakai acara gubernur" in text and "cancelled by the bureau" not in text


async def test_officers_sla_notices_carry_no_sealed_topic(settings, vault, db):
    settings.officer_emails = {"scheduler": ["jadwal@kalbarprov.go.id"]}
    who = await samples.requester(vault)
    request = recorded(REQUEST, await samples.request_submitted(vault, CODE, who, TOPIC))
    project(db, request)
    project(db, recorded(AUDIENCE, samples.audience_requested(CODE, request.event.topic), version=1))
    warning = recorded(AUDIENCE, samples.sla_warning(CODE, "audience_answer"), version=2)
    texts = (await emails(settings, vault, db, warning)).get(RecipientKind.OFFICER, [])
    assert texts and all(TOPIC not in text and CODE in text for text in texts)
