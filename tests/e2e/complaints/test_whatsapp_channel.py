"""The WhatsApp channel end to end: the complaints service as a process on real nats-server and
SecantusDB, Meta's webhook driven over HTTP with signed payloads shaped like Meta's documented
ones, and the replies sent to a local stand-in of the Graph API (every request recorded)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from complaints_e2e import Client, events, now
from fake_graph_api import FakeGraphApi, wamid
from pymongo import MongoClient
from serambi_contracts.complaints import ComplaintReceived
from serambi_testing.stack import running_stack

pytestmark = pytest.mark.slow  # make test-slow (CI runs it after make test)

APP_SECRET = "test-app-secret-0123456789abcdef"
VERIFY_TOKEN = "test-verify-token"
PHONE_NUMBER_ID = "1098765432"
TEMPLATE = "serambi_jawaban_pengaduan"
RECEIPT_TEMPLATE = "serambi_terima_pengaduan"


@pytest.fixture(scope="module")
def graph() -> Iterator[FakeGraphApi]:
    with FakeGraphApi() as server:
        yield server


@pytest.fixture(scope="module")
def wa_stack(tmp_path_factory: pytest.TempPathFactory, graph: FakeGraphApi) -> Iterator:
    env = {
        "SERAMBI_WHATSAPP_MODE": "cloud",
        "SERAMBI_WHATSAPP_API_BASE_URL": graph.url,
        "SERAMBI_WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "SERAMBI_WHATSAPP_ACCESS_TOKEN": "test-token",
        "SERAMBI_WHATSAPP_APP_SECRET": APP_SECRET,
        "SERAMBI_WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
        "SERAMBI_WHATSAPP_TEMPLATE": TEMPLATE,
        "SERAMBI_WHATSAPP_RECEIPT_TEMPLATE": RECEIPT_TEMPLATE,
        "SERAMBI_WHATSAPP_PUSH_SECONDS": "0.2",
        "SERAMBI_WHATSAPP_RETRY_SECONDS": "0.3",
        "SERAMBI_PUBLIC_BASE_URL": "https://layanan.example.go.id",
    }
    with running_stack(tmp_path_factory.mktemp("whatsapp"), ("complaints",), env) as stack:
        yield stack


@pytest.fixture(scope="module")
def api(wa_stack) -> Client:
    return Client(wa_stack.urls["complaints"])


def new_number() -> str:
    return "62812" + str(uuid.uuid4().int)[:8]


def text_delivery(
    number: str, text: str, *, message_id: str | None = None, at: int | None = None, name: str = "Siti Aminah"
) -> dict[str, Any]:
    """A delivery as Meta documents it for an incoming text message."""
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
                            "contacts": [{"profile": {"name": name}, "wa_id": number}],
                            "messages": [
                                {
                                    "from": number,
                                    "id": message_id or wamid(number, uuid.uuid4().int),
                                    "timestamp": str(at or int(time.time())),
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


def status_delivery(number: str) -> dict[str, Any]:
    """A delivery of a status update (our message was delivered): nothing to record."""
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
                            "statuses": [
                                {
                                    "id": "wamid.out-1",
                                    "status": "delivered",
                                    "timestamp": str(int(time.time())),
                                    "recipient_id": number,
                                    "conversation": {"id": "c1", "origin": {"type": "service"}},
                                    "pricing": {
                                        "billable": True,
                                        "pricing_model": "CBP",
                                        "category": "service",
                                    },
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


def post(api: Client, payload: dict[str, Any], secret: str = APP_SECRET, **headers: str) -> httpx.Response:
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return httpx.post(
        f"{api.url}/api/v1/channels/whatsapp/webhook",
        content=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature, **headers},
    )


def whatsapp_complaints(api: Client) -> list[dict]:
    response = api.queue(role="supervisor", channel="whatsapp", size=100)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def complaint_from(api: Client, graph: FakeGraphApi, number: str) -> str:
    """The tracking code the complainant was sent on WhatsApp."""
    receipt = graph.wait_for(number, 1)[0]["body"]
    assert receipt["type"] == "text"
    return receipt["text"]["body"].split("kode ")[1].split(".")[0]


def test_meta_s_verification_handshake_echoes_the_challenge_only_with_the_verify_token(api) -> None:
    url = f"{api.url}/api/v1/channels/whatsapp/webhook"
    good = httpx.get(
        url, params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    )
    assert good.status_code == 200 and good.text == "1158201444"
    wrong = httpx.get(
        url, params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"}
    )
    assert wrong.status_code == 403


def test_a_text_message_becomes_a_whatsapp_complaint_and_the_sender_gets_the_tracking_link(
    api,
    graph,
    wa_stack,
) -> None:
    number = new_number()
    response = post(
        api, text_delivery(number, "Izin usaha saya belum diproses sejak dua bulan.\nMohon dibantu.")
    )
    assert response.status_code == 200 and response.json() == {"recorded": 1}
    code = complaint_from(api, graph, number)
    view = api.wait_for(code, lambda v: v.get("channel") == "whatsapp")
    assert view["summary"] == "Izin usaha saya belum diproses sejak dua bulan."
    identity = api.identity(code).json()
    assert identity == {"tracking_code": code, "name": "Siti Aminah", "email": None, "phone": "+" + number}
    assert view["recorded_by"] == "whatsapp"
    assert view["clock"] == "triage"
    received = events(wa_stack.env["SERAMBI_NATS_URL"], code)[0]
    assert isinstance(received, ComplaintReceived) and received.recorded_by == "whatsapp"
    assert number not in received.model_dump_json()  # the number travels sealed
    receipt = graph.messages_to(number)[0]
    assert receipt["path"] == f"/v21.0/{PHONE_NUMBER_ID}/messages"
    assert receipt["authorization"] == "Bearer test-token"
    assert f"https://layanan.example.go.id/lacak/pengaduan/{code}#t=" in receipt["body"]["text"]["body"]
    assert number not in wa_stack.log_text()


def stored_text(stack) -> str:
    """Every document of every database of the stack (the service's and the vault's), as JSON."""
    with MongoClient(stack.env["SERAMBI_MONGO_URL"]) as client:
        return "\n".join(
            json.dumps(document, default=str)
            for name in client.list_database_names()
            if name not in ("admin", "config", "local")
            for collection in client[name].list_collection_names()
            for document in client[name][collection].find()
        )


def sent_replies(stack, code: str, count: int, timeout: float = 15.0) -> None:
    """Wait until the outbox holds ``count`` replies of complaint ``code`` marked sent."""
    deadline = time.monotonic() + timeout
    with MongoClient(stack.env["SERAMBI_MONGO_URL"]) as client:
        while True:
            found = sum(
                client[name]["whatsapp_outbox"].count_documents({"tracking_code": code, "state": "sent"})
                for name in client.list_database_names()
                if name not in ("admin", "config", "local")
            )
            if found >= count:
                return
            assert time.monotonic() < deadline, f"{found} of {count} replies of {code} marked sent"
            time.sleep(0.1)


def test_message_ids_which_hold_the_number_are_kept_only_hashed(api, graph, wa_stack) -> None:
    """A wamid is base64 holding the other party's number (Meta's example
    wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA holds 16505076520): neither the ids
    of the complainant's messages nor those of our replies are kept, nor logged."""
    number = new_number()
    first, second = wamid(number, 1), wamid(number, 2)
    assert number.encode() in base64.b64decode(first.removeprefix("wamid."))
    post(api, text_delivery(number, "Lampu jalan di depan kantor mati.", message_id=first))
    post(api, text_delivery(number, "Sudah seminggu.", message_id=second))
    code = complaint_from(api, graph, number)
    answer(api, code, "Lampu sudah diganti.")
    sent = [r["id"] for r in graph.wait_for(number, 2)]
    sent_replies(wa_stack, code, 2)  # the outbox recorded both as sent (their ids, hashed)
    stored, logged = stored_text(wa_stack), wa_stack.log_text()
    for message_id in (first, second, *sent):
        assert message_id not in stored and message_id not in logged
    assert number not in stored and number not in logged


def test_a_duplicate_delivery_of_the_same_message_is_recorded_once(api, graph) -> None:
    number = new_number()
    delivery = text_delivery(number, "Antrean loket terlalu panjang", message_id=f"wamid.{uuid.uuid4().hex}")
    assert post(api, delivery).json() == {"recorded": 1}
    assert post(api, delivery).json() == {"recorded": 0}
    complaint_from(api, graph, number)
    time.sleep(1)  # a second receipt would have been sent by now
    assert len(graph.messages_to(number)) == 1
    mine = [c for c in whatsapp_complaints(api) if c.get("summary") == "Antrean loket terlalu panjang"]
    assert len(mine) == 1


def test_a_bad_signature_is_refused_with_401_and_logged_without_the_payload(api, wa_stack) -> None:
    number = new_number()
    secret_text = f"rahasia-{uuid.uuid4().hex}"
    before = len(whatsapp_complaints(api))
    assert post(api, text_delivery(number, secret_text), secret="not-the-app-secret").status_code == 401
    unsigned = httpx.post(
        f"{api.url}/api/v1/channels/whatsapp/webhook", json=text_delivery(number, secret_text)
    )
    assert unsigned.status_code == 401
    assert len(whatsapp_complaints(api)) == before
    log = wa_stack.log_text()
    assert "whatsapp.bad_signature" in log
    assert secret_text not in log and number not in log


def test_status_updates_are_acknowledged_and_record_nothing(api) -> None:
    before = len(whatsapp_complaints(api))
    response = post(api, status_delivery(new_number()))
    assert response.status_code == 200 and response.json() == {"recorded": 0}
    assert len(whatsapp_complaints(api)) == before


def test_a_body_over_the_limit_is_refused_with_413(api) -> None:
    response = post(api, text_delivery(new_number(), "x" * 100_000))
    assert response.status_code == 413


def answer(api: Client, code: str, text: str) -> None:
    for action, body in (
        ("classify", {"tier": "ringan"}),
        ("assign", {"team": "tim-pengaduan"}),
        ("answer", {"answer": text}),
    ):
        response = api.act(code, action, **body)
        assert response.status_code == 200, response.text


def test_the_answer_goes_back_as_free_text_within_the_window_after_a_failed_attempt(api, graph) -> None:
    number = new_number()
    post(api, text_delivery(number, "Jalan rusak di depan kantor"))
    code = complaint_from(api, graph, number)
    graph.script.append((503, {"error": {"message": "temporarily unavailable", "code": 2}}))
    answer(api, code, "Perbaikan dijadwalkan minggu depan.")
    sent = graph.wait_for(number, 2)[1]["body"]
    assert sent["type"] == "text"
    assert sent["text"]["body"] == f"Jawaban atas pengaduan {code}:\n\nPerbaikan dijadwalkan minggu depan."
    failed = [r for r in graph.requests if r["status"] == 503]
    assert failed and failed[0]["body"]["to"] == number


def test_outside_the_24_hour_window_the_answer_goes_as_the_approved_template(api, graph) -> None:
    number = new_number()
    yesterday = int(now().timestamp()) - 25 * 3600
    post(api, text_delivery(number, "Pelayanan tidak ramah", at=yesterday))
    code = complaint_of_template(graph, number)
    answer(api, code, "Petugas sudah ditegur.")
    sent = graph.wait_for(number, 2)[1]["body"]
    assert sent["type"] == "template"
    assert sent["template"] == {
        "name": TEMPLATE,
        "language": {"code": "id"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": code}]}],
    }


def complaint_of_template(graph: FakeGraphApi, number: str) -> str:
    """The receipt of a message older than 24 hours goes as the receipt's own template (its code
    inside), never the answer's."""
    receipt = graph.wait_for(number, 1)[0]["body"]
    assert receipt["type"] == "template" and receipt["template"]["name"] == RECEIPT_TEMPLATE
    return receipt["template"]["components"][0]["parameters"][0]["text"]


def failed_status(number: str, message_id: str, code: int) -> dict[str, Any]:
    """Meta's later report that a message it accepted was not delivered (as documented for the
    24-hour window: error 131047, "Re-engagement message")."""
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
                            "statuses": [
                                {
                                    "id": message_id,
                                    "status": "failed",
                                    "timestamp": str(int(time.time())),
                                    "recipient_id": number,
                                    "errors": [
                                        {
                                            "code": code,
                                            "title": "Re-engagement message",
                                            "message": "Re-engagement message",
                                            "error_data": {
                                                "details": (
                                                    "Message failed to send because more than 24 hours have passed since "
                                                    "the customer last replied to this number."
                                                )
                                            },
                                        }
                                    ],
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


def test_a_free_text_refused_for_the_closed_window_goes_again_at_once_as_the_receipt_template(
    api,
    graph,
) -> None:
    number = new_number()
    graph.script.append(
        (
            400,
            {
                "error": {
                    "message": "(#131047) Re-engagement message",
                    "type": "OAuthException",
                    "code": 131047,
                    "fbtrace_id": "A1b2C3",
                }
            },
        )
    )
    post(api, text_delivery(number, "Antrean KTP sangat panjang"))
    [sent] = graph.wait_for(number, 1)
    assert sent["body"]["type"] == "template" and sent["body"]["template"]["name"] == RECEIPT_TEMPLATE
    refused = [r for r in graph.requests if r["status"] == 400 and r["body"].get("to") == number]
    assert [r["body"]["type"] for r in refused] == ["text"]


def test_a_free_text_reported_failed_for_the_closed_window_goes_again_as_the_template_once(
    api, graph
) -> None:
    number = new_number()
    post(api, text_delivery(number, "Pelayanan tidak ramah"))
    [text] = graph.wait_for(number, 1)
    assert text["body"]["type"] == "text"
    for _ in range(2):  # Meta delivers the status again
        response = post(api, failed_status(number, text["id"], 131047))
        assert response.status_code == 200 and response.json() == {"recorded": 0}
    template = graph.wait_for(number, 2)[1]["body"]
    assert template["type"] == "template" and template["template"]["name"] == RECEIPT_TEMPLATE
    code = template["template"]["components"][0]["parameters"][0]["text"]
    assert code.startswith("ADU-") and code in text["body"]["text"]["body"]
    time.sleep(1.0)  # the replies round (every 0.2 s) sends nothing more either
    assert len(graph.messages_to(number)) == 2
