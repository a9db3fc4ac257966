"""Guest-book entries are found by their data subject, so erasure covers them (issue 19, item 6):
intake in-process (its HTTP app with its lifespan) on a nats-server of its own and SecantusDB."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from serambi_intake.main import create_app
from serambi_intake.settings import IntakeSettings
from serambi_kit.auth import issue_dev_token
from serambi_kit.phones import phone_identifier
from serambi_kit.state import kit_state
from serambi_testing import localstack

WIB = ZoneInfo("Asia/Pontianak")
GUEST = {"name": "Made Wirawan", "institution": "Bank Kalbar", "purpose": "Antar surat"}


@pytest.fixture
async def intake(tmp_path, mongo_url, mongo_client):
    process = localstack.nats_server(tmp_path / "nats", localstack.free_port()).start()
    name = f"test_intake_{uuid.uuid4().hex[:10]}"
    settings = IntakeSettings(
        _env_file=None,
        nats_url=localstack.nats_url(process.port),
        mongo_url=mongo_url,
        mongo_database=name,
        vault_database=f"{name}_vault",
        pii_key_cache_seconds=0,
    )
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
                token = issue_dev_token(settings, ["desk"])
                client.headers["Authorization"] = f"Bearer {token}"
                client.runtime = kit_state(app).runtime
                yield client
    finally:
        process.stop()
        await localstack.drop_databases(mongo_client, name, f"{name}_vault")


async def listed(client: httpx.AsyncClient, guest_id: str) -> dict:
    day = datetime.now(WIB).date().isoformat()
    for _ in range(200):
        book = (await client.get("/api/v1/officer/guestbook", params={"day": day})).json()
        entry = next((g for g in book["guests"] if g["guest_id"] == guest_id), None)
        if entry is not None:
            return entry
        await asyncio.sleep(0.05)
    raise AssertionError(f"guest {guest_id} never reached the guest book")


@pytest.mark.parametrize(
    ("given", "erase_by"),
    [
        ({"phone": "0812-3456-7890"}, phone_identifier("+62 812 3456 7890")),
        ({"email": "Made.Wirawan@Example.go.id"}, "made.wirawan@example.go.id"),
        ({"identity_number": "6171011203900007"}, "6171011203900007"),
    ],
)
async def test_a_guest_who_gave_a_contact_or_nik_is_found_and_erased_by_it(intake, given, erase_by):
    created = await intake.post("/api/v1/officer/guests", json={**GUEST, **given})
    assert created.status_code == 201, created.text
    assert (await listed(intake, created.json()["guest_id"]))["name"] == "M*** W***"
    erased = await intake.runtime.vault.erase_person(erase_by)  # what `serambi personal-data erase` does
    assert len(erased) == 1
    assert (await listed(intake, created.json()["guest_id"]))["name"] is None


async def test_a_guest_linked_to_a_request_is_found_by_the_requesters_identifiers(intake):
    vault = intake.runtime.vault
    requester_key = await vault.new_subject(["yohanes.lim@example.org", "+6281256781234"])
    code = f"AUD-T{uuid.uuid4().hex[:10]}"
    # the request as intake's read model holds it (its requester sealed under their key)
    await intake.runtime.db["requests"].insert_one(
        {"_id": code, "requester": {"name": (await vault.seal(requester_key, "Yohanes Lim")).model_dump()}}
    )
    created = await intake.post(
        "/api/v1/officer/guests", json={**GUEST, "name": "Yohanes Lim", "request_tracking_code": code}
    )
    assert created.status_code == 201, created.text
    assert (await listed(intake, created.json()["guest_id"]))["name"] == "Y*** L***"
    erased = await vault.erase_person("+6281256781234")
    assert requester_key in erased and len(erased) == 2
    assert (await listed(intake, created.json()["guest_id"]))["name"] is None


async def test_a_guests_identifiers_are_checked_and_never_stored(intake):
    bad = await intake.post("/api/v1/officer/guests", json={**GUEST, "identity_number": "12345"})
    assert bad.status_code == 422 and "identity_number" in bad.text
    created = await intake.post("/api/v1/officer/guests", json={**GUEST, "email": "rahasia.tamu@example.id"})
    await listed(intake, created.json()["guest_id"])
    stored = await intake.runtime.db["guests"].find_one({"guest_id": created.json()["guest_id"]})
    keys = await intake.runtime.vault.keys.find_one({"_id": stored["name"]["key"]})
    assert "rahasia" not in str(stored) and "rahasia" not in str(keys)
