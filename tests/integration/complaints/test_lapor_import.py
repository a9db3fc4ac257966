"""SP4N-LAPOR! through the port with the in-memory fake: idempotent imports, status pushed back."""

from __future__ import annotations

from datetime import timedelta

from complaints_support import eventually, now, stream_events
from serambi_complaints import application
from serambi_complaints.lapor import IMPORTS, FakeLaporGateway, LaporComplaint
from serambi_contracts.complaints import ComplaintChannel, ComplaintReceived, ComplaintTier, Disclosure


def lapor_complaint(lapor_id: str, minutes_ago: int = 30, **details) -> LaporComplaint:
    return LaporComplaint(lapor_id, now() - timedelta(minutes=minutes_ago), "Perizinan lambat",
                          "Permohonan saya belum diproses.", **details)


async def test_importing_twice_records_each_lapor_complaint_once(start_service, nats_client):
    fake = FakeLaporGateway(inbox=[
        lapor_complaint("LAP-1", 40, name="Rina", email="rina@example.id"),
        lapor_complaint("LAP-2", 20, disclosure=Disclosure.CONFIDENTIAL),
    ])
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
    await application.classify(runtime.store, rules, code, ComplaintTier.NORMATIF, "officer-1")
    await application.assign(runtime.store, code, "Tim Pengelola Pengaduan", None, "officer-1")
    await application.answer(runtime.store, runtime.vault, rules, code, "Izin sudah terbit.", "team-1", now())

    async def pushed_all() -> bool:
        return len(fake.pushed) >= 3

    await eventually(pushed_all)
    assert [(p["lapor_id"], p["status"]) for p in fake.pushed] == [
        ("LAP-5", "verified"), ("LAP-5", "in_progress"), ("LAP-5", "answered")]
    assert fake.pushed[2]["message"] == "Izin sudah terbit."


async def test_complaints_from_other_channels_are_not_pushed(start_service):
    fake = FakeLaporGateway()
    service = await start_service(lapor_gateway=fake, settings={"lapor_push_seconds": 0.1})
    runtime = service.runtime
    new = application.NewComplaint(
        channel=ComplaintChannel.FAX, received_at=now(), disclosure=Disclosure.ANONYMOUS,
        summary="s", description="d", tier=ComplaintTier.RINGAN, recorded_by="o",
    )
    outcome, _ = await application.receive(runtime.store, runtime.db, runtime.vault, service.rules, new, now())
    code = outcome.complaint.tracking_code
    await application.assign(runtime.store, code, "Tim", None, "o")

    async def handled() -> bool:
        document = await runtime.db["complaints"].find_one({"_id": code})
        return bool(document) and document.get("team") == "Tim"

    await eventually(handled)
    assert await service.lapor_pusher.push_pending() == 0 and fake.pushed == []
