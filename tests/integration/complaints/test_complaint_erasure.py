"""Erasure and complaints (issue 19, items 6 and 10), in-process on real nats-server and
SecantusDB: a LAPOR! number in any written form is found by `serambi personal-data erase
--phone`, and an erased complainant's tracking link says that the data was erased."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from complaints_support import eventually, now, stream_events
from lapor_fake import FakeLaporGateway
from serambi_complaints.application.ports import LaporComplaint
from serambi_complaints.main import create_app
from serambi_contracts.complaints import ComplaintReceived
from serambi_kit.phones import phone_identifier


@pytest.mark.parametrize("written", ["0812-3456-7890", "+62 812 3456 7890", "(0812) 3456.7890"])
async def test_a_lapor_phone_number_as_the_citizen_wrote_it_is_found_by_erasure(
    start_service, nats_client, written
):
    fake = FakeLaporGateway(
        inbox=[
            LaporComplaint(
                "LAP-PHONE",
                now() - timedelta(minutes=5),
                "Perizinan lambat",
                "Belum diproses.",
                name="Rina",
                phone=written,
            )
        ]
    )
    service = await start_service(lapor_gateway=fake)
    [code] = await service.import_from_lapor()
    [received] = await stream_events(nats_client, code)
    assert isinstance(received, ComplaintReceived)
    vault = service.runtime.vault
    assert await vault.reveal(received.complainant_phone) == "+6281234567890"  # the notifier can SMS it
    # what `serambi personal-data erase --phone "0812 3456 7890"` does
    erased = await vault.erase_person(phone_identifier("0812 3456 7890"))
    assert erased == [received.summary.key]
    assert await vault.reveal(received.complainant_phone) is None
    assert await vault.reveal(received.summary) is None


def test_a_number_that_is_not_an_indonesian_mobile_keeps_its_digits_for_erasure():
    assert phone_identifier("(021) 555-1234") == "0215551234"
    assert phone_identifier("+65 6123 4567") == "+6561234567"
    assert phone_identifier(" ") is None and phone_identifier(None) is None


@pytest.fixture
async def client(start_service):
    service = await start_service()
    transport = httpx.ASGITransport(app=create_app(service=service))  # the service is started already
    async with httpx.AsyncClient(transport=transport, base_url="http://complaints") as client:
        client.service = service
        yield client


@pytest.mark.parametrize("disclosure", ["named", "confidential"])
async def test_an_erased_complainants_link_answers_410_saying_the_data_was_erased(client, disclosure):
    submitted = await client.post(
        "/api/v1/complaints",
        json={
            "name": "Siti Rahmawati",
            "email": "siti.erase@example.id",
            "summary": "Antrian terlalu lama",
            "description": "Saya menunggu tiga jam.",
            "disclosure": disclosure,
        },
    )
    assert submitted.status_code == 201, submitted.text
    code, token = submitted.json()["tracking_code"], submitted.json()["access_token"]
    track = f"/api/v1/complaints/{code}"

    async def tracked() -> bool:
        return (await client.get(track, headers={"X-Access-Token": token})).status_code == 200

    await eventually(tracked)
    assert await client.service.runtime.vault.erase_person("siti.erase@example.id")
    gone = await client.get(track, headers={"X-Access-Token": token})
    assert gone.status_code == 410
    assert gone.json()["error"] == "personal_data_erased" and "erased" in gone.json()["detail"]
    assert "Siti" not in gone.text and "Antrian" not in gone.text
    # a wrong token still cannot tell an erased complaint from an unknown one
    wrong = await client.get(track, headers={"X-Access-Token": "x" * 43})
    assert wrong.status_code == 404
    disputed = await client.post(
        f"{track}/dispute", json={"reason": "Belum selesai"}, headers={"X-Access-Token": token}
    )
    assert disputed.status_code == 410  # not a 500 from sealing under an erased key


async def test_no_nats_subject_holds_the_complainants_name_contact_or_words(client, nats_client):
    """Subjects are routing keys that every subscriber, mirror and monitoring page sees in clear
    and that erasure cannot reach: they name contexts, cases and event types only."""
    personal = {
        "name": "Siti Rahmawati",
        "email": "siti.subject@example.id",
        "phone": "0813 5555 0142",
        "summary": "Antrian terlalu lama",
        "description": "Saya menunggu tiga jam.",
    }
    submitted = await client.post("/api/v1/complaints", json=personal)
    assert submitted.status_code == 201, submitted.text
    code, token = submitted.json()["tracking_code"], submitted.json()["access_token"]

    async def tracked() -> bool:
        return (
            await client.get(f"/api/v1/complaints/{code}", headers={"X-Access-Token": token})
        ).status_code == 200

    await eventually(tracked)
    info = await nats_client.jetstream().stream_info("COMPLAINTS", subjects_filter=">")
    subjects = list(info.state.subjects or {})
    assert any(code in subject for subject in subjects)
    forbidden = ["Siti", "Rahmawati", "siti.subject", "example.id", "0813", "81355550142", "Antrian"]
    assert not [s for s in subjects for word in forbidden if word.lower() in s.lower()], subjects
