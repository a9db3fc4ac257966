"""SP4N-LAPOR! through the port with the in-memory fake: idempotent imports, attachments kept
(sealed), status pushed back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from complaints_support import eventually, now, stream_events
from lapor_fake import FakeLaporGateway
from serambi_complaints.adapters.lapor import HttpLaporGateway
from serambi_complaints.adapters.lapor_import import IMPORTS, META
from serambi_complaints.application import commands
from serambi_complaints.application.ports import LaporComplaint, LaporError
from serambi_contracts.complaints import ComplaintChannel, ComplaintReceived, ComplaintTier, Disclosure
from serambi_kit.deadletters import DeadLetters


def lapor_complaint(lapor_id: str, minutes_ago: int = 30, **details) -> LaporComplaint:
    return LaporComplaint(
        lapor_id,
        now() - timedelta(minutes=minutes_ago),
        "Perizinan lambat",
        "Permohonan saya belum diproses.",
        **details,
    )


async def test_importing_twice_records_each_lapor_complaint_once(start_service, nats_client):
    fake = FakeLaporGateway(
        inbox=[
            lapor_complaint("LAP-1", 40, name="Rina", email="rina@example.id"),
            lapor_complaint("LAP-2", 20, disclosure=Disclosure.CONFIDENTIAL),
        ]
    )
    service = await start_service(lapor_gateway=fake)
    codes = await service.import_from_lapor()
    assert len(codes) == 2
    assert await service.import_from_lapor() == []
    fake.inbox.append(lapor_complaint("LAP-3", 5))
    [third] = await service.import_from_lapor()
    [received] = await stream_events(nats_client, codes[0])
    assert isinstance(received, ComplaintReceived)
    assert received.channel is ComplaintChannel.SP4N_LAPOR and received.external_ref == "LAP-1"
    assert received.received_at == fake.inbox[0].received_at and received.tier is None
    assert "rina@example.id" not in received.model_dump_json()
    assert (await stream_events(nats_client, codes[1]))[0].disclosure is Disclosure.CONFIDENTIAL
    assert third not in codes


async def test_an_import_interrupted_after_reserving_its_code_completes_on_the_next_run(
    start_service, nats_client
):
    fake = FakeLaporGateway(inbox=[lapor_complaint("LAP-9")])
    service = await start_service(lapor_gateway=fake)
    await service.runtime.db[IMPORTS].insert_one({"_id": "LAP-9", "tracking_code": "ADU-2026-000777"})
    assert await service.import_from_lapor() == ["ADU-2026-000777"]
    assert await service.import_from_lapor() == []
    assert len(await stream_events(nats_client, "ADU-2026-000777")) == 1


async def test_each_step_of_an_imported_complaint_is_pushed_to_lapor_once_even_after_a_failure(
    start_service,
):
    fake = FakeLaporGateway(inbox=[lapor_complaint("LAP-5")], fail_pushes=1)
    service = await start_service(lapor_gateway=fake, settings={"lapor_push_seconds": 0.1})
    [code] = await service.import_from_lapor()
    runtime, rules = service.runtime, service.rules
    await commands.classify(runtime.store, rules, code, ComplaintTier.NORMATIF, "officer-1")
    await commands.assign(runtime.store, code, "Tim Pengelola Pengaduan", None, "officer-1")
    await commands.answer(runtime.store, runtime.vault, rules, code, "Izin sudah terbit.", "team-1", now())

    async def pushed_all() -> bool:
        return len(fake.pushed) >= 3

    await eventually(pushed_all)
    assert [(p["lapor_id"], p["status"]) for p in fake.pushed] == [
        ("LAP-5", "verified"),
        ("LAP-5", "in_progress"),
        ("LAP-5", "answered"),
    ]
    assert fake.pushed[2]["message"] == "Izin sudah terbit."


async def test_complaints_from_other_channels_are_not_pushed(start_service):
    fake = FakeLaporGateway()
    service = await start_service(lapor_gateway=fake, settings={"lapor_push_seconds": 0.1})
    runtime = service.runtime
    new = commands.NewComplaint(
        channel=ComplaintChannel.FAX,
        received_at=now(),
        disclosure=Disclosure.ANONYMOUS,
        summary="s",
        description="d",
        tier=ComplaintTier.RINGAN,
        recorded_by="o",
    )
    outcome, _ = await commands.receive(runtime.store, runtime.db, runtime.vault, service.rules, new, now())
    code = outcome.complaint.tracking_code
    await commands.assign(runtime.store, code, "Tim", None, "o")

    async def handled() -> bool:
        document = await runtime.db["complaints"].find_one({"_id": code})
        return bool(document) and document.get("team") == "Tim"

    await eventually(handled)
    assert await service.lapor_pusher.push_pending() == 0 and fake.pushed == []


async def test_a_lapor_item_that_cannot_be_recorded_is_dead_lettered_and_the_next_is_imported(
    start_service, nats_client
):
    fake = FakeLaporGateway(
        inbox=[
            lapor_complaint("LAP-11", 40),
            lapor_complaint(
                "LAP 12/bad id", 30, name="Rina", email="rina@example.id"
            ),  # no valid external_ref
            lapor_complaint("LAP-13", 20),
        ]
    )
    service = await start_service(lapor_gateway=fake)
    codes = await service.import_from_lapor()
    assert len(codes) == 2
    assert [(await stream_events(nats_client, code))[0].external_ref for code in codes] == [
        "LAP-11",
        "LAP-13",
    ]
    [letter] = await DeadLetters(service.runtime.db).list()
    assert letter["_id"] == "lapor-import:LAP 12/bad id" and letter["consumer"] == "lapor-import"
    assert "external_ref" in letter["reason"] and "string_pattern_mismatch" in letter["reason"]
    assert "rina" not in str(letter).lower()  # no personal data in the record
    cursor = await service.runtime.db[META].find_one({"_id": "lapor"})
    assert cursor["since"].replace(tzinfo=UTC) == fake.inbox[2].received_at  # moved past the bad item

    fake.inbox.append(lapor_complaint("LAP-14", 5))
    [fourth] = await service.import_from_lapor()
    assert (await stream_events(nats_client, fourth))[0].external_ref == "LAP-14"
    assert len(await DeadLetters(service.runtime.db).list()) == 1  # recorded once, not retried


async def test_an_unreadable_item_in_lapors_list_is_dead_lettered_and_the_rest_imported(
    start_service, nats_client
):
    def lapor(request: httpx.Request) -> httpx.Response:
        item = {
            "created_at": (now() - timedelta(minutes=9)).isoformat(),
            "title": "Perizinan lambat",
            "content": "Permohonan saya belum diproses.",
        }
        return httpx.Response(
            200,
            json={
                "data": [
                    {**item, "tracking_id": "4417021"},
                    {**item, "tracking_id": "4417022", "created_at": "kemarin sore"},
                    {**item, "tracking_id": "4417023", "content": "\U0001f621" * 5000},
                ]
            },
        )

    gateway = HttpLaporGateway("https://lapor.example/api/v1", "token", transport=httpx.MockTransport(lapor))
    service = await start_service(lapor_gateway=gateway)
    codes = await service.import_from_lapor()
    assert [(await stream_events(nats_client, code))[0].external_ref for code in codes] == [
        "4417021",
        "4417023",
    ]
    [letter] = await DeadLetters(service.runtime.db).list()
    assert letter["_id"] == "lapor-import:4417022" and "kemarin sore" in letter["reason"]
    state = await commands.load(service.runtime.store, codes[1])
    assert state.clock_name == "triage"  # an import arrives without a tier: its triage clock runs


LETTER = b"%PDF-1.4\nLAPOR LAMPIRAN RAHASIA 6171015505880003\n" + bytes(150_000)
PHOTO = b"\xff\xd8\xff\xe0" + bytes(5000)


async def test_a_lapor_complaint_keeps_its_attachments_typed_by_content_and_sealed(
    start_service, nats_client
):
    fake = FakeLaporGateway(
        inbox=[
            lapor_complaint(
                "LAP-21",
                10,
                name="Rina",
                email="rina.lampiran@example.id",
                attachments=("lapor://f/1", "lapor://f/2"),
            )
        ],
        files={"lapor://f/1": LETTER, "lapor://f/2": PHOTO},
    )
    service = await start_service(lapor_gateway=fake)
    [code] = await service.import_from_lapor()
    [received] = await stream_events(nats_client, code)
    assert [(a.media_type, a.size) for a in received.attachments] == [
        ("application/pdf", len(LETTER)),
        ("image/jpeg", len(PHOTO)),
    ]
    letter = received.attachments[0].document_id
    assert await service.attachments.read(letter) == LETTER
    chunks = service.runtime.db["attachments.chunks"].find({"files_id": letter})
    assert b"LAPOR LAMPIRAN" not in b"".join([bytes(c["data"]) async for c in chunks])
    stored = await service.runtime.db["attachments.files"].find_one({"_id": letter})
    assert (
        stored["metadata"]["status"] == "attached"
        and stored["metadata"]["sealed"]["key"] == received.summary.key
    )


@pytest.mark.parametrize(
    ("files", "rule"),
    [
        ({"lapor://x": b"MZ\x90\x00 not a photo"}, "unsupported_type"),
        ({"lapor://x": PHOTO + bytes(10_000_000)}, "too_large"),
        ({}, "could not be fetched"),
    ],
)
async def test_a_lapor_item_whose_attachment_cannot_be_kept_is_dead_lettered_naming_it(
    start_service, nats_client, files, rule
):
    fake = FakeLaporGateway(
        inbox=[lapor_complaint("LAP-31", 20, attachments=("lapor://x",)), lapor_complaint("LAP-32", 10)],
        files=files,
    )
    service = await start_service(lapor_gateway=fake)
    [code] = await service.import_from_lapor()
    assert (await stream_events(nats_client, code))[0].external_ref == "LAP-32"
    [letter] = await DeadLetters(service.runtime.db).list()
    assert (
        letter["_id"] == "lapor-import:LAP-31"
        and "attachments.0" in letter["reason"]
        and rule in letter["reason"]
    )
    assert await service.runtime.db["attachments.files"].count_documents({}) == 0


async def test_the_http_gateway_fetches_each_attachment_of_an_item(start_service, nats_client):
    def lapor(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/files/77.pdf"):
            return httpx.Response(200, content=LETTER)
        item = {
            "tracking_id": "4417031",
            "created_at": (now() - timedelta(minutes=9)).isoformat(),
            "title": "Perizinan lambat",
            "content": "Terlampir surat.",
            "attachments": [{"url": "https://lapor.example/files/77.pdf"}],
        }
        return httpx.Response(200, json={"data": [item]})

    gateway = HttpLaporGateway("https://lapor.example/api/v1", "token", transport=httpx.MockTransport(lapor))
    service = await start_service(lapor_gateway=gateway)
    [code] = await service.import_from_lapor()
    [received] = await stream_events(nats_client, code)
    [attachment] = received.attachments
    assert attachment.media_type == "application/pdf"
    assert await service.attachments.read(attachment.document_id) == LETTER


async def test_the_fake_hands_out_complaints_from_the_cursor_and_records_pushes():
    fake = FakeLaporGateway(
        inbox=[
            LaporComplaint("a", datetime(2026, 3, 1, tzinfo=UTC), "t", "d"),
            LaporComplaint("b", datetime(2026, 3, 2, tzinfo=UTC), "t", "d"),
        ],
        fail_pushes=1,
    )
    assert [c.lapor_id for c in await fake.fetch_new(datetime(2026, 3, 2, tzinfo=UTC))] == ["b"]
    with pytest.raises(LaporError):
        await fake.push_status("a", "verified", None, datetime(2026, 3, 1, tzinfo=UTC))
    await fake.push_status("a", "verified", None, datetime(2026, 3, 1, tzinfo=UTC))
    assert fake.pushed == [
        {"lapor_id": "a", "status": "verified", "message": None, "at": datetime(2026, 3, 1, tzinfo=UTC)}
    ]
