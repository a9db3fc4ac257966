"""Idempotency-Key on real JetStream and SecantusDB: a holder that dies (kill -9) between
claiming a key and completing it leaves a lease; a retry after it takes the key over and gets
an answer, and one RequestSubmitted is stored whatever the moment of the death."""

from __future__ import annotations

import asyncio
import os
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import HTTPException
from nats.errors import TimeoutError as NatsTimeoutError
from serambi_contracts.intake import InstitutionType, IntakeChannel, RequestSubmitted
from serambi_intake.adapters.mongo import MongoRequestViews, MongoSurveyRecords, MongoTrackingCodes
from serambi_intake.api.forms import RequestForm
from serambi_intake.application.context import Intake
from serambi_intake.application.submission import submit
from serambi_kit import mongo
from serambi_kit.documents import PDF, PNG, DocumentStore, Upload
from serambi_kit.eventstore import AppendOutcomeUnknown, EventStoreError, JetStreamEventStore, read_stream
from serambi_kit.idempotency import COLLECTION, Claim, IdempotencyError, IdempotencyKeys
from serambi_kit.pii import Vault
from serambi_kit.tracking_links import hash_token
from serambi_testing import localstack

MASTER = os.urandom(32)
LIVE, SHORT = timedelta(seconds=30), timedelta(seconds=0.3)
UPLOADS = [
    (Upload("request_letter", "request_letter", b"%PDF-1.4 letter"), PDF),
    (Upload("identity_document", "identity_document", b"\x89PNG\r\n\x1a\nid"), PNG),
]


class Killed(BaseException):
    """kill -9: the process stops where it is; none of its handlers runs."""


class DyingStore(JetStreamEventStore):
    def __init__(self, nc, dies: str) -> None:
        super().__init__(nc, "/serambi/intake")
        self.dies = dies

    async def append(self, *args, **kwargs):
        if self.dies == "before_append":
            raise Killed
        if self.dies == "failing_append":
            raise EventStoreError("stream unavailable")
        return await super().append(*args, **kwargs)


class LosingAcks(JetStreamEventStore):
    """NATS stores the append but its acknowledgement is lost (a nats TimeoutError after the
    real publish); when ``silent``, NATS answers nothing more (every later publish times out)."""

    def __init__(self, nc, silent: bool) -> None:
        super().__init__(nc, "/serambi/intake", timeout=1.0, resolve_seconds=0.3)
        self.lost, self.silent = 1, silent

    async def _publish_one(self, *args):
        if self.lost == 0 and self.silent:
            raise NatsTimeoutError
        acknowledged = await super()._publish_one(*args)
        if self.lost:
            self.lost -= 1
            raise NatsTimeoutError
        return acknowledged


class DyingKeys(IdempotencyKeys):
    def __init__(self, *args, dies: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.dies = dies

    async def abandon(self, claim: Claim) -> None:
        if self.dies == "failing_append":  # a failure the process survives: its handlers run
            return await super().abandon(claim)
        raise Killed

    async def complete(self, *args) -> None:
        raise Killed  # after the append (if any), before the response is kept


class DyingDocuments(DocumentStore):
    async def discard(self, refs) -> None:
        raise Killed


@pytest.fixture
async def db(mongo_url):
    client = mongo.connect(mongo_url)  # tz-aware, as the services' client
    name = f"test_{secrets.token_hex(6)}"
    database = client[name]
    # a counter of its own, so the tests' tracking codes rarely meet in the shared stream
    await database["counters"].insert_one(
        {"_id": f"AUD-{datetime.now(UTC).year}", "value": 100_000 + secrets.randbelow(800_000)}
    )
    yield database
    await localstack.drop_databases(client, name)
    await client.close()


@pytest.fixture
def marker(unique_id) -> str:
    return f"idem-{unique_id}"


@pytest.fixture
def post(nc, db, marker):
    """``post(key, lease=…, dies=…)``: one intake process submits the request with ``key``."""
    form = RequestForm(
        requester_name="Rina Wati",
        requester_position="Kabid",
        institution="Dinas PU",
        institution_type=InstitutionType.LOCAL_GOVERNMENT,
        email="rina@example.go.id",
        topic=marker,
        purpose="Audiensi.",
        participants=3,
    )

    async def post(key: str | None, *, lease: timedelta = LIVE, dies: str | None = None) -> dict:
        vault = Vault(db, MASTER, cache_seconds=0)
        if dies in ("ack_lost", "nats_silent"):
            store = LosingAcks(nc, silent=dies == "nats_silent")
            keys, documents = IdempotencyKeys(db, vault, lease=lease), DocumentStore(db, vault=vault)
        elif dies:
            store = DyingStore(nc, dies)
            keys = DyingKeys(db, vault, lease=lease, dies=dies)
            dying = dies != "failing_append"
            documents = (DyingDocuments if dying else DocumentStore)(db, vault=vault)
        else:
            store = JetStreamEventStore(nc, "/serambi/intake")
            keys, documents = IdempotencyKeys(db, vault, lease=lease), DocumentStore(db, vault=vault)
        intake = Intake(
            store=store,
            vault=vault,
            documents=documents,
            requests=MongoRequestViews(db),
            surveys=MongoSurveyRecords(db),
            tracking_codes=MongoTrackingCodes(db),
            answer_due=lambda instant: instant + timedelta(days=3),
            idempotency=keys,
        )
        return await submit(
            intake,
            form.details(),
            list(UPLOADS),
            IntakeChannel.ONLINE,
            datetime.now(UTC),
            idempotency_key=key,
        )

    return post


async def submitted(nc, db, marker: str) -> list[RequestSubmitted]:
    """This test's requests: their topic (sealed under the requester's key) reveals to ``marker``."""
    vault = Vault(db, MASTER, cache_seconds=0)
    events = [r.event async for r in read_stream(nc, "INTAKE", "intake.request.*.*")]
    return [e for e in events if isinstance(e, RequestSubmitted) and await vault.reveal(e.topic) == marker]


async def documents_by_status(db) -> dict[str, int]:
    counts: dict[str, int] = {}
    async for doc in db["documents.files"].find({}, {"metadata.status": 1}):
        counts[doc["metadata"]["status"]] = counts.get(doc["metadata"]["status"], 0) + 1
    return counts


async def test_a_retry_after_the_holder_died_before_the_append_takes_over_and_appends_once(
    post, db, nc, marker
):
    with pytest.raises(Killed):
        await post("key-before-append", lease=SHORT, dies="before_append")
    left = await db[COLLECTION].find_one({"_id": "key-before-append"})
    assert left["status"] == "in_progress" and left["tracking_code"] and left["token"]
    await asyncio.sleep(SHORT.total_seconds() + 0.1)

    answer = await post("key-before-append")
    assert answer["tracking_code"] == left["tracking_code"]  # the reserved code, not a new one
    [event] = await submitted(nc, db, marker)
    assert event.tracking_code == answer["tracking_code"]
    assert event.access_token_sha256 == hash_token(answer["access_token"])
    assert await post("key-before-append") == answer
    # the dead run's documents stay pending for the start-up sweep; the retry's are attached
    assert await documents_by_status(db) == {"pending": 2, "attached": 2}


async def test_a_retry_after_the_holder_died_after_the_append_answers_with_its_code_and_token(
    post, db, nc, marker
):
    with pytest.raises(Killed):
        await post("key-after-append", lease=SHORT, dies="before_complete")
    [first] = await submitted(nc, db, marker)
    left = await db[COLLECTION].find_one({"_id": "key-after-append"})
    assert left["status"] == "in_progress" and left["tracking_code"] == first.tracking_code
    await asyncio.sleep(SHORT.total_seconds() + 0.1)

    answer = await post("key-after-append")
    assert answer["tracking_code"] == first.tracking_code
    assert hash_token(answer["access_token"]) == first.access_token_sha256
    assert datetime.fromisoformat(answer["answer_due_at"]) == first.answer_due_at
    assert await submitted(nc, db, marker) == [first]  # nothing appended by the retry
    assert await post("key-after-append") == answer
    assert await documents_by_status(db) == {"attached": 2}  # the retry's copies were discarded


async def test_a_retry_while_the_lease_runs_gets_409_with_retry_after(post, db, nc, marker):
    with pytest.raises(Killed):
        await post("key-live", lease=LIVE, dies="before_append")
    with pytest.raises(HTTPException) as refused:
        await post("key-live")
    assert refused.value.status_code == 409
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 30
    assert await submitted(nc, db, marker) == []


async def test_two_concurrent_takeovers_store_one_request(post, db, nc, marker):
    with pytest.raises(Killed):
        await post("key-race", lease=SHORT, dies="before_append")
    await asyncio.sleep(SHORT.total_seconds() + 0.1)

    results = await asyncio.gather(post("key-race"), post("key-race"), return_exceptions=True)
    answers = [r for r in results if isinstance(r, dict)]
    assert answers and all(r.status_code == 409 for r in results if not isinstance(r, dict)), results
    assert len({a["tracking_code"] for a in answers}) == 1
    [event] = await submitted(nc, db, marker)
    assert await post("key-race") == answers[0]
    assert event.tracking_code == answers[0]["tracking_code"]


async def test_only_one_of_two_retries_takes_an_expired_key_over(db):
    keys = IdempotencyKeys(db, Vault(db, MASTER, cache_seconds=0), lease=SHORT)
    assert isinstance(await keys.begin("key-begin-race", "print"), Claim)
    await asyncio.sleep(SHORT.total_seconds() + 0.1)
    results = await asyncio.gather(
        keys.begin("key-begin-race", "print"), keys.begin("key-begin-race", "print"), return_exceptions=True
    )
    assert sorted(type(r).__name__ for r in results) == ["Claim", "IdempotencyError"], results


async def test_a_holder_that_outlived_its_lease_changes_nothing(db):
    vault = Vault(db, MASTER, cache_seconds=0)
    keys = IdempotencyKeys(db, vault, lease=SHORT)
    stale = await keys.begin("key-stale", "print")
    await asyncio.sleep(SHORT.total_seconds() + 0.1)
    current = await keys.begin("key-stale", "print")
    assert isinstance(stale, Claim) and isinstance(current, Claim)
    with pytest.raises(IdempotencyError) as lost:
        await keys.reserve(stale, await vault.new_subject(), "AUD-2026-999999", "token")
    assert lost.value.status == 409
    await keys.abandon(stale)
    record = await db[COLLECTION].find_one({"_id": "key-stale"})
    assert record["holder"] == current.holder and "tracking_code" not in record


async def test_a_key_claimed_by_older_code_without_a_lease_is_taken_over(db):
    await db[COLLECTION].insert_one(
        {
            "_id": "key-old",
            "fingerprint": "print",
            "status": "in_progress",
            "expires_at": datetime.now(UTC) + timedelta(hours=24),
        }
    )
    keys = IdempotencyKeys(db, Vault(db, MASTER, cache_seconds=0))
    claim = await keys.begin("key-old", "print")
    assert isinstance(claim, Claim) and claim.tracking_code is None and claim.token is None


async def test_a_failure_after_the_reservation_keeps_the_code_for_an_immediate_retry(post, db, nc, marker):
    # the append may have been stored (a publish whose ack was lost): the key is not freed
    with pytest.raises(EventStoreError):
        await post("key-failed", dies="failing_append")
    left = await db[COLLECTION].find_one({"_id": "key-failed"})
    assert left["status"] == "in_progress" and left["tracking_code"]
    answer = await post("key-failed")  # no wait: the failed holder gave its lease up
    assert answer["tracking_code"] == left["tracking_code"]
    assert len(await submitted(nc, db, marker)) == 1


async def test_a_lost_acknowledgement_is_resolved_into_one_request_with_its_documents(post, db, nc, marker):
    answer = await post("key-ack-lost", dies="ack_lost")
    [event] = await submitted(nc, db, marker)
    assert event.tracking_code == answer["tracking_code"]
    assert event.access_token_sha256 == hash_token(answer["access_token"])
    assert await documents_by_status(db) == {"attached": 2}
    assert await post("key-ack-lost") == answer


async def test_a_stored_request_whose_ack_nats_never_gave_keeps_its_documents_and_the_retry_answers_it(
    post, db, nc, marker
):
    with pytest.raises(AppendOutcomeUnknown):  # the route answers 503 with Retry-After
        await post("key-nats-silent", dies="nats_silent")
    [first] = await submitted(nc, db, marker)  # it was stored, in fact
    assert await documents_by_status(db) == {"pending": 2}  # kept: the request references them
    left = await db[COLLECTION].find_one({"_id": "key-nats-silent"})
    assert left["status"] == "in_progress" and left["tracking_code"] == first.tracking_code

    answer = await post("key-nats-silent")  # no wait: the lease was ended
    assert answer["tracking_code"] == first.tracking_code
    assert hash_token(answer["access_token"]) == first.access_token_sha256
    assert await submitted(nc, db, marker) == [first]
    # the retry's copies were discarded, the stored request's documents marked attached
    assert await documents_by_status(db) == {"attached": 2}
    assert await post("key-nats-silent") == answer


async def test_without_a_key_an_unconfirmed_request_keeps_its_documents_for_the_sweep(post, db, nc, marker):
    with pytest.raises(AppendOutcomeUnknown):
        await post(None, dies="nats_silent")
    [event] = await submitted(nc, db, marker)
    assert await documents_by_status(db) == {"pending": 2}
    assert {d.document_id for d in event.documents} == {
        doc["_id"] async for doc in db["documents.files"].find({}, {"_id": 1})
    }
