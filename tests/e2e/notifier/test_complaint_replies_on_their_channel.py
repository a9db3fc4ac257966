"""Complainants are answered on the channel they used, end to end: complaints (with its e-mail
channel polling a real Dovecot started here, and its WhatsApp channel talking to the Graph API
stand-in) and the notifier as processes on real NATS and SecantusDB, the notifier delivering
into the real SMTP sink (.eml files) and SMS sink.

- An e-mail complainant's answer is a reply in their thread (In-Reply-To, References, Re:), and
  their reply to it becomes a note on the same complaint.
- A WhatsApp complainant gets the receipt and the answer once, on WhatsApp — no SMS besides;
  a receipt or answer WhatsApp does not deliver comes by SMS instead, and officers see it.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import json
import re
import sys
import time
import uuid
from email.message import EmailMessage
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from notifier_stack import deliveries, notifier_stack, officer_headers, wait_for

TESTS = Path(__file__).resolve().parents[2]
APP_SECRET = "test-app-secret-0123456789abcdef"  # noqa: S105 — the test's own Meta app
PHONE_NUMBER_ID = "1098765432"


def load(name: str, path: Path) -> ModuleType:
    """A helper module of another test folder, under a name of its own."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = sys.modules[name] = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


dovecot_support = load("serambi_dovecot_support", TESTS / "integration/complaints/dovecot_support.py")
fake_graph_api = load("serambi_fake_graph_api", TESTS / "e2e/complaints/fake_graph_api.py")


@pytest.fixture(scope="module")
def dovecot():
    server = dovecot_support.start()
    yield server
    dovecot_support.stop(server)


@pytest.fixture(scope="module")
def graph():
    with fake_graph_api.FakeGraphApi() as server:
        yield server


@pytest.fixture(scope="module")
def running(tmp_path_factory, dovecot, graph):
    env = {
        "SERAMBI_EMAIL_MODE": "imap",
        "SERAMBI_EMAIL_IMAP_HOST": "127.0.0.1",
        "SERAMBI_EMAIL_IMAP_PORT": str(dovecot.port),
        "SERAMBI_EMAIL_IMAP_USER": dovecot_support.USER,
        "SERAMBI_EMAIL_IMAP_PASSWORD": dovecot_support.PASSWORD,
        "SERAMBI_EMAIL_IMAP_CA_FILE": dovecot.ca_file,
        "SERAMBI_EMAIL_POLL_SECONDS": "0.5",
        "SERAMBI_WHATSAPP_MODE": "cloud",
        "SERAMBI_WHATSAPP_API_BASE_URL": graph.url,
        "SERAMBI_WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "SERAMBI_WHATSAPP_ACCESS_TOKEN": "test-token",
        "SERAMBI_WHATSAPP_APP_SECRET": APP_SECRET,
        "SERAMBI_WHATSAPP_VERIFY_TOKEN": "test-verify-token",
        "SERAMBI_WHATSAPP_PUSH_SECONDS": "0.2",
    }
    with notifier_stack(tmp_path_factory.mktemp("complaint-channels"), ("complaints",), env) as stack:
        yield stack


def act(running, code: str, action: str, **body) -> None:
    response = httpx.post(
        f"{running.stack.urls['complaints']}/api/v1/officer/complaints/{code}/{action}",
        json=body or None,
        headers=officer_headers(running),
    )
    assert response.status_code == 200, response.text


def answer(running, code: str, text: str) -> None:
    act(running, code, "classify", tier="ringan")
    act(running, code, "assign", team="tim-pengaduan")
    act(running, code, "answer", answer=text)


def all_mails(running) -> list[EmailMessage]:
    from email import message_from_bytes, policy

    return [
        message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in sorted(running.mail_dir.glob("*.eml"))
    ]


def mail_of(running, address: str, notice: str) -> EmailMessage:
    def found():
        return [m for m in all_mails(running) if m["To"] == address and m["X-Serambi-Notice"] == notice]

    return wait_for(found, 40.0, f"{notice} to {address}")[0]


def complainant_mail(to: str, message_id: str, subject: str, text: str, **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = f"Rina Wati <{to}>"
    message["To"] = "kesra@kalbarprov.go.id"
    message["Subject"] = subject
    message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return bytes(message)


def test_an_email_complainant_gets_the_answer_as_a_reply_in_their_thread_and_their_reply_is_a_note(
    running, dovecot
):
    address = f"rina.{uuid.uuid4().hex[:8]}@warga.example.id"
    original = f"<{uuid.uuid4().hex}@warga.example.id>"
    dovecot._append(
        complainant_mail(address, original, "Antrean loket perizinan", "Saya menunggu tiga jam di loket."),
        "INBOX",
        time.time(),
    )
    ack = mail_of(running, address, "complaint_acknowledged")
    code = ack["X-Serambi-Case"]
    assert ack["In-Reply-To"] == original and ack["Subject"] == "Re: Antrean loket perizinan"

    answer(running, code, "Loket tambahan dibuka mulai Senin.")
    reply = mail_of(running, address, "complaint_answered")  # the .eml the notifier's SMTP sink wrote
    assert reply["In-Reply-To"] == original
    assert reply["References"].split() == [original]
    assert reply["Subject"] == "Re: Antrean loket perizinan"
    assert "Loket tambahan dibuka mulai Senin." in reply.get_body(("plain",)).get_content()

    # the complainant answers the answer: their mail program quotes our Message-ID and the thread
    dovecot._append(
        complainant_mail(
            address,
            f"<{uuid.uuid4().hex}@warga.example.id>",
            f"Re: {reply['Subject']}",
            "Terima kasih, sudah dibuka.",
            In_Reply_To=reply["Message-ID"],
            References=f"{reply['References']} {reply['Message-ID']}",
        ),
        "INBOX",
        time.time(),
    )
    url = f"{running.stack.urls['complaints']}/api/v1/officer/complaints/{code}"

    def noted():
        timeline = httpx.get(url, headers=officer_headers(running)).json()["timeline"]
        return [e for e in timeline if e["step"] == "note"]

    [note] = wait_for(noted, 30.0, "the reply as a note")
    assert note["text"] == "Re: Re: Antrean loket perizinan\n\nTerima kasih, sudah dibuka."
    assert note["channel"] == "email"


def signed_post(running, payload: dict) -> httpx.Response:
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return httpx.post(
        f"{running.stack.urls['complaints']}/api/v1/channels/whatsapp/webhook",
        content=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
    )


def text_delivery(number: str, text: str) -> dict:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "6285828735503",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            "contacts": [{"profile": {"name": "Siti Aminah"}, "wa_id": number}],
                            "messages": [
                                {
                                    "from": number,
                                    "id": fake_graph_api.wamid(number, uuid.uuid4().int),
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


def test_a_whatsapp_complainant_gets_the_receipt_and_the_answer_once_on_whatsapp_without_sms(running, graph):
    number = "62812" + str(uuid.uuid4().int)[:8]
    assert signed_post(running, text_delivery(number, "Jalan di depan kantor rusak.")).json() == {
        "recorded": 1
    }
    receipt = graph.wait_for(number, 1)[0]["body"]
    code = receipt["text"]["body"].split("kode ")[1].split(".")[0]
    answer(running, code, "Perbaikan dijadwalkan minggu depan.")
    assert graph.wait_for(number, 2)[1]["body"]["text"]["body"].startswith(f"Jawaban atas pengaduan {code}")
    act(running, code, "reopen", reason="Belum diperbaiki.")  # the notifier's own notice, by SMS

    def citizens() -> list[tuple[str, str]]:
        return sorted(
            (d["notice"], d["channel"])
            for d in deliveries(running, case_id=code)
            if d["recipient_kind"] == "citizen"
        )

    wait_for(lambda: ("complaint_reopened", "sms") in citizens(), 40.0, "the reopening's SMS")
    time.sleep(1.5)  # anything the earlier events caused has been planned by now
    assert citizens() == [("complaint_classified", "sms"), ("complaint_reopened", "sms")]
    texts = [r["body"]["text"] for r in running.sms("+" + number)]
    assert len(texts) == 2
    assert not any("pengaduan Anda diterima" in t or "jawaban pengaduan" in t for t in texts)
    officers = {d["notice"] for d in deliveries(running, case_id=code) if d["recipient_kind"] == "officer"}
    assert "complaint_received_officer" in officers  # officers are still told


def test_a_receipt_and_an_answer_whatsapp_does_not_deliver_come_by_sms_and_officers_see_it(running, graph):
    number = "62812" + str(uuid.uuid4().int)[:8]
    graph.script.append((400, {"error": {"message": "(#131026) Message undeliverable", "code": 131026}}))
    assert signed_post(running, text_delivery(number, "Lampu jalan mati.")).json() == {"recorded": 1}

    def texts() -> list[str]:
        return [r["body"]["text"] for r in running.sms("+" + number)]

    wait_for(lambda: any("pengaduan Anda diterima" in t for t in texts()), 40.0, "the receipt by SMS")
    code = re.search(r"Kode (ADU-\d{4}-\d{6})", " ".join(texts())).group(1)
    url = f"{running.stack.urls['complaints']}/api/v1/officer/complaints/{code}"
    failed = wait_for(
        lambda: httpx.get(url, headers=officer_headers(running)).json()["failed_replies"],
        20.0,
        "the failed reply on the case",
    )
    assert [(f["reply"], f["reason"], f["error_code"]) for f in failed] == [("receipt", "refused", 131026)]

    graph.script.append((400, {"error": {"message": "(#131026) Message undeliverable", "code": 131026}}))
    answer(running, code, "Lampu sudah diganti.")
    wait_for(lambda: any("Lampu sudah diganti." in t for t in texts()), 40.0, "the answer by SMS")
    assert not graph.messages_to(number)  # WhatsApp delivered nothing
