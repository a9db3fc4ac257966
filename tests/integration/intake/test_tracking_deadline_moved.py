"""Intake's tracking view follows scheduling's AudienceDeadlineMoved (a calendar revision moved the
answer deadline), whichever of the two streams lands first — real nats-server and SecantusDB."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from serambi_contracts import AggregateRef
from serambi_contracts.base import Sealed
from serambi_contracts.intake import InstitutionType, IntakeChannel, Requester, RequestSubmitted
from serambi_contracts.scheduling import AudienceDeadlineMoved, AudienceRequested
from serambi_intake.adapters.projections import REQUEST_VIEWS, REQUESTS
from serambi_intake.adapters.queries import answer_due_of
from serambi_kit.eventstore import JetStreamEventStore
from serambi_kit.projections import apply_change

SEALED = Sealed(key="k1", nonce="AAAAAAAAAAAAAAAA", data="AAAA")
SUBMITTED = datetime(2026, 2, 2, 1, 0, tzinfo=UTC)
TOLD = SUBMITTED + timedelta(days=3, hours=8)
MOVED = TOLD + timedelta(days=1)


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
        answer_due_at=TOLD,
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
            answer_due_at=TOLD,
        ),
        AudienceDeadlineMoved(
            audience_id=code,
            request_tracking_code=code,
            clock="audience_answer",
            previous_due_at=TOLD,
            due_at=MOVED,
            calendar_revision="overrides.toml v2",
        ),
    ]
    refs = AggregateRef("intake", "request", code), AggregateRef("scheduling", "audience", code)
    await store.append(refs[0], [request], expected_sequence=0, expected_version=0)
    await store.append(refs[1], audience, expected_sequence=0, expected_version=0)
    return (await store.load(refs[0])).events, (await store.load(refs[1])).events


@pytest.mark.parametrize("scheduling_first", [False, True])
async def test_the_tracking_view_shows_the_moved_deadline_whichever_stream_lands_first(
    nc, mongo_db, scheduling_first
):
    code = f"AUD-2026-{uuid.uuid4().int % 10**9:09d}"
    intake, scheduling = await recorded_events(nc, code)
    for recorded in [*scheduling, *intake] if scheduling_first else [*intake, *scheduling]:
        await apply_change(mongo_db[REQUESTS], REQUEST_VIEWS.change_for(recorded), recorded)
    document = await mongo_db[REQUESTS].find_one({"_id": code})
    assert document["answer_due_at"].replace(tzinfo=UTC) == TOLD  # what the requester was told
    assert answer_due_of(document).replace(tzinfo=UTC) == MOVED
    [step] = [entry for entry in document["timeline"] if entry["step"] == "deadline_moved"]
    assert step["due_at"].replace(tzinfo=UTC) == MOVED


async def test_the_request_document_does_not_depend_on_which_stream_lands_first(nc, mongo_db):
    """The fault suite's rebuild check once failed on exactly this: after an outage the audience's
    events landed first, and the timeline kept their arrival order instead of the order of time."""
    code = f"AUD-2026-{uuid.uuid4().int % 10**9:09d}"
    intake, scheduling = await recorded_events(nc, code)
    documents = []
    for name, order in (("in_order", [*intake, *scheduling]), ("reversed", [*scheduling, *intake])):
        for recorded in order:
            await apply_change(mongo_db[name], REQUEST_VIEWS.change_for(recorded), recorded)
        # _sequence is bookkeeping (the last stream sequence applied, whichever stream), as in the
        # fault suite's comparison; every business field and the per-source versions must agree
        documents.append(await mongo_db[name].find_one({"_id": code}, {"_sequence": 0}))
    assert documents[0] == documents[1]
    assert [entry["step"] for entry in documents[1]["timeline"]] == ["submitted", "deadline_moved"]


def stamped(recorded, at: datetime, version: int | None = None):
    """``recorded`` as if stored at ``at`` (as version ``version`` of its aggregate)."""
    envelope = dataclasses.replace(recorded.envelope, time=at, aggregateversion=version or recorded.version)
    return dataclasses.replace(recorded, envelope=envelope)


@pytest.mark.parametrize("scheduling_first", [False, True])
async def test_events_of_one_millisecond_keep_their_order_of_time_not_of_their_names(
    nc, mongo_db, scheduling_first
):
    """MongoDB keeps a time to the millisecond, so events of one millisecond tie on ``at``; they
    were then ordered by their steps' names ("deadline_moved" before "submitted"). Here the request
    was submitted 0.4 ms before the deadline moved, and the deadline moved again at that very
    instant (appended together): the first by its time, the second by its version."""
    code = f"AUD-2026-{uuid.uuid4().int % 10**9:09d}"
    intake, scheduling = await recorded_events(nc, code)
    submitted = datetime(2026, 2, 2, 1, 0, 0, 100, tzinfo=UTC)
    moved = submitted + timedelta(microseconds=400)
    again = scheduling[-1].event.model_copy(
        update={"previous_due_at": MOVED, "due_at": MOVED + timedelta(days=1)}
    )
    intake = [stamped(intake[0], submitted)]
    scheduling = [stamped(recorded, moved) for recorded in scheduling]
    again_recorded = dataclasses.replace(scheduling[-1], event=again, sequence=scheduling[-1].sequence + 1)
    scheduling.append(stamped(again_recorded, moved, version=3))
    for recorded in [*scheduling, *intake] if scheduling_first else [*intake, *scheduling]:
        await apply_change(mongo_db[REQUESTS], REQUEST_VIEWS.change_for(recorded), recorded)
    document = await mongo_db[REQUESTS].find_one({"_id": code})
    timeline = document["timeline"]
    assert len({entry["at"] for entry in timeline}) == 1  # one millisecond for MongoDB
    assert [entry["step"] for entry in timeline] == ["submitted", "deadline_moved", "deadline_moved"]
    assert [entry["due_at"].replace(tzinfo=UTC) for entry in timeline[1:]] == [
        MOVED,
        MOVED + timedelta(days=1),
    ]
