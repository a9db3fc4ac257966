"""Idempotency-Key on the complaints' two create routes (public and officer), through the HTTP
app on real nats-server and SecantusDB: a retry gets the same answer and one ComplaintReceived,
another request under the same key is refused, a holder killed half-way is taken over, and an
append whose acknowledgement NATS never gave is answered 503 and settled by the retry."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest
from complaints_support import stream_events
from nats.errors import TimeoutError as NatsTimeoutError
from serambi_complaints.main import ComplaintsService, create_app
from serambi_contracts.complaints import ComplaintReceived
from serambi_kit.auth import issue_dev_token
from serambi_kit.idempotency import COLLECTION, IdempotencyKeys
from serambi_kit.tracking_links import hash_token

SHORT = timedelta(seconds=0.3)


class Killed(BaseException):
    """kill -9: the process stops where it is; none of its handlers runs."""


class DyingKeys(IdempotencyKeys):
    """Keys whose holder is killed right after reserving (before the append) or before keeping
    the answer (after the append)."""

    dies = "after_append"

    async def reserve(self, *args) -> None:
        await super().reserve(*args)
        if self.dies == "before_append":
            raise Killed

    async def complete(self, *args) -> None:
        raise Killed

    async def abandon(self, claim) -> None:
        raise Killed


@pytest.fixture
async def service(start_service) -> ComplaintsService:
    return await start_service()


@pytest.fixture
async def client(service):
    transport = httpx.ASGITransport(app=create_app(service=service))  # the service is started already
    async with httpx.AsyncClient(transport=transport, base_url="http://complaints") as client:
        yield client


def complaint(marker: str, **changes) -> dict:
    return {
        "name": "Siti Rahmawati",
        "email": f"{marker}@example.id",
        "summary": "Antrian terlalu lama",
        "description": "Saya menunggu tiga jam.",
        **changes,
    }


def officer(service: ComplaintsService, subject: str = "officer-1") -> dict[str, str]:
    token = issue_dev_token(service.settings, ["complaint_officer"], subject=subject)
    return {"Authorization": f"Bearer {token}"}


async def received(nats_client, answer: dict) -> list[ComplaintReceived]:
    events = await stream_events(nats_client, answer["tracking_code"])
    return [event for event in events if isinstance(event, ComplaintReceived)]


async def killed_during(request) -> None:
    """The request's holder was killed (the HTTP middleware may wrap it in a group)."""
    with pytest.raises(BaseException) as stopped:
        await request
    error = stopped.value
    assert isinstance(error, Killed) or (isinstance(error, BaseExceptionGroup) and error.subgroup(Killed))


def dying(monkeypatch, service: ComplaintsService, dies: str) -> None:
    def keys(self) -> IdempotencyKeys:
        dying_keys = DyingKeys(self.runtime.db, self.runtime.vault, lease=SHORT)
        dying_keys.dies = dies
        return dying_keys

    monkeypatch.setattr(ComplaintsService, "idempotency", property(keys))


async def test_a_public_retry_with_the_same_key_gets_the_same_answer_and_one_complaint(client, nats_client):
    key, marker = {"Idempotency-Key": f"public-{uuid.uuid4().hex}"}, uuid.uuid4().hex
    first = await client.post("/api/v1/complaints", json=complaint(marker), headers=key)
    again = await client.post("/api/v1/complaints", json=complaint(marker), headers=key)
    assert first.status_code == again.status_code == 201, first.text
    assert again.json() == first.json()
    [event] = await received(nats_client, first.json())
    assert event.access_token_sha256 == hash_token(first.json()["access_token"])
    other = await client.post("/api/v1/complaints", json=complaint(marker, summary="Lain"), headers=key)
    assert other.status_code == 422 and "different request" in other.json()["error"]
    without_key = await client.post("/api/v1/complaints", json=complaint(marker))
    assert without_key.status_code == 201
    assert without_key.json()["tracking_code"] != first.json()["tracking_code"]


async def test_an_officer_retry_with_the_same_key_gets_the_same_answer_and_another_officer_is_refused(
    client, service, nats_client
):
    key, marker = {"Idempotency-Key": f"officer-{uuid.uuid4().hex}"}, uuid.uuid4().hex
    body = complaint(marker, channel="telephone", tier="ringan")
    first = await client.post("/api/v1/officer/complaints", json=body, headers={**key, **officer(service)})
    again = await client.post("/api/v1/officer/complaints", json=body, headers={**key, **officer(service)})
    assert first.status_code == again.status_code == 201, first.text
    assert again.json() == first.json()
    assert len(await received(nats_client, first.json())) == 1
    colleague = await client.post(
        "/api/v1/officer/complaints", json=body, headers={**key, **officer(service, "officer-2")}
    )
    assert colleague.status_code == 422


async def test_a_retry_while_the_first_is_running_gets_409_with_retry_after(client, service, monkeypatch):
    dying(monkeypatch, service, "before_append")
    key, marker = {"Idempotency-Key": f"live-{uuid.uuid4().hex}"}, uuid.uuid4().hex
    await killed_during(client.post("/api/v1/complaints", json=complaint(marker), headers=key))
    monkeypatch.undo()
    refused = await client.post("/api/v1/complaints", json=complaint(marker), headers=key)
    assert refused.status_code == 409 and 1 <= int(refused.headers["Retry-After"]) <= 30


@pytest.mark.parametrize("dies", ["before_append", "after_append"])
async def test_a_retry_after_the_holder_was_killed_takes_over_and_records_one_complaint(
    client, service, nats_client, monkeypatch, dies
):
    key, marker = {"Idempotency-Key": f"killed-{uuid.uuid4().hex}"}, uuid.uuid4().hex
    dying(monkeypatch, service, dies)
    await killed_during(client.post("/api/v1/complaints", json=complaint(marker), headers=key))
    left = await service.runtime.db[COLLECTION].find_one({"_id": key["Idempotency-Key"]})
    assert left["status"] == "in_progress" and left["tracking_code"] and left["token"]
    monkeypatch.undo()
    await asyncio.sleep(SHORT.total_seconds() + 0.1)

    answer = await client.post("/api/v1/complaints", json=complaint(marker), headers=key)
    assert answer.status_code == 201, answer.text
    assert answer.json()["tracking_code"] == left["tracking_code"]  # the reserved code
    [event] = await received(nats_client, answer.json())
    assert event.access_token_sha256 == hash_token(answer.json()["access_token"])
    again = await client.post("/api/v1/complaints", json=complaint(marker), headers=key)
    assert again.json() == answer.json()


async def test_a_complaint_whose_ack_nats_never_gave_is_503_and_the_retry_answers_it(
    client, service, nats_client, monkeypatch
):
    store = service.runtime.store
    publish = store._publish_one

    async def silent(*args):
        raise NatsTimeoutError

    async def stored_then_silent(*args):
        monkeypatch.setattr(store, "_publish_one", silent)  # NATS answers nothing after this one
        await publish(*args)  # the server stores it; the acknowledgement never comes
        raise NatsTimeoutError

    monkeypatch.setattr(store, "resolve_seconds", 0.3)
    monkeypatch.setattr(store, "_publish_one", stored_then_silent)
    key, marker = {"Idempotency-Key": f"silent-{uuid.uuid4().hex}"}, uuid.uuid4().hex
    unconfirmed = await client.post("/api/v1/complaints", json=complaint(marker), headers=key)
    assert unconfirmed.status_code == 503 and unconfirmed.headers["Retry-After"]
    assert "may have been recorded" in unconfirmed.json()["detail"]
    left = await service.runtime.db[COLLECTION].find_one({"_id": key["Idempotency-Key"]})
    [stored] = await received(nats_client, {"tracking_code": left["tracking_code"]})

    monkeypatch.undo()  # NATS answers again
    answer = await client.post("/api/v1/complaints", json=complaint(marker), headers=key)
    assert answer.status_code == 201, answer.text
    assert answer.json()["tracking_code"] == left["tracking_code"]
    assert hash_token(answer.json()["access_token"]) == stored.access_token_sha256
    assert await received(nats_client, answer.json()) == [stored]
