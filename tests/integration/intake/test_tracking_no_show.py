"""Intake's request view follows scheduling's AudienceNoShow: the requester's tracking shows the
audience did not take place because they did not come (not "cancelled"), with the missed slot
kept — real nats-server and SecantusDB, either stream first."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from serambi_contracts import AggregateRef
from serambi_contracts.base import Sealed
from serambi_contracts.intake import InstitutionType, IntakeChannel, Requester, RequestSubmitted
from serambi_contracts.scheduling import AudienceNoShow, AudienceRequested, AudienceScheduled
from serambi_intake.adapters.projections import REQUEST_VIEWS, REQUESTS
from serambi_intake.adapters.queries import RequestFilter, status_of
from serambi_kit.eventstore import JetStreamEventStore
from serambi_kit.projections import apply_change

SEALED = Sealed(key="k1", nonce="AAAAAAAAAAAAAAAA", data="AAAA")
SUBMITTED = datetime(2026, 2, 2, 1, 0, tzinfo=UTC)
STARTS = SUBMITTED + timedelta(days=2)


async def recorded_events(nc, code: str) -> tuple[list, list]:
    store = JetStreamEventStore(nc, "/serambi/test")
    request = RequestSubmitted(
        tracking_code=code,
        channel=IntakeChannel.ONLINE,
        requester=Requester(
            name=SEALED,
            position="Kepala Dinas",
            institution="Dinas Koperasi",
            institution_type=InstitutionType.LOCAL_GOVERNMENT,
            email=SEALED,
        ),
        topic=SEALED,
        purpose=SEALED,
        participants=4,
        proposed_dates=[],
        submitted_at=SUBMITTED,
        answer_due_at=SUBMITTED + timedelta(days=3),
        access_token_sha256="0" * 64,
    )
    audience = [
        AudienceRequested(
            audience_id=code,
            request_tracking_code=code,
            topic=request.topic,
            institution="Dinas Koperasi",
            institution_type=InstitutionType.LOCAL_GOVERNMENT,
            requester_position="Kepala Dinas",
            participants=4,
            submitted_at=SUBMITTED,
            answer_due_at=request.answer_due_at,
        ),
        AudienceScheduled(
            audience_id=code,
            request_tracking_code=code,
            starts_at=STARTS,
            ends_at=STARTS + timedelta(hours=1),
            room="Ruang Rapat",
            host="Kepala Biro",
            scheduled_by="scheduling",
        ),
        AudienceNoShow(
            audience_id=code,
            request_tracking_code=code,
            starts_at=STARTS,
            recorded_by="jadwal",
            notes="tidak ada kabar",
        ),
    ]
    refs = AggregateRef("intake", "request", code), AggregateRef("scheduling", "audience", code)
    await store.append(refs[0], [request], expected_sequence=0, expected_version=0)
    await store.append(refs[1], audience, expected_sequence=0, expected_version=0)
    return (await store.load(refs[0])).events, (await store.load(refs[1])).events


@pytest.mark.parametrize("scheduling_first", [False, True])
async def test_the_request_view_shows_a_no_show_as_its_own_outcome_with_the_missed_slot(
    nc, mongo_db, scheduling_first
):
    code = f"AUD-2026-{uuid.uuid4().int % 10**9:09d}"
    intake, scheduling = await recorded_events(nc, code)
    for recorded in [*scheduling, *intake] if scheduling_first else [*intake, *scheduling]:
        await apply_change(mongo_db[REQUESTS], REQUEST_VIEWS.change_for(recorded), recorded)
    document = await mongo_db[REQUESTS].find_one({"_id": code})
    assert status_of(document) == "no_show"
    assert document["schedule"]["starts_at"].replace(tzinfo=UTC) == STARTS
    # (one batch: the audience's events share an instant, so only the set of steps is compared)
    assert sorted(entry["step"] for entry in document["timeline"]) == ["no_show", "scheduled", "submitted"]
    assert "tidak ada kabar" not in str(document)  # the officer's notes are not the requester's view
    assert await mongo_db[REQUESTS].count_documents(RequestFilter(status="no_show").query()) == 1
