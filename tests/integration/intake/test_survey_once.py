"""The survey's once-only rules on real nats-server and SecantusDB: a case ending redelivered, or
handled by two replicas at once, records one invitation; an invitation takes one answer, even two
at the same instant; the report counts what the read models hold."""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from datetime import UTC, datetime

import pytest
from serambi_contracts.survey import RespondentProfile, SurveyService
from serambi_intake.adapters.mongo import PAPER_ENTRIES, MongoRequestViews, MongoSurveyRecords
from serambi_intake.adapters.projections import (
    REQUESTS,
    SURVEY_INVITATIONS,
    SURVEY_INVITATIONS_COLLECTION,
    SURVEY_RESPONSES,
)
from serambi_intake.adapters.queries import survey_report
from serambi_intake.application import surveys
from serambi_kit.eventstore import JetStreamEventStore
from serambi_kit.pii import Vault
from serambi_kit.projections import apply_change

NOW = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)  # 10:00 WIB
ALL_FOUR = {f"U{n}": 4 for n in range(1, 10)}


@pytest.fixture
def vault(mongo_db) -> Vault:
    return Vault(mongo_db, os.urandom(32), cache_seconds=0)


async def project(store, mongo_db, ref, projection) -> None:
    for recorded in (await store.load(ref)).events:
        await apply_change(mongo_db[projection.collection], projection.change_for(recorded), recorded)


async def test_a_case_is_invited_once_however_often_its_ending_arrives(nc, mongo_db, vault):
    store = JetStreamEventStore(nc, "/serambi/test")
    code = f"ADU-2026-{uuid.uuid4().int % 10**9:09d}"
    first = await asyncio.gather(
        *(surveys.invite(store, vault, SurveyService.PENGADUAN, code, NOW, now=NOW) for _ in range(8))
    )  # replicas racing
    again = await surveys.invite(store, vault, SurveyService.PENGADUAN, code, NOW, now=NOW)  # redelivered
    assert sorted(first) == [False] * 7 + [True] and again is False
    assert len((await store.load(surveys.invitation_ref(code))).payloads) == 1


async def test_an_invitation_takes_one_answer_and_the_report_counts_it(nc, mongo_db, vault):
    store = JetStreamEventStore(nc, "/serambi/test")
    code = f"AUD-2026-{uuid.uuid4().int % 10**9:09d}"
    assert await surveys.invite(store, vault, SurveyService.AUDIENSI, code, NOW, now=NOW)
    await project(store, mongo_db, surveys.invitation_ref(code), SURVEY_INVITATIONS)
    invitation = await mongo_db[SURVEY_INVITATIONS_COLLECTION].find_one({"_id": code})
    assert invitation["month"] == "2026-03" and "token" not in invitation  # intake keeps no token
    [event] = (await store.load(surveys.invitation_ref(code))).payloads
    token = await vault.reveal(event.token)  # the notifier's link
    assert token and hashlib.sha256(token.encode()).hexdigest() not in event.model_dump_json()
    assert invitation["token_hmac"] == event.token_hmac != hashlib.sha256(token.encode()).hexdigest()

    scores = {**ALL_FOUR, "U3": 2}
    results = await asyncio.gather(
        *(
            surveys.answer_online(
                store, MongoSurveyRecords(mongo_db), vault, token, scores, RespondentProfile(), None, NOW
            )
            for _ in range(2)
        ),
        return_exceptions=True,
    )
    assert sum(isinstance(r, surveys.AlreadyAnsweredError) for r in results) == 1
    # a paper questionnaire never takes the invitation: it stands alone, and says who typed it
    paper = await surveys.answer_on_paper(
        store,
        MongoSurveyRecords(mongo_db),
        SurveyService.AUDIENSI,
        "petugas-meja-1",
        ALL_FOUR,
        RespondentProfile(),
        None,
        NOW,
    )
    assert paper.response_id.startswith("P") and "petugas-meja-1" not in paper.model_dump_json()
    entry = await mongo_db[PAPER_ENTRIES].find_one({"_id": paper.response_id})
    assert entry["officer"] == "petugas-meja-1"
    with pytest.raises(surveys.NoInvitationError):
        await surveys.answer_online(
            store, MongoSurveyRecords(mongo_db), vault, "y" * 43, scores, RespondentProfile(), None, NOW
        )

    answered = next(r for r in results if not isinstance(r, Exception))
    assert code not in answered.response_id and token not in answered.model_dump_json()
    # the answer's id is keyed: the token alone does not give it
    unkeyed = hashlib.sha256(b"serambi-survey-response:" + token.encode()).hexdigest()[:40]
    assert answered.response_id == surveys.response_id_for(vault, token) != "R" + unkeyed
    assert answered.response_id != surveys.response_id_for(Vault(mongo_db, os.urandom(32)), token)
    await project(store, mongo_db, surveys.response_ref(answered.response_id), SURVEY_RESPONSES)
    report = await survey_report(mongo_db, SurveyService.AUDIENSI, "2026-S1")
    assert report["population"] == 1 and report["respondents"] == 1 and report["sample_size"] == 1
    # one respondent: the figures would be that person's answers — withheld
    assert report["withheld"] and "tanpa mengenali orangnya" in report["withheld_reason"]
    assert report["ikm"] is None and report["priorities"] == [] and report["suggestions"] == []
    assert report["profile"] == {} and {e["nrr"] for e in report["elements"]} == {None}


async def test_the_report_shows_figures_from_five_respondents_and_withholds_them_below(nc, mongo_db, vault):
    store = JetStreamEventStore(nc, "/serambi/test")
    period = "2025-11"  # a month of its own in this database
    when = datetime(2025, 11, 12, 3, 0, tzinfo=UTC)
    for number in range(5):
        code = f"AUD-2025-{uuid.uuid4().int % 10**9:09d}"
        assert await surveys.invite(store, vault, SurveyService.AUDIENSI, code, when, now=when)
        await project(store, mongo_db, surveys.invitation_ref(code), SURVEY_INVITATIONS)
        [event] = (await store.load(surveys.invitation_ref(code))).payloads
        token = await vault.reveal(event.token)
        scores = {**ALL_FOUR, "U3": 2} if number == 0 else ALL_FOUR
        answered = await surveys.answer_online(
            store,
            MongoSurveyRecords(mongo_db),
            vault,
            token,
            scores,
            RespondentProfile(sex="perempuan"),
            f"Saran {number}",
            when,
        )
        await project(store, mongo_db, surveys.response_ref(answered.response_id), SURVEY_RESPONSES)
        report = await survey_report(mongo_db, SurveyService.AUDIENSI, period)
        assert report["respondents"] == number + 1 and report["withheld"] is (number < 4)
        assert (report["ikm"] is None) is (number < 4) and bool(report["suggestions"]) is (number == 4)
    # U3: (2 + 4 × 4) / 5 = 3.6; Σ NRR = 8 × 4 + 3.6 = 35.6; IKM = 35.6 / 9 × 25 = 98.888… → 98.89, A
    assert report["ikm"] == 98.89 and report["category"] == "A" and report["priorities"] == ["U3"]
    assert report["profile"] == {"sex": {"perempuan": 5}} and len(report["suggestions"]) == 5
    assert (await survey_report(mongo_db, SurveyService.PENGADUAN, "2026-S1"))["respondents"] == 0


async def test_a_case_ended_long_ago_is_not_invited_and_the_invitation_keeps_the_ending_time(
    nc, mongo_db, vault
):
    """A consumer deployed for the first time reads its stream from the start: an audience held
    or a complaint closed in 2024 is not invited; a recent one is, at its own ending's time."""
    store = JetStreamEventStore(nc, "/serambi/test")
    today = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
    for service, prefix in ((SurveyService.AUDIENSI, "AUD"), (SurveyService.PENGADUAN, "ADU")):
        old = f"{prefix}-2024-{uuid.uuid4().int % 10**9:09d}"
        ended = datetime(2024, 5, 2, 2, 0, tzinfo=UTC)
        assert await surveys.invite(store, vault, service, old, ended, now=today) is False
        assert not (await store.load(surveys.invitation_ref(old))).payloads

    recent = f"ADU-2026-{uuid.uuid4().int % 10**9:09d}"
    ended = datetime(2026, 12, 3, 16, 30, tzinfo=UTC)  # 4 December, 00:30 WIB
    assert await surveys.invite(store, vault, SurveyService.PENGADUAN, recent, ended, now=today)
    [invitation] = (await store.load(surveys.invitation_ref(recent))).payloads
    assert invitation.invited_at == ended


async def test_erasing_the_requester_shreds_the_survey_token(nc, mongo_db, vault):
    """The token's data key is found with the requester's: their erasure makes it unreadable."""
    store = JetStreamEventStore(nc, "/serambi/test")
    code = f"AUD-2026-{uuid.uuid4().int % 10**9:09d}"
    email = f"rina.{uuid.uuid4().hex[:8]}@example.go.id"
    requester_key = await vault.new_subject([email])
    name = await vault.seal(requester_key, "Rina")
    await mongo_db[REQUESTS].insert_one(
        {"_id": code, "requester": {"name": name.model_dump(), "institution": "X"}}
    )
    assert await MongoRequestViews(mongo_db).subject_keys(code) == [requester_key]
    assert await surveys.invite(
        store,
        vault,
        SurveyService.AUDIENSI,
        code,
        NOW,
        now=NOW,
        found_with=await MongoRequestViews(mongo_db).subject_keys(code),
    )
    [event] = (await store.load(surveys.invitation_ref(code))).payloads
    assert await vault.reveal(event.token)
    erased = await vault.erase_person(email)
    assert event.token.key in erased and await vault.reveal(event.token) is None
