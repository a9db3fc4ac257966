"""The satisfaction survey through a real intake process on its own nats-server and SecantusDB:
one invitation per case however often its ending arrives (AudienceHeld redelivered to a consumer
recreated from the start; ComplaintClosed recorded twice after a reopening), one answer per
invitation (409 in Indonesian the second time), a paper questionnaire, and the report's figures;
the answer's event names neither the case nor its token."""

from __future__ import annotations

import asyncio
import io
import json
import time
import uuid
from datetime import UTC, datetime

import httpx
import nats
import pytest
from nats.js.errors import NotFoundError
from openpyxl import load_workbook
from serambi_contracts import AggregateRef
from serambi_contracts.complaints import ComplaintClosed, ComplaintReopened, DisputeSource
from serambi_contracts.scheduling import AudienceHeld
from serambi_contracts.survey import SurveyAnswered, SurveyInvited
from serambi_kit.auth import issue_dev_token
from serambi_kit.eventstore import JetStreamEventStore, read_raw, read_stream
from serambi_kit.mongo import database
from serambi_kit.pii import Vault, parse_master_key
from serambi_kit.settings import DEV_PII_MASTER_KEY, ServiceSettings

pytestmark = pytest.mark.slow

NOW = datetime.now(UTC)
SEALED = {"key": "k1", "nonce": "AAAAAAAAAAAAAAAA", "data": "AAAA"}
ALL_FOUR = {f"U{n}": 4 for n in range(1, 10)}


@pytest.fixture(scope="module")
def intake(tmp_path_factory, stack_of):
    with stack_of(tmp_path_factory.mktemp("survey"), ("intake",)) as running:
        yield running


def officer(*roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_dev_token(ServiceSettings(), list(roles))}"}


async def append(stack, ref: AggregateRef, events: list) -> None:
    nc = await nats.connect(stack.env["SERAMBI_NATS_URL"])
    try:
        store = JetStreamEventStore(nc, "/serambi/test")
        history = await store.load(ref)
        await store.append(
            ref, events, expected_sequence=history.last_sequence, expected_version=history.version
        )
    finally:
        await nc.drain()


async def invitations(stack, code: str) -> list[SurveyInvited]:
    nc = await nats.connect(stack.env["SERAMBI_NATS_URL"])
    try:
        return [r.event async for r in read_stream(nc, "INTAKE", f"intake.survey.{code}.*")]
    finally:
        await nc.drain()


async def answers_raw(stack) -> list[tuple[str, bytes]]:
    nc = await nats.connect(stack.env["SERAMBI_NATS_URL"])
    try:
        return [
            (json.dumps(headers), body) async for headers, body in read_raw(nc, "INTAKE", "intake.response.>")
        ]
    finally:
        await nc.drain()


async def delete_consumer(stack, stream: str, durable: str) -> None:
    nc = await nats.connect(stack.env["SERAMBI_NATS_URL"])
    try:
        await nc.jetstream().delete_consumer(stream, durable)
    finally:
        await nc.drain()


async def reveal_token(stack, invitation: SurveyInvited) -> str:
    from pymongo import AsyncMongoClient

    client = AsyncMongoClient(stack.env["SERAMBI_MONGO_URL"])
    try:
        vault = Vault(database(client, "serambi_vault"), parse_master_key(DEV_PII_MASTER_KEY))
        token = await vault.reveal(invitation.token)
        assert token
        return token
    finally:
        await client.close()


async def caught_up(stack, stream: str, durable: str) -> bool:
    """The consumer exists and has handled (acked) everything in its stream."""
    nc = await nats.connect(stack.env["SERAMBI_NATS_URL"])
    try:
        info = await nc.jetstream().consumer_info(stream, durable)
        return info.num_pending == 0 and info.num_ack_pending == 0 and info.delivered.stream_seq > 0
    except NotFoundError:
        return False
    finally:
        await nc.drain()


def wait_for(check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)


def survey(stack, token: str) -> httpx.Response:
    return httpx.get(f"{stack.urls['intake']}/api/v1/survey", headers={"X-Survey-Token": token})


def answer(stack, token: str, body: dict) -> httpx.Response:
    return httpx.post(f"{stack.urls['intake']}/api/v1/survey", headers={"X-Survey-Token": token}, json=body)


def test_one_invitation_per_case_one_answer_per_invitation_and_the_report(intake):
    audience_code = f"AUD-2026-{uuid.uuid4().int % 10**6:06d}"
    complaint_code = f"ADU-2026-{uuid.uuid4().int % 10**6:06d}"
    held = AudienceHeld(
        audience_id=audience_code, request_tracking_code=audience_code, held_at=NOW, recorded_by="penjadwal"
    )
    asyncio.run(append(intake, AggregateRef("scheduling", "audience", audience_code), [held]))
    closed = ComplaintClosed(tracking_code=complaint_code, closed_at=NOW, closed_by="officer-1")
    complaint = AggregateRef("complaints", "complaint", complaint_code)
    asyncio.run(append(intake, complaint, [closed]))
    wait_for(lambda: asyncio.run(invitations(intake, audience_code)))
    wait_for(lambda: asyncio.run(invitations(intake, complaint_code)))

    # AudienceHeld delivered again (the consumer recreated from the stream's start), the
    # complaint reopened and closed again: still one invitation each
    asyncio.run(delete_consumer(intake, "SCHEDULING", "intake-survey-audiences"))
    intake.restart("intake")
    reopened = ComplaintReopened.model_validate(
        {
            "tracking_code": complaint_code,
            "reopened_at": NOW,
            "reason": SEALED,
            "source": DisputeSource.COMPLAINANT.value,
            "round": 2,
        }
    )
    asyncio.run(append(intake, complaint, [reopened, closed]))
    # endings of 2024 (a first deployment reads the streams from the start): not invited
    old_audience, old_complaint = (
        f"AUD-2024-{uuid.uuid4().int % 10**6:06d}",
        f"ADU-2024-{uuid.uuid4().int % 10**6:06d}",
    )
    long_ago = datetime(2024, 5, 2, 2, 0, tzinfo=UTC)
    asyncio.run(
        append(
            intake,
            AggregateRef("scheduling", "audience", old_audience),
            [
                AudienceHeld(
                    audience_id=old_audience,
                    request_tracking_code=old_audience,
                    held_at=long_ago,
                    recorded_by="penjadwal",
                )
            ],
        )
    )
    asyncio.run(
        append(
            intake,
            AggregateRef("complaints", "complaint", old_complaint),
            [ComplaintClosed(tracking_code=old_complaint, closed_at=long_ago, closed_by="officer-1")],
        )
    )
    wait_for(lambda: asyncio.run(caught_up(intake, "SCHEDULING", "intake-survey-audiences")))
    wait_for(lambda: asyncio.run(caught_up(intake, "COMPLAINTS", "intake-survey-complaints")))
    assert not asyncio.run(invitations(intake, old_audience))
    assert not asyncio.run(invitations(intake, old_complaint))
    [audience_invitation] = asyncio.run(invitations(intake, audience_code))
    [complaint_invitation] = asyncio.run(invitations(intake, complaint_code))
    assert audience_invitation.service == "audiensi" and complaint_invitation.service == "pengaduan"

    token = asyncio.run(reveal_token(intake, audience_invitation))
    opened = wait_for(lambda: (r := survey(intake, token)).status_code == 200 and r)
    assert opened.json()["service"] == "audiensi" and opened.json()["answered"] is False
    assert len(opened.json()["elements"]) == 9

    body = {
        "scores": {**ALL_FOUR, "U3": 2, "U8": 3},
        "profile": {"age_band": "30_39", "sex": "perempuan", "education": "s1", "occupation": "pns"},
        "suggestion": "Mohon dipercepat. Hubungi saya di siti@example.go.id atau 081345678901.",
    }
    first = answer(intake, token, body)
    assert first.status_code == 201, first.text
    again = answer(intake, token, {"scores": ALL_FOUR})
    assert again.status_code == 409
    assert again.json()["errors"][0]["message"].startswith("Survei untuk layanan ini sudah diisi")
    assert survey(intake, token).json()["answered"] is True
    assert survey(intake, token).json()["message"].startswith("Survei untuk layanan ini sudah diisi")
    assert survey(intake, "x" * 43).status_code == 404
    assert answer(intake, "x" * 43, {"scores": ALL_FOUR}).status_code == 404
    bad = answer(intake, token, {"scores": {**ALL_FOUR, "U4": 5}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "scores"
    truthy = answer(intake, token, {"scores": {**ALL_FOUR, "U4": True}})
    assert truthy.status_code == 422 and truthy.json()["errors"][0]["field"].startswith("scores")
    # a survey answer is small: 16 KiB at most (SERAMBI_MAX_SURVEY_BYTES)
    assert answer(intake, token, {"scores": ALL_FOUR, "suggestion": "x" * 20_000}).status_code == 413

    # a paper questionnaire is the service's, never a case's: a case code is refused (the desk
    # can neither answer nor block a citizen's survey, nor learn whether one answered)
    url = f"{intake.urls['intake']}/api/v1/officer/survey/paper"
    coded = {"case_code": complaint_code, "service": "pengaduan", "scores": {**ALL_FOUR, "U1": 3}}
    assert httpx.post(url, json=coded, headers=officer("desk")).status_code == 422
    loose = {"service": "audiensi", "scores": {**ALL_FOUR, "U3": 3}}
    assert httpx.post(url, json=loose, headers=officer("desk")).status_code == 201
    complaint_token = asyncio.run(reveal_token(intake, complaint_invitation))
    assert answer(intake, complaint_token, {"scores": ALL_FOUR}).status_code == 201
    assert httpx.post(url, json={"scores": ALL_FOUR}, headers=officer("desk")).status_code == 422
    assert httpx.post(url, json=loose, headers=officer("supervisor")).status_code == 403

    # the answers name neither case nor token; the suggestion lost the e-mail and phone
    raw = asyncio.run(answers_raw(intake))
    assert len(raw) == 3
    for headers, data in raw:
        for secret in (audience_code, complaint_code, token, complaint_token, "siti@example", "081345678901"):
            assert secret not in headers and secret not in data.decode()
    online = next(json.loads(data) for _, data in raw if json.loads(data)["channel"] == "online")
    assert "[redacted-email]" in online["suggestion"] and "[redacted-phone]" in online["suggestion"]
    assert SurveyAnswered.model_validate(online).service == "audiensi"

    # the report: audiensi this month — 2 respondents of a population of 1 invited case
    period = NOW.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Pontianak")).strftime("%Y-%m")
    report_url = f"{intake.urls['intake']}/api/v1/officer/survey/report"

    def figures():
        r = httpx.get(
            report_url, params={"service": "audiensi", "period": period}, headers=officer("supervisor")
        )
        return r.json() if r.status_code == 200 and r.json()["respondents"] == 2 else None

    report = wait_for(figures)
    assert report["population"] == 1 and report["sample_size"] == 1
    nrr = {e["code"]: e["nrr"] for e in report["elements"]}
    # two respondents: their figures would be their own answers — withheld (figures from five on:
    # tests/integration/intake/test_survey_once.py)
    assert set(nrr.values()) == {None} and report["ikm"] is None and report["withheld"] is True
    assert report["priorities"] == [] and report["suggestions"] == [] and report["profile"] == {}
    # the files withhold the same: counts, no figures, no profile, no suggestion
    xlsx = httpx.get(
        report_url,
        params={"service": "audiensi", "period": period, "format": "xlsx"},
        headers=officer("supervisor"),
    )
    assert xlsx.status_code == 200 and f"survei-audiensi-{period}.xlsx" in xlsx.headers["content-disposition"]
    book = load_workbook(io.BytesIO(xlsx.content))
    summary = list(book["Ringkasan SKM"].iter_rows(values_only=True))[1]
    assert summary[2:6] == (2, 1, 1, None) and "kurang dari 5 responden" in summary[8]
    assert all(
        row[2:] == (None, None, None)
        for row in book["Nilai per unsur"].iter_rows(min_row=2, values_only=True)
    )
    assert book["Profil responden"].max_row == 1 and book["Saran dan masukan"].max_row == 1
    csv = httpx.get(
        report_url,
        params={"service": "audiensi", "period": period, "format": "csv", "table": "saran"},
        headers=officer("supervisor"),
    )
    assert csv.status_code == 200 and csv.content == "\ufeffSaran\r\n".encode()
    assert (
        httpx.get(
            report_url,
            params={"service": "audiensi", "period": period, "format": "xlsx", "table": "saran"},
            headers=officer("supervisor"),
        ).status_code
        == 422
    )
    assert (
        httpx.get(
            report_url, params={"service": "audiensi", "period": period}, headers=officer("desk")
        ).status_code
        == 403
    )
    assert (
        httpx.get(
            report_url, params={"service": "audiensi", "period": "2026-13"}, headers=officer("supervisor")
        ).status_code
        == 422
    )
