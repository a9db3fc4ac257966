"""An officer's download of a request's document is recorded first, as complaints' attachments are."""

from __future__ import annotations

import asyncio
import time

import httpx
import nats
from serambi_contracts.audit import PersonalDataAccessed
from serambi_contracts.intake import RequestSubmitted
from serambi_kit.auth import issue_dev_token
from serambi_kit.eventstore import read_stream
from serambi_kit.settings import ServiceSettings
from serambi_ops.commands.demo import DEMO_REQUEST, SAMPLE_PNG, submit_request


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
    assert (access.officer, access.fields, access.purpose) == ("desk-7", ["identity_document"], "document download")
