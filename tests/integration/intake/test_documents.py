"""Intake's document store on the MongoDB-wire server: no orphan documents."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from pymongo.errors import AutoReconnect
from serambi_contracts.base import Sealed
from serambi_contracts.intake import InstitutionType, IntakeChannel, Requester
from serambi_intake.adapters.mongo import MongoRequestViews, MongoSurveyRecords, MongoTrackingCodes
from serambi_intake.application.context import Intake
from serambi_intake.application.requests import sweep_documents
from serambi_intake.application.submission import store_request
from serambi_intake.domain import requests as domain
from serambi_kit.documents import PDF, PNG, DocumentStore, Upload
from serambi_kit.eventstore import EventStoreError, InMemoryEventStore
from serambi_kit.pii import Vault


@pytest.fixture
async def vault(mongo_db) -> Vault:
    return Vault(mongo_db, os.urandom(32), cache_seconds=0)


@pytest.fixture
async def key(vault) -> str:
    return await vault.new_subject()


async def test_a_document_left_pending_by_a_dead_submission_is_swept(mongo_db, vault, key):
    store = DocumentStore(mongo_db, vault=vault)
    orphan = await store.put_pending(Upload("request_letter", "request_letter", b"%PDF-1"), PDF, "s1", key)
    kept = await store.put_pending(Upload("request_letter", "request_letter", b"%PDF-2"), PDF, "s2", key)
    # s2's request was appended (and projected) before the process died: it must survive
    await mongo_db.requests.insert_one({"_id": "AUD-1", "documents": [kept.model_dump()]})
    assert await sweep_documents(store, MongoRequestViews(mongo_db), timedelta(0)) == 1
    assert await store.read(kept.document_id) == b"%PDF-2"
    assert await mongo_db["documents.files"].count_documents({"_id": orphan.document_id}) == 0
    assert (await mongo_db["documents.files"].find_one({"_id": kept.document_id}))["metadata"][
        "status"
    ] == "attached"


async def test_recent_pending_documents_are_left_alone(mongo_db, vault, key):
    store = DocumentStore(mongo_db, vault=vault)
    ref = await store.put_pending(Upload("request_letter", "request_letter", b"%PDF-1"), PDF, "s1", key)
    assert await sweep_documents(store, MongoRequestViews(mongo_db), timedelta(hours=1)) == 0
    assert await store.read(ref.document_id) == b"%PDF-1"


async def test_a_stored_document_carries_its_digest_and_size(mongo_db, vault, key):
    upload = Upload("request_letter", "request_letter", b"%PDF-x")
    ref = await DocumentStore(mongo_db, vault=vault).put_pending(upload, PDF, "s", key)
    assert ref.size == 6 and len(ref.sha256) == 64 and ref.media_type == PDF


async def test_a_submission_that_fails_part_way_leaves_no_document_behind(mongo_db, vault, key):
    class BrokenStore(InMemoryEventStore):
        async def append(self, *args, **kwargs):
            raise EventStoreError("stream unavailable")

    uploads = [
        (Upload("request_letter", "request_letter", b"%PDF-1"), PDF),
        (Upload("identity_document", "identity_document", b"\x89PNG\r\n\x1a\n"), PNG),
    ]

    with pytest.raises(EventStoreError):
        await store_request(
            _intake(BrokenStore(), mongo_db, DocumentStore(mongo_db, vault=vault)),
            _command(),
            uploads,
            "token",
            datetime.now(UTC),
            subject_key=key,
        )
    assert await mongo_db["documents.files"].count_documents({}) == 0


def _intake(events, mongo_db, documents) -> Intake:
    return Intake(
        store=events,
        vault=documents.vault,
        documents=documents,
        requests=MongoRequestViews(mongo_db),
        surveys=MongoSurveyRecords(mongo_db),
        tracking_codes=MongoTrackingCodes(mongo_db),
        answer_due=lambda instant: instant,
    )


def _command():
    sealed = Sealed(key="k1", nonce="AAAAAAAAAAAAAAAA", data="AAAA")
    now = datetime.now(UTC)
    return domain.SubmitRequest(
        tracking_code="",
        channel=IntakeChannel.ONLINE,
        requester=Requester(
            name=sealed,
            position="p",
            institution="i",
            email=sealed,
            institution_type=InstitutionType.OTHER_INSTITUTION,
        ),
        topic=sealed,
        purpose=sealed,
        participants=1,
        proposed_dates=(),
        documents=(),
        submitted_at=now,
        answer_due_at=now,
        access_token_sha256="0" * 64,
    )


async def test_a_stored_request_keeps_its_documents_when_marking_them_attached_fails(mongo_db, vault, key):
    class DatabaseGoneAfterTheAppend(DocumentStore):
        async def mark_attached(self, document_ids):
            raise AutoReconnect("primary stepped down")

    uploads = [
        (Upload("request_letter", "request_letter", b"%PDF-1"), PDF),
        (Upload("identity_document", "identity_document", b"\x89PNG\r\n\x1a\n"), PNG),
    ]
    events = InMemoryEventStore()
    with pytest.raises(AutoReconnect):  # answered 503; a retry with the key or the sweep attaches
        await store_request(
            _intake(events, mongo_db, DatabaseGoneAfterTheAppend(mongo_db, vault=vault)),
            _command(),
            uploads,
            "token",
            datetime.now(UTC),
            subject_key=key,
        )
    [submitted] = events.log
    files = [doc async for doc in mongo_db["documents.files"].find({})]
    assert sorted(f["_id"] for f in files) == sorted(ref.document_id for ref in submitted.event.documents)
    assert {f["metadata"]["status"] for f in files} == {"pending"}
