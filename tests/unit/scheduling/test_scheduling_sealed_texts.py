"""Free text about a requester's case never travels in clear in scheduling's events (issue 19,
item 10): the request's topic is copied sealed, an officer's notes on a held or missed meeting
and their reason for cancelling are sealed under the requester's data key; the answer letter
reveals the topic (and leaves it out once the requester was erased)."""

from __future__ import annotations

from datetime import timedelta

from scheduling_support import make_context, submitted, with_resources
from serambi_contracts import AggregateRef
from serambi_contracts.base import Sealed
from serambi_contracts.intake import RequestSubmittedV1
from serambi_contracts.scheduling import AudienceRequestedV1
from serambi_kit.eventstore import execute
from serambi_kit.state import KitState, install
from serambi_scheduling.application import commands, placement
from serambi_scheduling.application.commands import SlotChoice
from serambi_scheduling.domain.audience import Status
from test_scheduling_letters_settings import text_of

TOPIC, NOTES, WHY = (
    "Hilirisasi produk lada",
    "Pemohon membawa proposal; kontak Yohanes 081234567890",
    "Agenda pimpinan berubah",
)


def events(ctx, name: str, code: str = "AUD-2026-000001") -> list:
    return [r.event for r in ctx.store.log if type(r.event).__name__ == name and r.ref.id == code]


def clear_texts(ctx) -> str:
    """Every event scheduling appended, as it would be published."""
    return "\n".join(r.event.model_dump_json() for r in ctx.store.log)


async def scheduled(ctx, code: str = "AUD-2026-000001"):
    await with_resources(ctx)
    await commands.open_request(ctx, submitted(code, calendar=ctx.calendar), f"cause-{code}")
    return await commands.place_automatically(ctx, code, f"cause-{code}")


async def test_the_topic_is_copied_sealed_and_revealed_only_into_the_answer_letter(calendar):
    ctx = make_context(calendar)
    state = await scheduled(ctx)
    [requested] = events(ctx, "AudienceRequested")
    assert isinstance(requested.topic, Sealed) and requested.topic.key == "k1"  # the requester's key
    assert TOPIC not in clear_texts(ctx)
    assert f'perihal "{TOPIC}"' in text_of(ctx.letters.stored[state.letter.document_id])
    assert ctx.letters.keys[state.letter.document_id] == "k1"  # the letter is sealed under it too


async def test_notes_on_a_held_meeting_are_sealed_under_the_requesters_key(calendar):
    ctx = make_context(calendar)
    state = await scheduled(ctx)
    ctx.now.now = state.placement.ends_at
    await commands.mark_held(ctx, state.audience_id, "jadwal", None, NOTES)
    [held] = events(ctx, "AudienceHeld")
    assert held.notes is None and held.notes_sealed.key == "k1"
    assert await ctx.vault.reveal(held.notes_sealed) == NOTES
    assert "Yohanes" not in clear_texts(ctx) and "081234567890" not in clear_texts(ctx)


async def test_an_officers_reason_for_cancelling_is_sealed_and_the_public_reason_says_only_who(calendar):
    ctx = make_context(calendar)
    state = await scheduled(ctx)
    cancelled = await commands.cancel(ctx, state.audience_id, WHY, "jadwal")
    assert cancelled.status is Status.CANCELLED
    [event] = events(ctx, "AudienceCancelled")
    assert event.reason == "cancelled by the bureau" and not event.withdrawn
    assert await ctx.vault.reveal(event.reason_sealed) == WHY
    assert WHY not in clear_texts(ctx)  # nor in SlotReleased's reason


async def test_a_request_recorded_before_sealing_gets_its_topic_sealed_when_scheduling_copies_it(calendar):
    ctx = make_context(calendar)
    await with_resources(ctx)
    v2 = submitted("AUD-2026-000001", calendar=ctx.calendar)
    legacy = RequestSubmittedV1(**{**v2.model_dump(), "topic": TOPIC, "purpose": "Audiensi."}).upcast()
    assert legacy.topic == TOPIC  # version 1 read as version 2: the clear text it recorded
    await commands.open_request(ctx, legacy, "cause-1")
    [requested] = events(ctx, "AudienceRequested")
    assert requested.topic.key == v2.requester.name.key and await ctx.vault.reveal(requested.topic) == TOPIC


async def test_an_audience_opened_before_sealing_seals_notes_with_the_key_of_intakes_request(calendar):
    ctx = make_context(calendar)
    await with_resources(ctx)
    code = "AUD-2026-000001"
    request = submitted(code, calendar=ctx.calendar)
    await execute(ctx.store, AggregateRef("intake", "request", code), lambda history: [request])
    old = AudienceRequestedV1(
        audience_id=code,
        request_tracking_code=code,
        topic=TOPIC,
        institution="Dinas",
        institution_type="local_government",
        requester_position="Kepala",
        participants=2,
        submitted_at=request.submitted_at,
        answer_due_at=request.answer_due_at,
    ).upcast()
    await execute(ctx.store, placement.audience_ref(code), lambda history: [old])
    slot = SlotChoice("R1", "H1", request.submitted_at + timedelta(days=1, hours=2))  # Tuesday 10:00 WIB
    state = await commands.choose_slot(ctx, code, slot, "jadwal")
    assert f'perihal "{TOPIC}"' in text_of(ctx.letters.stored[state.letter.document_id])  # clear, as recorded
    assert ctx.letters.keys[state.letter.document_id] == request.requester.name.key  # intake's request's key
    ctx.now.now = state.placement.starts_at
    await commands.mark_no_show(ctx, code, "jadwal", NOTES)
    [missed] = events(ctx, "AudienceNoShow")
    assert missed.notes is None and missed.notes_sealed.key == request.requester.name.key


async def test_an_answer_letter_for_an_erased_requester_leaves_the_topic_out(calendar):
    ctx = make_context(calendar, mode="hold")
    await scheduled(ctx)
    ctx.vault.erased.add("k1")
    declined = await commands.decline(ctx, "AUD-2026-000001", "pimpinan dinas luar", "jadwal")
    text = text_of(ctx.letters.stored[declined.letter.document_id])
    assert "perihal" not in text and TOPIC not in text and "pimpinan dinas luar" in text


async def test_a_decline_or_reschedule_reason_holding_a_contact_or_nik_is_refused_naming_the_field(ctx):
    import httpx
    from fastapi import FastAPI
    from serambi_kit.auth import TokenVerifier, issue_dev_token
    from serambi_kit.settings import ServiceSettings
    from serambi_scheduling.api import audiences, common

    app = FastAPI()
    app.include_router(audiences.router)
    common.install_error_handlers(app)
    app.state.scheduling = ctx
    install(app, KitState(ServiceSettings(), token_verifier=TokenVerifier(ServiceSettings())))
    state = await scheduled(ctx)
    headers = {
        "Authorization": f"Bearer {issue_dev_token(ServiceSettings(), ['scheduler'], subject='jadwal')}"
    }
    path = f"/api/v1/audiences/{state.audience_id}"
    slot = {
        "room_id": "R1",
        "host_id": "H1",
        "starts_at": (state.placement.starts_at + timedelta(hours=2)).isoformat(),
    }
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://scheduling"
    ) as client:
        for step, body in (("decline", {}), ("reschedule", slot)):
            for words in ("hubungi 0812-3456-7890", "tulis ke yohanes@example.id", "NIK 6171015505880003"):
                refused = await client.post(f"{path}/{step}", json={**body, "reason": words}, headers=headers)
                assert refused.status_code == 422 and refused.json()["detail"][0]["loc"][-1] == "reason", (
                    words
                )
        cancelled = await client.post(
            f"{path}/cancel", json={"reason": "hubungi 0812-3456-7890"}, headers=headers
        )
    assert cancelled.status_code == 200  # a cancellation's reason is sealed: nothing to refuse
    assert "0812-3456-7890" not in clear_texts(ctx)
