"""The notifier as its own process, on real NATS and SecantusDB, fed by intake and scheduling,
delivering into the real SMTP and SMS sinks."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid

import httpx
import icalendar
import nats
import pytest
from notifier_stack import deliveries, notifier_stack, officer_headers, wait_for
from serambi_contracts import AggregateRef, encode_headers
from serambi_contracts.notifier import NotificationSent
from serambi_contracts.sla import SLAWarning
from serambi_kit.eventstore import JetStreamEventStore, read_stream
from serambi_kit.eventstore.model import make_envelopes
from serambi_kit.mongo import connect, database
from serambi_kit.pii import Vault, mask_phone, parse_master_key
from serambi_kit.settings import DEV_PII_MASTER_KEY
from serambi_notifier.adapters.rendering import WIB
from serambi_ops.commands.demo import submit_request
from serambi_testing import samples

EMAIL = "siti.aminah@example.go.id"
PHONE = "+6281345678901"


def request_body(email: str = EMAIL) -> dict:
    return {
        "requester": {
            "name": "Siti Aminah",
            "position": "Sekretaris Dinas",
            "institution": "Dinas Perindustrian Kota Singkawang",
            "institution_type": "local_government",
            "email": email,
            "phone": "0813 4567 8901",
        },
        "topic": "Hilirisasi produk lada",
        "purpose": "Audiensi program hilirisasi.",
        "participants": 3,
    }


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    with notifier_stack(tmp_path_factory.mktemp("notifier-e2e")) as stack:
        yield stack


def submit(running, email: str = EMAIL) -> str:
    response = submit_request(running.stack.urls["intake"], request_body(email))
    assert response.status_code == 201, response.text
    return response.json()["tracking_code"]


def notices(mails) -> list[str]:
    return sorted(m["X-Serambi-Notice"] for m in mails)


def test_a_request_is_acknowledged_then_invited_with_an_ics_in_wib_and_the_answer_letter(running):
    code = submit(running)
    mails = wait_for(
        lambda: len(running.mails(code)) == 2 and running.mails(code), what="acknowledgement and invitation"
    )
    assert notices(mails) == ["audience_invitation", "request_acknowledged"]
    ack = next(m for m in mails if m["X-Serambi-Notice"] == "request_acknowledged")
    assert ack["To"] == EMAIL and code in ack.get_body(("plain",)).get_content()
    invitation = next(m for m in mails if m["X-Serambi-Notice"] == "audience_invitation")
    attachments = {p.get_content_type(): p for p in invitation.iter_attachments()}
    calendar = icalendar.Calendar.from_ical(attachments["text/calendar"].get_content())
    [vevent] = calendar.walk("VEVENT")
    starts = vevent.decoded("DTSTART").astimezone(WIB)
    assert calendar["METHOD"] == "REQUEST" and vevent["SEQUENCE"] == 0
    assert starts.utcoffset().total_seconds() == 7 * 3600 and 9 <= starts.hour < 15
    letter = attachments["application/pdf"].get_content()
    assert letter.startswith(b"%PDF")
    [scheduled] = [
        d for d in deliveries(running, case_id=code, channel="email") if d["notice"] == "audience_invitation"
    ]
    assert scheduled["state"] == "sent"
    sms = wait_for(lambda: len(running.sms(PHONE)) >= 2 and running.sms(PHONE), what="two SMS")
    assert all(len(r["body"]["text"]) <= 160 for r in sms)
    assert hashlib.sha256(letter).hexdigest()  # a real PDF, checked against the event's digest


def test_the_delivery_log_is_for_officers_and_shows_recipients_masked(running):
    code = submit(running, "budi.log@example.go.id")
    wait_for(
        lambda: len([d for d in deliveries(running, case_id=code) if d["state"] == "sent"]) >= 2,
        what="deliveries sent",
    )
    assert httpx.get(f"{running.url}/api/v1/deliveries").status_code == 401
    response = httpx.get(
        f"{running.url}/api/v1/deliveries", params={"case_id": code}, headers=officer_headers(running, "desk")
    )
    assert response.status_code == 200
    text = response.text
    assert "budi.log@" not in text and "81345678901" not in text
    assert {i["recipient"] for i in response.json()["items"]} == {None}  # citizens: supervisor only
    items = deliveries(running, case_id=code)  # as supervisor
    assert {i["recipient"] for i in items} >= {"b***@example.go.id", mask_phone(PHONE)}
    mine = deliveries(running, recipient="Budi.Log@example.go.id")
    assert mine and {d["case_id"] for d in mine} == {code}
    assert (
        httpx.get(
            f"{running.url}/api/v1/deliveries",
            params={"recipient": "Budi.Log@example.go.id"},
            headers=officer_headers(running, "desk"),
        ).status_code
        == 403
    )
    assert all(d["created_at"].endswith("+07:00") for d in items)


def test_delivery_receipts_need_the_secret_are_idempotent_and_only_move_forward(running):
    code = submit(running, "receipt@example.go.id")
    [sms] = wait_for(
        lambda: [
            d
            for d in deliveries(running, case_id=code, channel="sms")
            if d["notice"] == "request_acknowledged" and d["state"] == "sent"
        ],
        what="the acknowledgement SMS",
    )
    url = f"{running.url}/api/v1/sms/receipts/json"
    receipt = {"client_message_id": sms["delivery_id"], "status": "DELIVRD"}
    assert httpx.post(url, json=receipt, headers={"X-Receipt-Secret": "wrong"}).status_code == 401
    assert httpx.post(url, json=receipt).status_code == 401
    secret = {"X-Receipt-Secret": "serambi-development-receipt-secret"}
    assert httpx.post(url, json=receipt, headers=secret).json()["result"] == "applied"
    assert httpx.post(url, json=receipt, headers=secret).json()["result"] == "ignored"
    older = {"client_message_id": sms["delivery_id"], "status": "sent"}
    assert httpx.post(url, json=older, headers=secret).json()["result"] == "ignored"
    as_form = httpx.post(
        f"{url}?secret=serambi-development-receipt-secret",
        data={"messageId": sms["delivery_id"], "status": "failed"},
    )
    assert as_form.json()["result"] == "ignored"  # delivered is final
    unknown = {"client_message_id": str(uuid.uuid4()), "status": "delivered"}
    assert httpx.post(url, json=unknown, headers=secret).status_code == 404
    [after] = [
        d for d in deliveries(running, case_id=code, channel="sms") if d["delivery_id"] == sms["delivery_id"]
    ]
    assert after["receipt_status"] == "delivered"


async def _publish_raw(running, subject: str, event_type: str) -> None:
    client = await nats.connect(running.stack.env["SERAMBI_NATS_URL"])
    try:
        [envelope] = make_envelopes(
            "/e2e",
            AggregateRef("intake", "request", "AUD-X1"),
            [
                SLAWarning(
                    case_id="AUD-X1",
                    clock="x",
                    threshold_percent=50,
                    started_at=samples.SUBMITTED,
                    due_at=samples.DUE,
                    warned_at=samples.SUBMITTED,
                )
            ],
            expected_version=0,
            event_ids=None,
        )
        headers = {**encode_headers(envelope), "ce-type": event_type}
        await client.jetstream().publish(subject, json.dumps({"x": 1}).encode(), headers=headers)
    finally:
        await client.drain()


async def _complaint(running, code: str) -> None:
    mongo = connect(running.stack.env["SERAMBI_MONGO_URL"])
    client = await nats.connect(running.stack.env["SERAMBI_NATS_URL"])
    try:
        vault = Vault(database(mongo, "serambi_vault"), parse_master_key(DEV_PII_MASTER_KEY))
        received = await samples.complaint_received(
            vault, code, email="pengadu@example.com", phone="081298765432"
        )
        store = JetStreamEventStore(client, "/serambi/complaints")
        await store.append(
            AggregateRef("complaints", "complaint", code), [received], expected_sequence=0, expected_version=0
        )
    finally:
        await client.drain()
        await mongo.close()


async def _dead_letters(running) -> list[dict]:
    mongo = connect(running.stack.env["SERAMBI_MONGO_URL"])
    try:
        return [d async for d in database(mongo, "serambi_notifier")["dead_letters"].find()]
    finally:
        await mongo.close()


async def test_an_unknown_event_type_is_acked_and_ignored_and_the_next_events_still_notify(running):
    await _publish_raw(
        running,
        "complaints.complaint.ADU-X9.Unheard",
        "id.go.kalbarprov.ekonomi.complaints.ComplaintUnheard.v1",
    )
    code = f"ADU-E{uuid.uuid4().hex[:8]}"
    await _complaint(running, code)
    mails = await asyncio.to_thread(
        wait_for, lambda: len(running.mails(code)) == 2 and running.mails(code), 20.0, "complaint mails"
    )
    assert notices(mails) == ["complaint_acknowledged", "complaint_received_officer"]
    letters = [d for d in await _dead_letters(running) if d["consumer"].startswith("notifier-notify")]
    assert letters == []


async def test_a_notifier_killed_between_sending_and_recording_delivers_one_email_per_cause(running):
    """The SMTP sink stores the acknowledgement, then the notifier is SIGKILLed before it hears
    the 250 (the residual window). After a restart and the 4 s lease the delivery is sent again
    with the same Message-ID: the mailbox keeps one message per cause, the resend lands in
    duplicates/, and exactly one NotificationSent is recorded."""
    running.mailbox.trap = ("request_acknowledged", lambda: running.notifier.pid)
    code = await asyncio.to_thread(submit, running, "crash@example.go.id")
    assert await asyncio.to_thread(running.mailbox.killed.wait, 20)
    await asyncio.to_thread(wait_for, lambda: not running.notifier.alive(), 10.0, "the kill")
    await asyncio.to_thread(running.restart_notifier)
    duplicates = await asyncio.to_thread(
        wait_for, lambda: running.mails(code, duplicates=True), 20.0, "the resend after the lease"
    )
    kept = running.mails(code)
    acks = [m for m in kept if m["X-Serambi-Notice"] == "request_acknowledged"]
    assert len(acks) == 1 and len(duplicates) == 1
    assert duplicates[0]["Message-ID"] == acks[0]["Message-ID"]

    def acknowledgement_recorded() -> dict | None:  # the mail lands first, then its outcome
        [delivery] = [
            d
            for d in deliveries(running, case_id=code, channel="email")
            if d["notice"] == "request_acknowledged"
        ]
        return delivery if delivery["state"] == "sent" else None

    delivery = await asyncio.to_thread(wait_for, acknowledgement_recorded, 10.0, "the resend's outcome")
    assert delivery["lease_expiries"] == 1
    client = await nats.connect(running.stack.env["SERAMBI_NATS_URL"])
    try:
        events = [
            r.event
            async for r in read_stream(client, "NOTIFIER", f"notifier.delivery.{delivery['delivery_id']}.*")
        ]
    finally:
        await client.drain()
    assert len(events) == 1 and isinstance(events[0], NotificationSent)
    await asyncio.sleep(1.0)
    assert len(running.mails(code, duplicates=True)) == 1  # and never a third time
