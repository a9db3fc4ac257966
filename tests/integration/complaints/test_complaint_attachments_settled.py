"""A stored complaint's attachments are never lost to a death half-way or a lagging read model
(real nats-server and SecantusDB): a retry that takes over an earlier holder's complaint marks
that complaint's attachments attached, and the sweep asks the complaint's events, not the read
model, whether an attachment is referenced."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest
from serambi_complaints.application import commands
from serambi_complaints.main import ComplaintsService, create_app
from serambi_contracts.complaints import ComplaintReceived
from serambi_kit.documents import DocumentStore
from serambi_kit.idempotency import COLLECTION, IdempotencyKeys
from serambi_ops.commands.demo import SAMPLE_PDF, SAMPLE_PNG

SHORT = timedelta(seconds=0.3)
FIELDS = {
    "disclosure": "anonymous",
    "summary": "Jalan rusak di depan kantor",
    "description": "Lubang besar, foto terlampir.",
    "email": "pelapor@example.id",
}
FILES = [
    ("attachments", ("foto.png", SAMPLE_PNG, "image/png")),
    ("attachments", ("surat.pdf", SAMPLE_PDF, "application/pdf")),
]


class Killed(BaseException):
    """kill -9: the process stops where it is; none of its handlers runs."""


class KilledKeys(IdempotencyKeys):
    """A holder that is killed keeps its claim (nothing abandons it)."""

    async def abandon(self, claim) -> None:
        raise Killed


@pytest.fixture
async def service(start_service, monkeypatch) -> ComplaintsService:
    service = await start_service()
    monkeypatch.setattr(
        ComplaintsService,
        "idempotency",
        property(lambda self: KilledKeys(self.runtime.db, self.runtime.vault, lease=SHORT)),
    )
    return service


@pytest.fixture
async def client(service):
    transport = httpx.ASGITransport(app=create_app(service=service))
    async with httpx.AsyncClient(transport=transport, base_url="http://complaints") as client:
        yield client


def killed(monkeypatch, target, name: str) -> None:
    """The process is killed when ``target.name`` is called."""

    async def dies(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(target, name, dies)


async def submit_killed(client, **headers: str) -> None:
    with pytest.raises(BaseException) as stopped:
        await client.post("/api/v1/complaints", data=FIELDS, files=FILES, headers=headers)
    error = stopped.value
    assert isinstance(error, Killed) or (isinstance(error, BaseExceptionGroup) and error.subgroup(Killed))


async def statuses(documents: DocumentStore) -> dict[str, tuple[str, str | None]]:
    """document id → (status, noted case)."""
    return {
        doc["_id"]: (doc["metadata"]["status"], doc["metadata"].get("case"))
        async for doc in documents.files.find({})
    }


async def the_complaint(service: ComplaintsService, code: str) -> ComplaintReceived:
    [first, *_] = (await service.runtime.store.load(commands.complaint_ref(code))).payloads
    assert isinstance(first, ComplaintReceived)
    return first


async def test_a_retry_that_takes_over_marks_the_earlier_holders_attachments_attached(
    client, service, monkeypatch
):
    documents = service.attachments
    key = {"Idempotency-Key": f"attachments-{uuid.uuid4().hex}"}
    killed(monkeypatch, documents, "mark_attached")  # the process dies right after the append
    await submit_killed(client, **key)
    code = (await service.runtime.db[COLLECTION].find_one({"_id": key["Idempotency-Key"]}))["tracking_code"]
    assert sorted(status for status, _ in (await statuses(documents)).values()) == ["pending", "pending"]
    monkeypatch.undo()
    monkeypatch.setattr(
        ComplaintsService,
        "idempotency",
        property(lambda self: KilledKeys(self.runtime.db, self.runtime.vault, lease=SHORT)),
    )
    await asyncio.sleep(SHORT.total_seconds() + 0.1)

    answer = await client.post("/api/v1/complaints", data=FIELDS, files=FILES, headers=key)
    assert answer.status_code == 201, answer.text
    assert answer.json()["tracking_code"] == code
    referenced = [ref.document_id for ref in (await the_complaint(service, code)).attachments]
    # the retry's own copies are gone; the complaint's are attached
    assert {document_id: status for document_id, (status, _) in (await statuses(documents)).items()} == {
        document_id: "attached" for document_id in referenced
    }


async def test_the_sweep_keeps_a_stored_complaints_attachments_when_the_read_model_lags(
    client, service, monkeypatch, mongo_client
):
    documents = service.attachments
    killed(monkeypatch, documents, "mark_attached")  # after the append
    await submit_killed(client)
    monkeypatch.undo()
    [code] = {case for _, case in (await statuses(documents)).values()}
    referenced = [ref.document_id for ref in (await the_complaint(service, code)).attachments]
    killed(monkeypatch, commands, "run")  # after its case was noted, before the append
    killed(monkeypatch, documents, "discard")
    await submit_killed(client)
    monkeypatch.undo()
    killed(monkeypatch, documents, "note_case")  # before a case was noted
    killed(monkeypatch, documents, "discard")
    await submit_killed(client)
    monkeypatch.undo()
    assert sorted(status for status, _ in (await statuses(documents)).values()) == ["pending"] * 6

    lagging = mongo_client[f"empty_{uuid.uuid4().hex[:10]}"]  # a read model that has nothing yet
    deleted = await commands.sweep_attachments(documents, lagging, service.runtime.store, timedelta(0))

    assert deleted == 4
    assert await statuses(documents) == {document_id: ("attached", code) for document_id in referenced}
