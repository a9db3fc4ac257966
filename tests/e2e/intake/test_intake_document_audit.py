"""An officer's download of a request's document is recorded first, as complaints' attachments
are; documents are sealed with the requester's key, so after an erasure they are 410 Gone."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import nats
from pymongo import MongoClient
from serambi_contracts.audit import PersonalDataAccessed
from serambi_contracts.intake import RequestSubmitted
from serambi_kit.auth import issue_dev_token
from serambi_kit.eventstore import read_stream
from serambi_kit.settings import ServiceSettings
from serambi_ops.commands.demo import DEMO_REQUEST, SAMPLE_PNG, submit_request

SERAMBI = Path(sys.executable).parent / "serambi"
MARKER = b"KTP 6171015505880777 SCAN"


def bearer(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_dev_token(ServiceSettings(), [role], subject=f'{role}-7')}"}


async def events(stack, subjects: str) -> list:
    nc = await nats.connect(stack.env["SERAMBI_NATS_URL"])
    try:
        return [r.event async for r in read_stream(nc, "INTAKE", subjects)]
    finally:
        await nc.drain()


def test_downloading_an_identity_document_appends_personal_data_accessed_first(stack):
    code = submit_request(stack.urls["intake"], DEMO_REQUEST).json()["tracking_code"]
    [submitted] = asyncio.run(events(stack, f"intake.request.{code}.*"))
    assert isinstance(submitted, RequestSubmitted)
    identity = next(d for d in submitted.documents if d.kind == "identity_document")
    url = f"{stack.urls['intake']}/api/v1/officer/documents/{identity.document_id}"
    assert httpx.get(url, headers=bearer("complaint_team")).status_code == 403
    deadline, response = time.monotonic() + 10, None
    while time.monotonic() < deadline:  # the request list follows the event within milliseconds
        response = httpx.get(url, headers=bearer("desk"))
        if response.status_code == 200:
            break
        time.sleep(0.1)
    assert response is not None and response.status_code == 200 and response.content == SAMPLE_PNG
    assert response.headers["x-content-type-options"] == "nosniff"
    [access] = asyncio.run(events(stack, f"intake.access.{code}.*"))
    assert isinstance(access, PersonalDataAccessed)
    assert (access.officer, access.fields, access.purpose) == (
        "desk-7",
        ["identity_document"],
        "document download",
    )


def download(stack, document_id: str) -> httpx.Response:
    url = f"{stack.urls['intake']}/api/v1/officer/documents/{document_id}"
    deadline = time.monotonic() + 10
    while True:  # the request list follows the event within milliseconds
        response = httpx.get(url, headers=bearer("desk"))
        if response.status_code != 404 or time.monotonic() > deadline:
            return response
        time.sleep(0.1)


def test_an_erased_requesters_documents_are_gone_and_were_never_stored_in_clear(stack):
    requester = {
        **DEMO_REQUEST["requester"],
        "email": "hapus.dokumen@example.go.id",
        "identity_number": "6171015505880777",
    }
    scan = b"%PDF-1.4\n" + MARKER + bytes(200_000)
    answer = submit_request(
        stack.urls["intake"],
        {**DEMO_REQUEST, "requester": requester},
        files={"identity_document": ("ktp.pdf", scan, "application/pdf")},
    )
    assert answer.status_code == 201, answer.text
    code = answer.json()["tracking_code"]
    [submitted] = asyncio.run(events(stack, f"intake.request.{code}.*"))
    identity = next(d for d in submitted.documents if d.kind == "identity_document")
    assert download(stack, identity.document_id).content == scan
    with MongoClient(stack.env["SERAMBI_MONGO_URL"]) as client:
        chunks = client["serambi_intake"]["documents.chunks"].find({"files_id": identity.document_id})
        assert MARKER not in b"".join(bytes(chunk["data"]) for chunk in chunks)
    erased = subprocess.run(
        [str(SERAMBI), "personal-data", "erase", "--nik", "6171015505880777"],
        env={**os.environ, **stack.env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert erased.returncode == 0 and not erased.stdout.startswith("erased 0"), erased.stderr
    time.sleep(1)  # processes keep unwrapped keys 0.5 s in this stack
    for document in submitted.documents:
        gone = download(stack, document.document_id)
        assert gone.status_code == 410, gone.text
    accesses = [
        e
        for e in asyncio.run(events(stack, f"intake.access.{code}.*"))
        if isinstance(e, PersonalDataAccessed)
    ]
    assert [a.fields for a in accesses] == [["identity_document"]]  # a 410 shows nothing: not audited
