"""WhatsApp conversations end to end (the complaints service as a process on real nats-server and
SecantusDB, Meta's signed webhook over HTTP, the Graph API stand-in): several messages of one
number are one complaint with notes — within the grouping window whatever its status, after it
while the complaint is open — and nothing the complainant wrote is lost."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from complaints_e2e import Client, events, now, running_stack
from fake_graph_api import FakeGraphApi
from serambi_contracts.complaints import ComplaintChannel, ComplaintNoteAdded, ComplaintReceived
from test_whatsapp_channel import (
    APP_SECRET,
    PHONE_NUMBER_ID,
    TEMPLATE,
    VERIFY_TOKEN,
    answer,
    complaint_from,
    complaint_of_template,
    new_number,
    post,
    text_delivery,
    whatsapp_complaints,
)

HOUR = 3600


@pytest.fixture(scope="module")
def graph() -> Iterator[FakeGraphApi]:
    with FakeGraphApi() as server:
        yield server


@pytest.fixture(scope="module")
def wa_stack(tmp_path_factory: pytest.TempPathFactory, graph: FakeGraphApi) -> Iterator:
    env = {
        "SERAMBI_WHATSAPP_MODE": "cloud", "SERAMBI_WHATSAPP_API_BASE_URL": graph.url,
        "SERAMBI_WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID, "SERAMBI_WHATSAPP_ACCESS_TOKEN": "test-token",
        "SERAMBI_WHATSAPP_APP_SECRET": APP_SECRET, "SERAMBI_WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
        "SERAMBI_WHATSAPP_TEMPLATE": TEMPLATE, "SERAMBI_WHATSAPP_PUSH_SECONDS": "0.2",
        "SERAMBI_WHATSAPP_RETRY_SECONDS": "0.3", "SERAMBI_WHATSAPP_GROUP_MINUTES": "60",
        "SERAMBI_PUBLIC_BASE_URL": "https://layanan.example.go.id",
    }
    with running_stack(tmp_path_factory.mktemp("whatsapp-conversations"), ("complaints",), env) as stack:
        yield stack


@pytest.fixture(scope="module")
def api(wa_stack) -> Client:
    return Client(wa_stack.urls["complaints"])


def ago(seconds: int) -> int:
    return int(now().timestamp()) - seconds


def notes_of(api: Client, code: str, count: int) -> list[dict]:
    """The notes officers see in the case's timeline, once there are ``count``."""
    deadline = time.monotonic() + 15
    while True:
        response = api.details(code)
        assert response.status_code == 200, response.text
        found = [entry for entry in response.json()["timeline"] if entry["step"] == "note"]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_messages_within_the_window_are_one_complaint_and_the_later_ones_its_notes(api, graph, wa_stack):
    number = new_number()
    assert post(api, text_delivery(number, "Izin usaha saya belum terbit.", at=ago(300))).json() == {"recorded": 1}
    assert post(api, text_delivery(number, "Nomor berkasnya 123/IU/2026.", at=ago(200))).json() == {"recorded": 1}
    assert post(api, text_delivery(number, "Mohon segera dibantu.", at=ago(100))).json() == {"recorded": 1}
    code = complaint_from(api, graph, number)
    time.sleep(1)  # a second receipt would have been sent by now
    assert len(graph.messages_to(number)) == 1  # one complaint, one receipt
    assert [n["text"] for n in notes_of(api, code, 2)] == ["Nomor berkasnya 123/IU/2026.", "Mohon segera dibantu."]
    assert not [c for c in whatsapp_complaints(api) if c["summary"] in ("Nomor berkasnya 123/IU/2026.",
                                                                      "Mohon segera dibantu.")]
    received, *notes = events(wa_stack.env["SERAMBI_NATS_URL"], code)
    assert isinstance(received, ComplaintReceived)
    assert [type(n) for n in notes] == [ComplaintNoteAdded, ComplaintNoteAdded]
    assert all(n.channel is ComplaintChannel.WHATSAPP and n.recorded_by == "whatsapp" for n in notes)
    assert "123/IU/2026" not in notes[0].model_dump_json() and number not in notes[0].model_dump_json()


def test_a_duplicate_delivery_of_a_follow_up_is_noted_once(api, graph) -> None:
    number = new_number()
    post(api, text_delivery(number, "Loket tutup lebih awal."))
    code = complaint_from(api, graph, number)
    follow_up = text_delivery(number, "Tadi jam 14.00.", message_id=f"wamid.{uuid.uuid4().hex}")
    assert post(api, follow_up).json() == {"recorded": 1}
    assert post(api, follow_up).json() == {"recorded": 0}
    time.sleep(0.5)
    assert [n["text"] for n in notes_of(api, code, 1)] == ["Tadi jam 14.00."]


def test_after_the_window_a_message_is_a_note_while_open_and_a_new_complaint_once_answered(api, graph):
    number = new_number()
    post(api, text_delivery(number, "Pelayanan di loket B lambat.", at=ago(4 * HOUR)))
    code = complaint_from(api, graph, number)
    assert post(api, text_delivery(number, "Sampai sekarang belum ada kabar.", at=ago(2 * HOUR))).json() \
        == {"recorded": 1}
    assert [n["text"] for n in notes_of(api, code, 1)] == ["Sampai sekarang belum ada kabar."]
    answer(api, code, "Petugas loket B sudah ditambah.")
    graph.wait_for(number, 2)  # the receipt, the answer
    post(api, text_delivery(number, "Sekarang soal parkir yang penuh.", at=ago(0)))
    receipt = graph.wait_for(number, 3)[2]["body"]
    other = receipt["text"]["body"].split("kode ")[1].split(".")[0]
    assert other != code  # two hours after the last message, on an answered complaint: a new one
    assert [n["text"] for n in notes_of(api, code, 1)] == ["Sampai sekarang belum ada kabar."]


def test_messages_of_one_number_delivered_at_once_are_still_one_complaint(api, graph) -> None:
    number = new_number()
    texts = [f"Bagian {n} dari pengaduan saya." for n in range(1, 5)]
    at = ago(30)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda text: post(api, text_delivery(number, text, at=at)), texts))
    assert all(a.status_code in (200, 503) for a in answers)
    for text, response in zip(texts, answers, strict=True):
        if response.status_code == 503:  # Meta delivers it again
            assert post(api, text_delivery(number, text, at=at)).status_code == 200
    code = complaint_from(api, graph, number)
    time.sleep(1)
    assert len(graph.messages_to(number)) == 1
    assert len(notes_of(api, code, 3)) == 3


def test_a_follow_up_reopens_the_24_hour_window_for_the_answer(api, graph) -> None:
    number = new_number()
    post(api, text_delivery(number, "Surat saya hilang di bagian umum.", at=ago(25 * HOUR)))
    code = complaint_of_template(graph, number)  # its own message is older than 24 hours
    post(api, text_delivery(number, "Apakah sudah ditemukan?"))
    notes_of(api, code, 1)
    answer(api, code, "Surat Anda sudah ditemukan.")
    sent = graph.wait_for(number, 2)[1]["body"]
    assert sent["type"] == "text"  # the follow-up is less than 24 hours old: free text is allowed
    assert sent["text"]["body"] == f"Jawaban atas pengaduan {code}:\n\nSurat Anda sudah ditemukan."
