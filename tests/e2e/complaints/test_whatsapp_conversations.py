"""WhatsApp conversations and media end to end (the complaints service as a process on real
nats-server and SecantusDB, Meta's signed webhook over HTTP, the Graph API stand-in): several
messages of one number are one complaint with notes — within the grouping window whatever its
status, after it while the complaint is open — and the photos, documents and voice notes they
send are downloaded through the Graph API and kept as attachments: nothing is lost."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from complaints_e2e import Client, events, headers, now
from fake_graph_api import FakeGraphApi
from serambi_contracts.complaints import ComplaintChannel, ComplaintNoteAdded, ComplaintReceived
from serambi_testing.stack import running_stack
from test_whatsapp_channel import (
    APP_SECRET,
    PHONE_NUMBER_ID,
    RECEIPT_TEMPLATE,
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

pytestmark = pytest.mark.slow  # make test-slow (CI runs it after make test)

HOUR = 3600


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
        "SERAMBI_WHATSAPP_GROUP_MINUTES": "60",
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
    assert post(api, text_delivery(number, "Izin usaha saya belum terbit.", at=ago(300))).json() == {
        "recorded": 1
    }
    assert post(api, text_delivery(number, "Nomor berkasnya 123/IU/2026.", at=ago(200))).json() == {
        "recorded": 1
    }
    assert post(api, text_delivery(number, "Mohon segera dibantu.", at=ago(100))).json() == {"recorded": 1}
    code = complaint_from(api, graph, number)
    time.sleep(1)  # a second receipt would have been sent by now
    assert len(graph.messages_to(number)) == 1  # one complaint, one receipt
    assert [n["text"] for n in notes_of(api, code, 2)] == [
        "Nomor berkasnya 123/IU/2026.",
        "Mohon segera dibantu.",
    ]
    assert not [
        c
        for c in whatsapp_complaints(api)
        if c["summary"] in ("Nomor berkasnya 123/IU/2026.", "Mohon segera dibantu.")
    ]
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
    assert post(api, text_delivery(number, "Sampai sekarang belum ada kabar.", at=ago(2 * HOUR))).json() == {
        "recorded": 1
    }
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


def test_the_complainants_follow_up_resumes_a_clock_paused_waiting_on_them(api, graph, wa_stack) -> None:
    number = new_number()
    post(api, text_delivery(number, "Bantuan modal usaha belum cair."))
    code = complaint_from(api, graph, number)
    assert api.act(code, "classify", tier="ringan").status_code == 200
    assert api.act(code, "pause", reason="Menunggu nomor proposal").status_code == 200
    assert post(api, text_delivery(number, "Nomor proposalnya 45/BM/2026.")).json() == {"recorded": 1}
    view = api.wait_for(code, lambda case: any(e["step"] == "resumed" for e in case["timeline"]))
    assert not view["paused"]
    assert [e.get("cause") for e in view["timeline"] if e["step"] == "resumed"] == ["complainant_note"]
    resumed = [
        e
        for e in events(wa_stack.env["SERAMBI_NATS_URL"], code)
        if type(e).__name__ == "ComplaintClockResumed"
    ]
    assert len(resumed) == 1 and resumed[0].resumed_by == "whatsapp" and resumed[0].due_at is not None


PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
OGG = b"OggS\x00\x02" + bytes(300)
DOCX = b"PK\x03\x04" + bytes(100)
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(100)


def media_delivery(
    number: str, kind: str, media_id: str, caption: str | None = None, *, message_id: str | None = None
) -> dict:
    """A delivery as Meta documents it for an incoming image, document, audio or video."""
    media = {
        "mime_type": {
            "image": "image/jpeg",
            "document": "application/pdf",
            "audio": "audio/ogg; codecs=opus",
            "video": "video/mp4",
        }[kind],
        "sha256": "aGFzaA==",
        "id": media_id,
    }
    if caption:
        media["caption"] = caption
    if kind == "document":
        media["filename"] = "surat.pdf"
    delivery = text_delivery(number, "-", message_id=message_id)
    message = delivery["entry"][0]["changes"][0]["value"]["messages"][0]
    message.pop("text")
    message.update({"type": kind, kind: media})
    return delivery


def new_media_id() -> str:
    return str(uuid.uuid4().int)[:16]


def download(api: Client, code: str, document_id: str) -> bytes:
    response = httpx.get(
        f"{api.url}/api/v1/officer/complaints/{code}/attachments/{document_id}", headers=headers("officer")
    )
    assert response.status_code == 200, response.text
    return response.content


def test_a_photo_is_downloaded_through_the_graph_api_and_kept_as_the_complaints_attachment(api, graph):
    number, media_id = new_number(), new_media_id()
    graph.media[media_id] = PNG
    assert post(api, media_delivery(number, "image", media_id, "Foto antrean di loket")).json() == {
        "recorded": 1
    }
    code = complaint_from(api, graph, number)
    view = api.wait_for(code, lambda v: v.get("attachments"))
    [attachment] = view["attachments"]
    assert attachment["media_type"] == "image/png" and attachment["size"] == len(PNG)  # by its bytes
    assert download(api, code, attachment["document_id"]) == PNG
    assert view["summary"] == "Foto antrean di loket" and "tidak disimpan" not in view["description"]
    asked = [r for r in graph.media_requests() if media_id in r["path"]]
    assert [r["path"] for r in asked] == [f"/v21.0/{media_id}", f"/files/{media_id}"]
    assert {r["authorization"] for r in asked} == {"Bearer test-token"}


def test_a_document_and_a_voice_note_sent_later_are_kept_with_their_notes(api, graph):
    number, pdf_id, voice_id = new_number(), new_media_id(), new_media_id()
    graph.media.update({pdf_id: PDF, voice_id: OGG})
    post(api, text_delivery(number, "Permohonan izin saya ditolak tanpa alasan."))
    code = complaint_from(api, graph, number)
    assert post(api, media_delivery(number, "document", pdf_id, "Surat penolakannya")).json() == {
        "recorded": 1
    }
    assert post(api, media_delivery(number, "audio", voice_id)).json() == {"recorded": 1}
    notes = notes_of(api, code, 2)
    assert [n["text"] for n in notes] == ["Surat penolakannya", "(pesan suara lewat WhatsApp)"]
    view = api.details(code).json()
    kept = {a["document_id"]: a["media_type"] for a in view["attachments"]}
    assert [kept[n["attachments"][0]] for n in notes] == ["application/pdf", "audio/ogg"]
    assert download(api, code, notes[0]["attachments"][0]) == PDF
    assert download(api, code, notes[1]["attachments"][0]) == OGG


@pytest.mark.parametrize(
    ("kind", "content", "why"),
    [
        ("document", DOCX, "jenis file tidak diterima"),  # a Word file: typed by its bytes, refused
        ("video", MP4, "jenis file tidak diterima"),  # not even downloaded
        ("document", None, "tidak dapat diunduh dari WhatsApp"),  # Meta no longer has it
    ],
)
def test_media_that_cannot_be_kept_leave_the_complaint_recorded_with_the_reason_and_media_id(
    api, graph, kind, content, why
):
    number, media_id = new_number(), new_media_id()
    if content is not None:
        graph.media[media_id] = content
    assert post(api, media_delivery(number, kind, media_id, "Lampiran saya")).json() == {"recorded": 1}
    code = complaint_from(api, graph, number)
    view = api.wait_for(code, lambda v: v.get("channel") == "whatsapp")
    assert view["attachments"] == []
    assert f"tidak disimpan: {why}; media id {media_id}]" in view["description"]
    downloads = [r for r in graph.media_requests() if r["path"] == f"/files/{media_id}"]
    assert len(downloads) == (1 if kind == "document" and content else 0)


def test_a_file_over_the_limit_is_not_downloaded_at_all(api, graph):
    number, media_id = new_number(), new_media_id()
    graph.media[media_id] = b"%PDF-" + bytes(10_000_000)  # one byte past... and more than 10 MB
    post(api, media_delivery(number, "document", media_id, "Scan dokumen"))
    code = complaint_from(api, graph, number)
    view = api.wait_for(code, lambda v: v.get("channel") == "whatsapp")
    assert view["attachments"] == [] and "tidak disimpan: file terlalu besar" in view["description"]
    assert not [r for r in graph.media_requests() if r["path"] == f"/files/{media_id}"]


def test_a_graph_api_outage_answers_503_and_the_redelivery_keeps_the_file(api, graph):
    number, media_id = new_number(), new_media_id()
    graph.media[media_id] = PNG
    delivery = media_delivery(number, "image", media_id, "Foto", message_id=f"wamid.{uuid.uuid4().hex}")
    graph.media_script.append(503)
    first = post(api, delivery)
    assert first.status_code == 503 and first.headers["Retry-After"]
    assert graph.messages_to(number) == []  # nothing recorded, no receipt
    assert post(api, delivery).json() == {"recorded": 1}  # Meta delivers it again
    code = complaint_from(api, graph, number)
    [attachment] = api.wait_for(code, lambda v: v.get("attachments"))["attachments"]
    assert download(api, code, attachment["document_id"]) == PNG
