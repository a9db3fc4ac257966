"""The admin's HTTP APIs on a running intake (the same kit routes every service has): its dead
letters listed a page at a time and redriven, and a person's erasure — audited before the keys
go, repeatable with its Idempotency-Key. Only ``admin`` may (the role matrix checks every
service's routes too)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import nats
import pytest
from serambi_contracts import AggregateRef
from serambi_kit.auth import ROLES, issue_dev_token
from serambi_kit.deadletters import DeadLetter, DeadLetters
from serambi_kit.eventstore import JetStreamEventStore
from serambi_kit.mongo import connect, database
from serambi_kit.settings import ServiceSettings
from serambi_ops.commands.demo import submit_request
from serambi_testing.stack import sample_request


def bearer(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_dev_token(ServiceSettings(), [role], subject=f'{role}-1')}"}


ADMIN = bearer("admin")
OTHERS = [role for role in ROLES if role != "admin"]


@pytest.fixture(scope="module")
def intake(tmp_path_factory: pytest.TempPathFactory, stack_of) -> Iterator:
    with stack_of(tmp_path_factory.mktemp("admin"), ("intake",)) as running:
        yield running


async def record_letters(stack, count: int) -> list[str]:
    mongo = connect(stack.env["SERAMBI_MONGO_URL"])
    try:
        letters = DeadLetters(database(mongo, "serambi_intake"))
        ids = []
        for n in range(count):
            # a consumer intake no longer runs: no replica claims the redrive, so it stays marked
            letter = DeadLetter(
                "intake-retired",
                "INTAKE",
                f"intake.guest.G{n}.GuestRegistered",
                100 + n,
                5,
                f"ValidationError: guest_name missing ({n})",
                {"ce-type": "id.go.kalbarprov.ekonomi.intake.GuestRegistered.v1"},
                b"{}",
            )
            await letters.record(letter)
            ids.append(letter.document()["_id"])
            await asyncio.sleep(0.01)  # distinct recorded_at
        return ids
    finally:
        await mongo.close()


async def test_the_dead_letters_are_paged_newest_first_and_one_is_redriven(intake):
    url = f"{intake.urls['intake']}/api/v1/admin/dead-letters"
    ids = await record_letters(intake, 3)
    async with httpx.AsyncClient(timeout=10) as client:
        for role in OTHERS:
            assert (await client.get(url, headers=bearer(role))).status_code == 403, role
        first = (await client.get(url, params={"size": 2}, headers=ADMIN)).json()
        assert first["service"] == "intake" and first["total"] == 3
        assert (first["page"], first["size"]) == (1, 2)
        assert [item["id"] for item in first["items"]] == [ids[2], ids[1]]
        item = first["items"][0]
        assert item["reason"].startswith("ValidationError") and item["type"].endswith("GuestRegistered.v1")
        assert item["deliveries"] == 5 and "payload" not in item
        second = (
            await client.get(url, params={"size": 2, "before": first["next_before"]}, headers=ADMIN)
        ).json()
        assert [item["id"] for item in second["items"]] == [ids[0]] and second["next_before"] is None
        by_number = (await client.get(url, params={"size": 2, "page": 2}, headers=ADMIN)).json()
        assert [item["id"] for item in by_number["items"]] == [ids[0]] and by_number["total"] == 3
        legacy = (await client.get(url, params={"limit": 1}, headers=ADMIN)).json()  # deprecated name
        assert [item["id"] for item in legacy["items"]] == [ids[2]] and legacy["size"] == 1
        bad = await client.get(url, params={"before": "yesterday"}, headers=ADMIN)
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "before"

        redrive = f"{url}/{ids[1]}/redrive"
        assert (await client.post(redrive, headers=bearer("supervisor"))).status_code == 403
        done = await client.post(redrive, headers=ADMIN)
        assert done.status_code == 200 and done.json() == {"id": ids[1], "status": "redrive"}
        again = await client.post(redrive, headers=ADMIN)
        assert again.status_code == 409 and "not open" in again.json()["error"]
        assert (await client.post(f"{url}/nothing:HERE:1/redrive", headers=ADMIN)).status_code == 404
        listed = (await client.get(url, headers=ADMIN)).json()
        assert ids[1] not in [item["id"] for item in listed["items"]] and listed["total"] == 2


async def test_an_erasure_is_audited_without_the_identifiers_and_repeats_with_its_key(intake):
    marker = "hapusdata"
    body = {**sample_request(marker), "identity_number": "6171012301900001"}
    answer = await asyncio.to_thread(submit_request, intake.urls["intake"], body)
    assert answer.status_code == 201, answer.text
    code, token = answer.json()["tracking_code"], answer.json()["access_token"]
    url = f"{intake.urls['intake']}/api/v1/admin/personal-data/erase"
    request = {"phone": "+62 813-4567-8901", "reference": "REG-PDP/2026/014"}
    async with httpx.AsyncClient(timeout=10) as client:
        for role in OTHERS:
            assert (await client.post(url, json=request, headers=bearer(role))).status_code == 403, role
        empty = await client.post(url, json={"reference": "REG-1"}, headers=ADMIN)
        assert empty.status_code == 422 and empty.json()["errors"][0]["rule"] == "identifier_required"
        bad = await client.post(url, json={"nik": "12345", "reference": "REG-1"}, headers=ADMIN)
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "nik"
        for free_text in ("Budi Santoso, atas permintaannya", "REG 014"):  # kept for ever: a number only
            refused = await client.post(url, json={**request, "reference": free_text}, headers=ADMIN)
            assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "reference"
        headers = {**ADMIN, "Idempotency-Key": "console-erase-0001"}
        done = await client.post(url, json=request, headers=headers)
        assert done.status_code == 200, done.text
        erased = done.json()
        assert erased["key_ids"] and erased["identifiers"] == ["phone"] and not erased["repeated"]
        assert erased["erased_now"] == len(erased["key_ids"])
        tracked = await client.get(
            f"{intake.urls['intake']}/api/v1/requests/{code}", headers={"X-Access-Token": token}
        )
        assert tracked.status_code in (404, 410)  # the requester is gone
        repeat = (await client.post(url, json=request, headers=headers)).json()
        assert repeat["repeated"] and repeat["erasure_id"] == erased["erasure_id"]
        assert repeat["key_ids"] == erased["key_ids"] and repeat["erased_now"] == 0

    nc = await nats.connect(intake.env["SERAMBI_NATS_URL"])
    try:
        history = await JetStreamEventStore(nc, "/test").load(
            AggregateRef("intake", "erasure", erased["erasure_id"])
        )
    finally:
        await nc.drain()
    [audit] = history.payloads
    assert (audit.officer, audit.roles, audit.identifiers) == ("admin-1", ["admin"], ["phone"])
    assert audit.reference == "REG-PDP/2026/014" and audit.key_ids == erased["key_ids"]
    raw = repr(history.events[0].envelope) + audit.model_dump_json()
    assert "8901" not in raw and "hapusdata" not in raw  # neither the phone nor the e-mail
