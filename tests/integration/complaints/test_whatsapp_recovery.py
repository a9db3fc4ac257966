"""The WhatsApp channel when things go wrong, in-process on real NATS and SecantusDB (the webhook
over ASGI with signed deliveries, the in-memory WhatsApp port): an erased complainant writing
again, a message that fails beside others, a crash between recording and remembering, media the
Graph API will not hand out, replies WhatsApp does not deliver — and message ids, which hold the
sender's number, kept only hashed."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from complaints_support import eventually, stream_events
from serambi_complaints.adapters import whatsapp, whatsapp_replies
from serambi_complaints.adapters.whatsapp import MESSAGES, message_key
from serambi_complaints.application import commands
from serambi_complaints.main import create_app
from serambi_contracts.complaints import (
    ComplaintChannel,
    ComplaintNoteAdded,
    ComplaintReceived,
    ComplaintReplyFailed,
    ComplaintTier,
    Disclosure,
    ReplyFailure,
    ReplyKind,
)
from serambi_kit.erasure import erase, identifiers
from serambi_testing.whatsapp import FakeWhatsApp, example_wamid

SECRET = "test-app-secret"
WA = {
    "whatsapp_mode": "cloud",
    "whatsapp_phone_number_id": "1098765432",
    "whatsapp_access_token": "token",
    "whatsapp_app_secret": SECRET,
    "whatsapp_verify_token": "verify",
    "whatsapp_push_seconds": 0.1,
    "whatsapp_retry_seconds": 0.05,
    "public_base_url": "https://layanan.example.go.id",
}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


def new_number() -> str:
    return "62812" + str(uuid.uuid4().int)[:8]


def message(
    number: str,
    text: str,
    *,
    message_id: str | None = None,
    at: int | None = None,
    media_id: str | None = None,
) -> dict:
    """One message as Meta documents it, with an id shaped like Meta's (it holds the number)."""
    item = {
        "from": number,
        "id": message_id or example_wamid(number, uuid.uuid4().int),
        "timestamp": str(at or int(time.time())),
        "type": "text",
        "text": {"body": text},
    }
    if media_id:
        item.pop("text")
        item.update({"type": "image", "image": {"id": media_id, "mime_type": "image/png", "caption": text}})
    return item


def delivery(*messages: dict) -> dict:
    contacts = [{"wa_id": m["from"], "profile": {"name": "Budi Santoso"}} for m in messages]
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "contacts": contacts,
                            "messages": list(messages),
                        },
                    }
                ],
            }
        ],
    }


async def post(client: httpx.AsyncClient, payload: dict) -> httpx.Response:
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return await client.post(
        "/api/v1/channels/whatsapp/webhook",
        content=body,
        headers={"X-Hub-Signature-256": signature, "Content-Type": "application/json"},
    )


@pytest.fixture
async def wa(start_service):
    async def start(**settings):
        fake = FakeWhatsApp()
        service = await start_service(settings={**WA, **settings}, whatsapp_sender=fake)
        transport = httpx.ASGITransport(app=create_app(service=service), raise_app_exceptions=False)
        client = httpx.AsyncClient(transport=transport, base_url="http://complaints")
        client.service, client.fake = service, fake
        started.append(client)
        return client

    started: list[httpx.AsyncClient] = []
    yield start
    for client in started:
        await client.aclose()


async def code_of(client, message_id: str) -> str:
    mapping = await client.service.runtime.db[MESSAGES].find_one({"_id": message_key(message_id)})
    return mapping["tracking_code"]


async def receipt_queued(client, first: dict) -> None:
    """Wait until the receipt of the complaint ``first`` opened is in the outbox: the replies'
    consumer puts it there after the webhook answered, so a round called before finds nothing."""
    outbox, code = client.service.runtime.db[whatsapp_replies.OUTBOX], await code_of(client, first["id"])
    await eventually(lambda: outbox.count_documents({"tracking_code": code, "kind": "receipt"}), timeout=30)


async def view(client, code: str, check=lambda v: True) -> dict:
    found: dict = {}

    async def ready() -> bool:
        nonlocal found
        found = await client.service.reader().officer_view(code, datetime.now(UTC)) or {}
        return bool(found) and check(found)

    await eventually(ready)
    return found


# -- 1. an erased complainant writes again -------------------------------------------------------
async def test_after_erasure_the_numbers_next_message_opens_a_new_complaint_not_a_500(wa, nats_client):
    client = await wa()
    number = new_number()
    first = message(number, "Antrean loket perizinan panjang sekali")
    assert (await post(client, delivery(first))).json() == {"recorded": 1}
    erased_code = await code_of(client, first["id"])
    assert await erase(client.service.runtime.vault, identifiers(phone="+" + number))

    # within the grouping window, the complaint still open; sent after the erasure
    again = message(number, "Halo, ada kabar?", at=int(time.time()) + 1)
    response = await post(client, delivery(again))
    assert response.status_code == 200 and response.json() == {"recorded": 1}
    new_code = await code_of(client, again["id"])
    assert new_code != erased_code
    assert (await view(client, new_code))["summary"] == "Halo, ada kabar?"
    later = message(number, "Ini lanjutannya.", at=int(time.time()) + 2)
    assert (await post(client, delivery(later))).json() == {"recorded": 1}
    assert await code_of(client, later["id"]) == new_code  # the new complaint is the conversation now
    notes = [e for e in await stream_events(nats_client, new_code) if isinstance(e, ComplaintNoteAdded)]
    assert len(notes) == 1
    assert not [e for e in await stream_events(nats_client, erased_code) if isinstance(e, ComplaintNoteAdded)]


async def test_a_note_placed_on_a_complaint_erased_since_becomes_a_new_complaint_on_redelivery(wa):
    """What an earlier failure left: the message mapped as a note of a complaint whose key is gone."""
    client = await wa()
    number = new_number()
    first = message(number, "Jalan rusak di depan kantor")
    await post(client, delivery(first))
    erased_code = await code_of(client, first["id"])
    await erase(client.service.runtime.vault, identifiers(phone="+" + number))
    again = message(number, "Sudah dua minggu.", at=int(time.time()) + 1)
    await client.service.runtime.db[MESSAGES].insert_one(
        {
            "_id": message_key(again["id"]),
            "role": "note",
            "tracking_code": erased_code,
            "at": datetime.now(UTC),
        }
    )
    response = await post(client, delivery(again))
    assert response.status_code == 200 and response.json() == {"recorded": 1}
    mapping = await client.service.runtime.db[MESSAGES].find_one({"_id": message_key(again["id"])})
    assert mapping["role"] == "complaint" and mapping["tracking_code"] != erased_code and mapping["recorded"]


async def test_a_message_sent_before_the_erasure_and_delivered_again_after_stores_nothing(wa, nats_client):
    client = await wa()
    db, number = client.service.runtime.db, new_number()
    sent_at = int(time.time()) - 60
    first = message(number, "Jalan rusak di depan kantor", at=sent_at)
    await post(client, delivery(first))
    erased_code = await code_of(client, first["id"])
    mapped = message(number, "Nama saya Budi, rumah saya di Jalan Melati 5", at=sent_at + 10)
    await db[MESSAGES].insert_one(  # what an earlier failure left: mapped as its note, not recorded
        {
            "_id": message_key(mapped["id"]),
            "role": "note",
            "tracking_code": erased_code,
            "at": datetime.now(UTC),
        }
    )
    unmapped = message(number, "Nomor KTP saya menyusul", at=sent_at + 20)
    await erase(client.service.runtime.vault, identifiers(phone="+" + number))
    for redelivered in (mapped, unmapped, unmapped):  # Meta retries for days
        response = await post(client, delivery(redelivered))
        assert response.status_code == 200 and response.json() == {"recorded": 0}
    for redelivered in (mapped, unmapped):
        kept = await db[MESSAGES].find_one({"_id": message_key(redelivered["id"])})
        assert kept["recorded"] and kept["role"] == "erased" and "tracking_code" not in kept
    conversation = await db["whatsapp_conversations"].find_one({})  # the number's, by its hash
    assert await db["whatsapp_conversations"].count_documents({"tracking_code": erased_code}) == 0
    assert conversation is None or conversation.get("tracking_code") != erased_code
    after = message(number, "Saya menulis lagi", at=int(time.time()) + 1)  # after it: a new complaint
    assert (await post(client, delivery(after))).json() == {"recorded": 1}
    assert await code_of(client, after["id"]) != erased_code


async def test_one_message_that_fails_does_not_block_the_others_of_the_delivery(wa, monkeypatch):
    client = await wa()
    broken, fine = new_number(), new_number()
    intake = client.service.whatsapp_intake
    complaint = intake._complaint

    async def failing(code, incoming, *args):
        if incoming.phone == "+" + broken:
            raise RuntimeError("a bug")
        return await complaint(code, incoming, *args)

    monkeypatch.setattr(intake, "_complaint", failing)
    first, second = message(broken, "Pesan yang gagal"), message(fine, "Pesan yang baik")
    response = await post(client, delivery(first, second))
    assert response.status_code == 503 and response.headers["Retry-After"]  # Meta delivers it again
    assert (await view(client, await code_of(client, second["id"])))["summary"] == "Pesan yang baik"
    monkeypatch.setattr(intake, "_complaint", complaint)
    assert (await post(client, delivery(first, second))).json() == {"recorded": 1}  # the other, once


# -- 6. recorded only once the conversation knows its complaint ----------------------------------
async def test_a_failure_before_the_conversation_learns_its_complaint_is_redone_on_redelivery(
    wa, monkeypatch
):
    client = await wa()
    number = new_number()
    intake = client.service.whatsapp_intake
    remember = intake._remember

    async def once(*args):
        monkeypatch.setattr(intake, "_remember", remember)
        raise ConnectionError("MongoDB went away")

    monkeypatch.setattr(intake, "_remember", once)
    first = message(number, "Izin saya belum terbit")
    assert (await post(client, delivery(first))).status_code == 503
    assert (await post(client, delivery(first))).json() == {"recorded": 0}  # Meta's redelivery
    code = await code_of(client, first["id"])
    follow_up = message(number, "Nomor berkas 12/IU")
    assert (await post(client, delivery(follow_up))).json() == {"recorded": 1}
    assert await code_of(client, follow_up["id"]) == code  # a note on it, not a second complaint


# -- 5. media the Graph API will not hand out ----------------------------------------------------
async def test_an_expired_token_on_a_media_fetch_is_retried_not_the_file_dropped(wa):
    client = await wa()
    number, media_id = new_number(), str(uuid.uuid4().int)[:16]
    client.fake.media[media_id] = PNG
    client.fake.token_expired = True
    photo = message(number, "Foto antrean", media_id=media_id)
    assert (await post(client, delivery(photo))).status_code == 503
    client.fake.token_expired = False  # an operator renewed it
    assert (await post(client, delivery(photo))).json() == {"recorded": 1}
    found = await view(client, await code_of(client, photo["id"]), lambda v: v["attachments"])
    assert found["attachments"][0]["media_type"] == "image/png"


async def test_media_failing_for_good_lets_the_message_through_after_the_attempts(wa):
    client = await wa()
    client.service.whatsapp_intake.media_max_attempts = 3
    number, media_id = new_number(), str(uuid.uuid4().int)[:16]
    client.fake.media[media_id] = PNG
    client.fake.token_expired = True
    photo = message(number, "Foto antrean", media_id=media_id)
    assert [(await post(client, delivery(photo))).status_code for _ in range(2)] == [503, 503]
    assert (await post(client, delivery(photo))).json() == {"recorded": 1}  # the third attempt
    client.fake.token_expired = False
    found = await view(client, await code_of(client, photo["id"]))
    assert found["attachments"] == []
    assert f"tidak dapat diunduh dari WhatsApp; media id {media_id}]" in found["description"]


async def test_media_of_a_message_sent_over_a_day_ago_is_not_waited_for(wa):
    client = await wa()
    number, media_id = new_number(), str(uuid.uuid4().int)[:16]
    client.fake.fail_next = 1  # the Graph API is down (HTTP 503)
    photo = message(number, "Foto lama", media_id=media_id, at=int(time.time()) - 25 * 3600)
    assert (await post(client, delivery(photo))).json() == {"recorded": 1}
    found = await view(client, await code_of(client, photo["id"]))
    assert f"media id {media_id}]" in found["description"]


# -- 2. message ids hold the number: kept only hashed --------------------------------------------
async def test_no_message_id_nor_number_is_kept_in_mongodb(wa, mongo_client):
    client = await wa()
    service, number = client.service, new_number()
    first, second = message(number, "Lampu jalan mati"), message(number, "Sudah seminggu")
    await post(client, delivery(first))
    await post(client, delivery(second))
    code = await code_of(client, first["id"])
    store, vault, rules, now = service.runtime.store, service.runtime.vault, service.rules, datetime.now(UTC)
    await commands.classify(store, rules, code, ComplaintTier.RINGAN, "officer-1")
    await commands.assign(store, code, "tim-pengaduan", None, "officer-1")
    await commands.answer(store, vault, rules, code, "Lampu sudah diganti.", "officer-1", now)

    async def both_sent() -> bool:
        return (
            len(client.fake.sent) == 2
            and await service.runtime.db["whatsapp_outbox"].count_documents({"state": "sent"}) == 2
        )

    await eventually(both_sent)
    ids = [first["id"], second["id"], *(m["id"] for m in client.fake.sent)]
    assert all(number in base64.b64decode(i.removeprefix("wamid.")).decode("latin-1") for i in ids)
    text = ""
    for name in (service.settings.mongo_database, service.settings.vault_database):
        database = mongo_client[name]
        for collection in await database.list_collection_names():
            async for document in database[collection].find():
                text += json.dumps(document, default=str) + "\n"
    assert number not in text
    assert "wamid." not in text and not any(i.removeprefix("wamid.")[:12] in text for i in ids)


async def test_ids_recorded_in_clear_before_are_rekeyed_at_start(start_service):
    service = await start_service(settings=WA, whatsapp_sender=FakeWhatsApp())
    db, raw = service.runtime.db, example_wamid("6281234567890")
    await db[MESSAGES].insert_one(
        {"_id": raw, "role": "complaint", "tracking_code": "ADU-2026-000001", "recorded": True}
    )
    await db["whatsapp_outbox"].insert_one(
        {
            "_id": "e1",
            "state": "sent",
            "message_id": raw,
            "last_error": "Cloud API send: HTTP 503 code 2 +6281234567890",
        }
    )
    await start_service(settings=WA, whatsapp_sender=FakeWhatsApp())  # a replica starting (a restart)
    assert await db[MESSAGES].find_one({"_id": raw}) is None
    assert (await db[MESSAGES].find_one({"_id": message_key(raw)}))["tracking_code"] == "ADU-2026-000001"
    assert await db["whatsapp_outbox"].find_one({"_id": "e1"}) == {
        "_id": "e1",
        "state": "sent",
        "message_key": message_key(raw),
        "last_error": "HTTP 503 code 2",
    }


# -- 3 and 4. replies WhatsApp does not deliver -------------------------------------------------
async def officer_recorded(service, received_at: datetime) -> str:
    new = commands.NewComplaint(
        channel=ComplaintChannel.WHATSAPP,
        received_at=received_at,
        disclosure=Disclosure.NAMED,
        summary="Jalan rusak",
        description="Jalan rusak di depan kantor",
        name="Budi",
        phone="+62812" + str(uuid.uuid4().int)[:8],
        recorded_by="officer-aduan",
    )
    outcome, _ = await commands.receive(
        service.runtime.store,
        service.runtime.db,
        service.runtime.vault,
        service.rules,
        new,
        received_at + timedelta(minutes=5),
    )
    return outcome.complaint.tracking_code


async def failure_of(nats_client, code: str) -> ComplaintReplyFailed:
    found: list = []

    async def recorded() -> bool:
        nonlocal found
        found = [e for e in await stream_events(nats_client, code) if isinstance(e, ComplaintReplyFailed)]
        return bool(found)

    await eventually(recorded)
    [failed] = found
    return failed


async def test_a_receipt_refused_for_good_is_recorded_for_the_notifiers_sms_and_shown_to_officers(
    wa, nats_client
):
    client = await wa()
    client.fake.refusing = 131026  # not a WhatsApp number
    number = new_number()
    first = message(number, "Pelayanan lambat")
    await post(client, delivery(first))
    code = await code_of(client, first["id"])
    failed = await failure_of(nats_client, code)
    assert (failed.reply, failed.reason, failed.error_code, failed.attempts) == (
        ReplyKind.RECEIPT,
        ReplyFailure.REFUSED,
        131026,
        1,
    )
    received = (await stream_events(nats_client, code))[0]
    assert isinstance(received, ComplaintReceived)
    assert failed.cause_event_id and failed.answer is None and number not in failed.model_dump_json()
    shown = (await view(client, code, lambda v: v["failed_replies"]))["failed_replies"]
    assert [(f["reply"], f["reason"]) for f in shown] == [("receipt", "refused")]


async def test_an_expired_token_is_retried_and_after_the_last_attempt_the_answer_goes_by_sms(wa, nats_client):
    client = await wa(whatsapp_max_attempts=3)
    service, number = client.service, new_number()
    first = message(number, "Lampu jalan mati")
    await post(client, delivery(first))
    code = await code_of(client, first["id"])
    await eventually(lambda: _async(len(client.fake.sent) == 1))
    client.fake.token_expired = True
    store, vault, rules = service.runtime.store, service.runtime.vault, service.rules
    await commands.classify(store, rules, code, ComplaintTier.RINGAN, "officer-1")
    await commands.assign(store, code, "tim-pengaduan", None, "officer-1")
    await commands.answer(store, vault, rules, code, "Lampu sudah diganti.", "officer-1", datetime.now(UTC))
    failed = await failure_of(nats_client, code)
    assert (failed.reply, failed.reason, failed.error_code, failed.attempts) == (
        ReplyKind.ANSWER,
        ReplyFailure.UNAVAILABLE,
        190,
        3,
    )
    assert await vault.reveal(failed.answer) == "Lampu sudah diganti."  # sealed, for the SMS


async def _async(value):
    return value


async def test_an_officer_recorded_receipt_outside_the_window_is_not_sent_as_the_answer_template(
    wa, nats_client
):
    client = await wa()
    code = await officer_recorded(
        client.service, datetime.now(UTC).replace(microsecond=0) - timedelta(hours=30)
    )
    failed = await failure_of(nats_client, code)
    assert (failed.reply, failed.reason, failed.attempts) == (
        ReplyKind.RECEIPT,
        ReplyFailure.OUTSIDE_WINDOW,
        0,
    )
    assert client.fake.sent == []  # never "Pengaduan … sudah dijawab"


async def test_with_a_receipt_template_a_late_receipt_goes_as_that_template(wa):
    client = await wa(whatsapp_receipt_template="serambi_terima_pengaduan")
    code = await officer_recorded(
        client.service, datetime.now(UTC).replace(microsecond=0) - timedelta(hours=30)
    )
    await eventually(lambda: _async(bool(client.fake.sent)))
    [sent] = client.fake.sent
    assert (sent["type"], sent["template"], sent["parameters"]) == (
        "template",
        "serambi_terima_pengaduan",
        [code],
    )


async def test_a_failure_the_event_store_did_not_take_is_recorded_on_a_later_round(
    wa, nats_client, monkeypatch
):
    client = await wa()
    decide = whatsapp_replies.decide_reply_failed

    def once(*args):
        monkeypatch.setattr(whatsapp_replies, "decide_reply_failed", decide)
        raise ConnectionError("NATS went away")

    monkeypatch.setattr(whatsapp_replies, "decide_reply_failed", once)
    client.fake.refusing = 131026
    number = new_number()
    first = message(number, "Pelayanan lambat")
    await post(client, delivery(first))
    failed = await failure_of(nats_client, await code_of(client, first["id"]))
    assert failed.reason is ReplyFailure.REFUSED
    outbox = client.service.runtime.db["whatsapp_outbox"]
    await eventually(lambda: outbox.count_documents({"reported": True}))


# -- 5. a reply Meta accepted, then reported not delivered (a status webhook) --------------------
def status(message_id: str, state: str, code: int | None = None) -> dict:
    item = {"id": message_id, "status": state, "timestamp": str(int(time.time())), "recipient_id": "0"}
    if code is not None:
        item["errors"] = [{"code": code, "title": "Message undeliverable"}]
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [
                    {"field": "messages", "value": {"messaging_product": "whatsapp", "statuses": [item]}}
                ],
            }
        ],
    }


async def test_a_reply_reported_failed_later_is_recorded_once_for_the_sms(wa, nats_client):
    client = await wa()
    number = new_number()
    first = message(number, "Pelayanan lambat")
    await post(client, delivery(first))
    code = await code_of(client, first["id"])
    outbox = client.service.runtime.db["whatsapp_outbox"]
    await eventually(lambda: outbox.count_documents({"tracking_code": code, "state": "sent"}))
    [sent] = client.fake.sent
    for state in ("sent", "delivered", "read"):
        assert (await post(client, status(sent["id"], state))).status_code == 200
    assert await outbox.count_documents({"tracking_code": code, "state": "sent"}) == 1
    for _ in range(2):  # Meta delivers the status again
        assert (await post(client, status(sent["id"], "failed", 131026))).status_code == 200
    failed = await failure_of(nats_client, code)  # exactly one
    assert (failed.reply, failed.reason, failed.error_code) == (
        ReplyKind.RECEIPT,
        ReplyFailure.REFUSED,
        131026,
    )
    assert (await outbox.find_one({"tracking_code": code}))["state"] == "failed"


async def test_a_free_text_reported_failed_for_the_closed_window_goes_again_as_the_template(wa, nats_client):
    client = await wa(whatsapp_receipt_template="serambi_terima_pengaduan")
    number = new_number()
    first = message(number, "Pelayanan lambat")
    await post(client, delivery(first))
    code = await code_of(client, first["id"])
    await eventually(lambda: _async(len(client.fake.sent) == 1))
    [text] = client.fake.sent
    assert text["type"] == "text"
    assert (await post(client, status(text["id"], "failed", 131047))).status_code == 200
    assert (await post(client, status(text["id"], "failed", 131047))).status_code == 200
    assert [(m["type"], m.get("template")) for m in client.fake.sent] == [
        ("text", None),
        ("template", "serambi_terima_pengaduan"),
    ]
    entry = await client.service.runtime.db["whatsapp_outbox"].find_one({"tracking_code": code})
    assert (entry["state"], entry["mode"]) == ("sent", "template")
    assert not [e for e in await stream_events(nats_client, code) if isinstance(e, ComplaintReplyFailed)]


async def test_a_reply_failed_before_failures_were_reported_is_reported_after_a_restart(wa, nats_client):
    client = await wa()
    code = await officer_recorded(
        client.service, datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    )
    outbox = client.service.runtime.db["whatsapp_outbox"]
    await eventually(lambda: outbox.count_documents({"tracking_code": code, "state": "sent"}))
    entry = await outbox.find_one({"tracking_code": code})
    await outbox.update_one(
        {"_id": entry["_id"]},
        {  # as an earlier version left a refusal
            "$set": {
                "state": "failed",
                "error_code": 131026,
                "last_error": "refused: +6281234567890 is not on WA",
            },
            "$unset": {"reported": "", "reason": "", "failed_at": ""},
        },
    )
    await wa()  # a restart
    failed = await failure_of(nats_client, code)
    assert (failed.reply, failed.reason, failed.error_code) == (
        ReplyKind.RECEIPT,
        ReplyFailure.REFUSED,
        131026,
    )
    await eventually(lambda: outbox.count_documents({"tracking_code": code, "reported": True}))
    assert (await outbox.find_one({"tracking_code": code}))["last_error"] == "error"


async def test_one_malformed_failed_entry_does_not_stall_the_reports_of_the_others(wa, nats_client):
    client = await wa()
    outbox = client.service.runtime.db["whatsapp_outbox"]
    await outbox.insert_one(
        {
            "_id": "broken",
            "state": "failed",
            "reported": False,
            "kind": "receipt",
            "at": datetime(2000, 1, 1, tzinfo=UTC),
        }
    )  # no tracking code nor reason
    client.fake.refusing = 131026
    number = new_number()
    first = message(number, "Pelayanan lambat")
    await post(client, delivery(first))
    code = await code_of(client, first["id"])
    await eventually(lambda: outbox.count_documents({"tracking_code": code, "reported": True}))
    await outbox.update_many({"tracking_code": code}, {"$set": {"reported": False}})  # as if not taken
    await client.service.whatsapp_replies.send_pending()  # the broken one comes first (oldest)
    failed = await failure_of(nats_client, code)
    assert failed.reason is ReplyFailure.REFUSED
    assert await outbox.count_documents({"tracking_code": code, "reported": True}) == 1


async def test_a_message_failing_because_a_dependency_is_down_is_never_given_up(wa, monkeypatch):
    """An outage (here the event store not answering) is not the message's fault: however often
    Meta delivers it during the outage, it is not dead-lettered, and it is recorded once the
    store is back."""
    from serambi_kit.eventstore import EventStoreUnavailable

    client = await wa()
    number = new_number()
    intake = client.service.whatsapp_intake
    complaint = intake._complaint

    async def down(*args):
        raise EventStoreUnavailable("no JetStream answer")

    monkeypatch.setattr(intake, "_complaint", down)
    waiting = message(number, "Pesan saat server gangguan")
    answers = [(await post(client, delivery(waiting))).status_code for _ in range(15)]
    assert answers == [503] * 15
    assert await client.service.runtime.db["dead_letters"].count_documents({}) == 0
    monkeypatch.setattr(intake, "_complaint", complaint)
    assert (await post(client, delivery(waiting))).status_code == 200
    assert await client.service.runtime.db["dead_letters"].count_documents({}) == 0


async def test_a_message_that_always_fails_becomes_a_dead_letter_without_its_content_and_is_acknowledged(
    wa, monkeypatch
):
    client = await wa()
    number = new_number()
    intake = client.service.whatsapp_intake

    async def failing(*args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(intake, "_complaint", failing)
    poison = message(number, "Pesan yang selalu gagal")
    answers = [(await post(client, delivery(poison))).status_code for _ in range(10)]
    assert answers == [503] * 9 + [200]
    assert (await post(client, delivery(poison))).status_code == 200  # acknowledged from now on
    letters = [d async for d in client.service.runtime.db["dead_letters"].find()]
    [letter] = letters
    content = json.loads(letter["payload"])
    assert (letter["sequence"], letter["status"], content["kind"], content["error"]) == (
        0,
        "open",
        "text",
        "RuntimeError",
    )
    assert content["message_key"] == message_key(poison["id"]) and letter["manual"]
    text = json.dumps(letters, default=str)
    assert number not in text and "gagal" not in text and poison["id"] not in text


# -- 7. erasure: nothing left that links the number to the complaint (issue #17) -----------------
def _links(document: dict, code: str) -> list[str]:
    """What in a raw document still points at the complaint or holds sealed data."""
    text = json.dumps(document, default=str)
    found = [code] if code in text else []
    return found + [field for field in ("phone", "token", "answer", "message_key") if field in document]


async def test_after_erasure_no_whatsapp_record_links_the_number_to_the_complaint(wa, nats_client):
    client = await wa(whatsapp_erasure_seconds=0.1)
    db, vault, number = client.service.runtime.db, client.service.runtime.vault, new_number()
    sent_at = int(time.time()) - 30
    first = message(number, "Pungutan liar di loket perizinan", at=sent_at)
    follow_up = message(number, "Petugasnya meminta Rp 200.000", at=sent_at + 5)
    assert (await post(client, delivery(first))).json() == {"recorded": 1}
    assert (await post(client, delivery(follow_up))).json() == {"recorded": 1}  # a note
    code = await code_of(client, first["id"])
    outbox = db["whatsapp_outbox"]
    await eventually(lambda: outbox.count_documents({"tracking_code": code, "state": "sent"}))
    await view(client, code)  # the read model shows it (the erasure round finds complaints there)
    whatsapp = [name for name in await db.list_collection_names() if name.startswith("whatsapp")]
    assert {"whatsapp_conversations", "whatsapp_messages", "whatsapp_outbox"} <= set(whatsapp)

    assert await erase(vault, identifiers(phone="+" + number))  # what `serambi personal-data erase` does

    async def forgotten() -> bool:
        documents = [document for name in whatsapp for document in await db[name].find().to_list()]
        return not [document for document in documents if _links(document, code)]

    await eventually(forgotten)
    conversation = await db["whatsapp_conversations"].find_one({"_id": vault.lookup_hash("+" + number)})
    assert set(conversation) <= {"_id", "lease_until", "holder"}
    assert await db["whatsapp_erased_numbers"].count_documents({"_id": vault.lookup_hash("+" + number)}) == 1
    for sent in (first, follow_up):  # a redelivery is still recorded once, and stores nothing
        kept = await db[MESSAGES].find_one({"_id": message_key(sent["id"])})
        assert (kept["role"], kept["recorded"], "tracking_code" in kept) == ("erased", True, False)
        assert (await post(client, delivery(sent))).json() == {"recorded": 0}
    [reply] = await outbox.find({}).to_list()
    assert reply["state"] == "erased" and not _links(reply, code)
    assert await vault.subjects_of("+" + number) == []  # nothing of the number came back

    later = message(number, "Saya menulis lagi", at=int(time.time()) + 2)  # after it: a new complaint
    assert (await post(client, delivery(later))).json() == {"recorded": 1}
    assert await code_of(client, later["id"]) != code
    notes = [e for e in await stream_events(nats_client, code) if isinstance(e, ComplaintNoteAdded)]
    assert len(notes) == 1  # only the follow-up of before


async def test_a_complaint_recorded_but_not_marked_brings_no_data_back_on_redelivery_after_erasure(wa):
    """A crash between the complaint's append and its mark, then the erasure, then Meta's retry:
    nothing is sealed again — no data key the number finds — and the conversation is not
    linked to the erased complaint again (the erasure round is off here: checked by the intake)."""
    client = await wa(whatsapp_erasure_seconds=3600)
    db, vault, number = client.service.runtime.db, client.service.runtime.vault, new_number()
    first = message(number, "Izin usaha saya ditolak tanpa alasan", at=int(time.time()) - 30)
    await post(client, delivery(first))
    code = await code_of(client, first["id"])
    await db[MESSAGES].update_one({"_id": message_key(first["id"])}, {"$unset": {"recorded": ""}})
    assert await erase(vault, identifiers(phone="+" + number))
    response = await post(client, delivery(first))
    assert response.status_code == 200 and response.json() == {"recorded": 0}
    assert await vault.subjects_of("+" + number) == []
    assert await db["whatsapp_conversations"].count_documents({"tracking_code": code}) == 0
    kept = await db[MESSAGES].find_one({"_id": message_key(first["id"])})
    assert (kept["role"], kept["recorded"], "tracking_code" in kept) == ("erased", True, False)


async def test_a_message_mapped_to_a_new_complaint_before_the_erasure_opens_none_after_it(wa, nats_client):
    """The message was mapped to a new complaint (another complaint of the number's), then a
    failure; the number's complainant was erased; Meta's retry must not record the complaint."""
    client = await wa(whatsapp_erasure_seconds=3600)
    db, vault, number = client.service.runtime.db, client.service.runtime.vault, new_number()
    sent_at = int(time.time()) - 60
    first = message(number, "Jalan rusak di depan kantor", at=sent_at)
    await post(client, delivery(first))
    mapped = message(number, "Nama saya Budi, KTP saya 3271010101010001", at=sent_at + 10)
    new_code = await client.service.whatsapp_intake._new_code(datetime.now(UTC))
    await db[MESSAGES].insert_one(
        {
            "_id": message_key(mapped["id"]),
            "role": "complaint",
            "tracking_code": new_code,
            "at": datetime.now(UTC),
        }
    )
    assert await erase(vault, identifiers(phone="+" + number))
    response = await post(client, delivery(mapped))
    assert response.status_code == 200 and response.json() == {"recorded": 0}
    assert await stream_events(nats_client, new_code) == []
    assert await vault.subjects_of("+" + number) == []
    kept = await db[MESSAGES].find_one({"_id": message_key(mapped["id"])})
    assert (kept["role"], kept["recorded"], "tracking_code" in kept) == ("erased", True, False)


# -- 8. failed statuses: early, and delivered twice at once --------------------------------------
async def test_a_failed_status_arriving_before_the_send_is_recorded_still_leads_to_the_sms(
    wa, nats_client, monkeypatch
):
    client = await wa()
    send_text = client.fake.send_text

    async def reported_at_once(to: str, text: str) -> str:  # Meta's status overtakes the outbox's record
        message_id = await send_text(to, text)
        assert (await post(client, status(message_id, "failed", 131026))).status_code == 200
        return message_id

    monkeypatch.setattr(client.fake, "send_text", reported_at_once)
    first = message(new_number(), "Pelayanan lambat")
    assert (await post(client, delivery(first))).json() == {"recorded": 1}
    code = await code_of(client, first["id"])
    failed = await failure_of(nats_client, code)
    assert (failed.reply, failed.reason, failed.error_code) == (
        ReplyKind.RECEIPT,
        ReplyFailure.REFUSED,
        131026,
    )
    db = client.service.runtime.db
    assert (await db["whatsapp_outbox"].find_one({"tracking_code": code}))["state"] == "failed"
    assert await db[whatsapp_replies.STATUSES].count_documents({}) == 0  # applied, then forgotten


async def test_two_copies_of_a_closed_window_status_at_once_send_the_template_once(
    wa, nats_client, monkeypatch
):
    client = await wa(whatsapp_receipt_template="serambi_terima_pengaduan")
    first = message(new_number(), "Pelayanan lambat")
    await post(client, delivery(first))
    await eventually(lambda: _async(len(client.fake.sent) == 1))
    [text] = client.fake.sent
    send_template = client.fake.send_template

    async def slow(*args):  # the Graph API takes its time: both copies are in hand meanwhile
        await asyncio.sleep(0.3)
        return await send_template(*args)

    monkeypatch.setattr(client.fake, "send_template", slow)
    copies = await asyncio.gather(*(post(client, status(text["id"], "failed", 131047)) for _ in range(2)))
    assert [response.status_code for response in copies] == [200, 200]
    await asyncio.sleep(0.5)  # a round could apply a kept status too
    assert [(m["type"], m.get("template")) for m in client.fake.sent] == [
        ("text", None),
        ("template", "serambi_terima_pengaduan"),
    ]
    code = await code_of(client, first["id"])
    assert not [e for e in await stream_events(nats_client, code) if isinstance(e, ComplaintReplyFailed)]


async def test_a_bounce_claimed_by_a_late_round_is_not_taken_again_by_a_copy(wa, monkeypatch):
    """A round's ``now`` may be minutes old when it applies a status (its sends took that long):
    the claim counts from the clock, and lasts longer than a send, so a copy of the status
    arriving while the template is being sent does not send it a second time."""
    client = await wa(whatsapp_receipt_template="serambi_terima_pengaduan", whatsapp_push_seconds=3600)
    db = client.service.runtime.db
    first = message(new_number(), "Pelayanan lambat")
    await post(client, delivery(first))
    await receipt_queued(client, first)
    await client.service.whatsapp_replies.send_pending()
    [text] = client.fake.sent
    send_template = client.fake.send_template

    async def slow(*args):
        await asyncio.sleep(0.3)
        return await send_template(*args)

    monkeypatch.setattr(client.fake, "send_template", slow)
    key = message_key(text["id"])
    await db[whatsapp_replies.STATUSES].insert_one({"_id": key, "code": 131047, "at": datetime.now(UTC)})
    stale = datetime.now(UTC) - timedelta(seconds=90)  # a round's `now` after 90 s of sends

    async def webhook_copy():
        await asyncio.sleep(0.05)
        return await post(client, status(text["id"], "failed", 131047))

    await asyncio.gather(client.service.whatsapp_replies._apply_failure(key, stale), webhook_copy())
    sent = [(m["type"], m.get("template")) for m in client.fake.sent]
    assert sent.count(("template", "serambi_terima_pengaduan")) == 1


async def test_a_bounce_cut_short_is_resumed_by_the_rounds(wa):
    """A process that ended mid-bounce leaves the reply ``bouncing``: once its lease is over, the
    rounds give it its failure back and apply it (here: the template), even after the kept
    status was forgotten."""
    client = await wa(whatsapp_receipt_template="serambi_terima_pengaduan", whatsapp_push_seconds=3600)
    db, replies = client.service.runtime.db, client.service.whatsapp_replies
    first = message(new_number(), "Lampu jalan mati")
    await post(client, delivery(first))
    await receipt_queued(client, first)
    await replies.send_pending()
    [text] = client.fake.sent
    key = message_key(text["id"])
    await db[whatsapp_replies.OUTBOX].update_one(  # what a crash mid-bounce leaves, the status gone
        {"message_key": key},
        {
            "$set": {
                "state": "bouncing",
                "bounce_code": 131047,
                "claimed_until": datetime.now(UTC) - timedelta(seconds=1),
            }
        },
    )
    await replies.send_pending()
    sent = [(m["type"], m.get("template")) for m in client.fake.sent]
    assert sent.count(("template", "serambi_terima_pengaduan")) == 1
    [reply] = (
        await db[whatsapp_replies.OUTBOX]
        .find({"tracking_code": await code_of(client, first["id"])})
        .to_list()
    )
    assert (reply["state"], reply["mode"]) == ("sent", "template")
    assert await db[whatsapp_replies.STATUSES].count_documents({"_id": key}) == 0


async def test_an_erasure_from_before_the_register_is_forgotten_at_start_up(wa):
    """A key erased before the vault kept ``data_key_erasures`` is in no register the rounds
    follow: the start-up backfill finds the complaints the channel still links whose key is gone,
    and forgets them the same way (idempotent). An exact ``erased_at`` an earlier version kept on
    a conversation moves to the shifted marker."""
    client = await wa(whatsapp_erasure_seconds=3600)
    db, vault, number = client.service.runtime.db, client.service.runtime.vault, new_number()
    first = message(number, "Pungutan liar", at=int(time.time()) - 30)
    await post(client, delivery(first))
    code = await code_of(client, first["id"])
    await eventually(lambda: db["whatsapp_outbox"].count_documents({"tracking_code": code, "state": "sent"}))
    await view(client, code)
    await client.service.whatsapp_erasures.forget_erased()  # the rounds' cursor exists
    [key] = await vault.subjects_of("+" + number)
    assert await erase(vault, identifiers(phone="+" + number))
    await vault._db["data_key_erasures"].delete_one({"_id": key})  # erased before the register existed
    await client.service.whatsapp_erasures.forget_erased()
    assert await db[MESSAGES].count_documents({"tracking_code": code}) == 1  # the rounds cannot see it
    old = vault.lookup_hash("+" + new_number())  # what an earlier version kept on a forgotten conversation
    exact = datetime.now(UTC).replace(microsecond=123000) - timedelta(days=1)
    await db["whatsapp_conversations"].insert_one({"_id": old, "erased_at": exact})

    assert await client.service.whatsapp_erasures.backfill() == 1
    for name in ("whatsapp_conversations", "whatsapp_messages", "whatsapp_outbox"):
        assert not [d for d in await db[name].find().to_list() if _links(d, code)], name
    assert await db["whatsapp_erased_numbers"].count_documents({"_id": vault.lookup_hash("+" + number)}) == 1
    assert "erased_at" not in await db["whatsapp_conversations"].find_one({"_id": old})
    assert await whatsapp.erased_at_of(db, vault, old) == exact
    assert await client.service.whatsapp_erasures.backfill() == 0  # idempotent
    assert (await post(client, delivery(first))).json() == {"recorded": 0}  # a redelivery stores nothing


async def test_the_erasure_time_kept_for_a_number_does_not_join_the_vaults_register_and_expires(wa):
    """The number's erasure marker keeps the time shifted by a keyed offset (no exact join with
    ``data_key_erasures``), in its own collection whose TTL index forgets it after Meta's
    redelivery horizon; the service still undoes the shift exactly (a message sent just before
    the erasure stores nothing, one just after opens a new complaint)."""
    client = await wa(whatsapp_erasure_seconds=3600)
    db, vault, number = client.service.runtime.db, client.service.runtime.vault, new_number()
    first = message(number, "Jalan rusak", at=int(time.time()) - 30)
    await post(client, delivery(first))
    code = await code_of(client, first["id"])
    await view(client, code)
    [key] = await vault.subjects_of("+" + number)
    just_before = message(number, "Alamat saya menyusul", at=int(time.time()) - 1)
    assert await erase(vault, identifiers(phone="+" + number))
    await client.service.whatsapp_erasures.forget_erased()
    erased_at = await vault.erased_at(key)
    hashed = vault.lookup_hash("+" + number)
    assert "erased_at" not in await db["whatsapp_conversations"].find_one({"_id": hashed})
    marker = await db["whatsapp_erased_numbers"].find_one({"_id": hashed})
    assert set(marker) == {"_id", "shifted_at", "forget_at"}
    assert await vault._db["data_key_erasures"].count_documents({"erased_at": marker["shifted_at"]}) == 0
    assert erased_at <= marker["shifted_at"].replace(tzinfo=UTC) < erased_at + timedelta(hours=1)
    assert marker["forget_at"] - marker["shifted_at"] == timedelta(days=7)
    ttl = [
        i
        for i in (await db["whatsapp_erased_numbers"].index_information()).values()
        if i["key"] == [("forget_at", 1)]
    ]
    assert ttl and ttl[0]["expireAfterSeconds"] == 0
    assert await whatsapp.erased_at_of(db, vault, hashed) == erased_at
    assert (await post(client, delivery(just_before))).json() == {"recorded": 0}
    after = message(number, "Saya menulis lagi", at=int(time.time()) + 1)
    assert (await post(client, delivery(after))).json() == {"recorded": 1}
    assert await code_of(client, after["id"]) != code
