"""Complaints with attachments (public and officers' submissions), sealed so an erasure makes
them unreadable, and "lost your link?", through the complaints service as its own process on
real nats-server and SecantusDB."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from complaints_e2e import access_events, events, headers, of_type
from pymongo import MongoClient
from serambi_contracts.audit import PersonalDataAccessed
from serambi_contracts.complaints import ComplaintLinkRequested, ComplaintReceived
from serambi_ops.commands.demo import SAMPLE_PDF, SAMPLE_PNG

JPEG = b"\xff\xd8\xff\xe0" + bytes(64)
MARKER = b"SURAT PENGADUAN RAHASIA 3171015505880003"
MARKED_PDF = b"%PDF-1.4\n" + MARKER + bytes(range(256)) * 800  # > 3 sealed segments
M4A_NOTE = b"\x00\x00\x00\x1cftypM4A \x00\x00\x00\x00M4A isom" + bytes(2000)
OGG_NOTE = b"OggS\x00\x02" + bytes(2000)
MP4_VIDEO = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00isommp42" + bytes(2000)
SERAMBI = Path(sys.executable).parent / "serambi"
FIELDS = {
    "disclosure": "anonymous",
    "summary": "Jalan rusak di depan kantor",
    "description": "Lubang besar, foto terlampir.",
    "email": "pelapor@example.id",
}


def submit(api, files: list[tuple[str, tuple[str, bytes, str]]], **fields: str) -> httpx.Response:
    return httpx.post(f"{api.url}/api/v1/complaints", data={**FIELDS, **fields}, files=files, timeout=60)


def record(api, files: list[tuple[str, tuple[str, bytes, str]]], **fields: str) -> httpx.Response:
    """An officer records a phone call with its attachments (multipart)."""
    body = {**FIELDS, "channel": "telephone", **fields}
    return httpx.post(
        f"{api.url}/api/v1/officer/complaints", data=body, files=files, headers=headers("officer"), timeout=60
    )


def raw_chunks(stack, document_id: str) -> bytes:
    """What GridFS holds of a file (and what a backup of the database would hold)."""
    with MongoClient(stack.env["SERAMBI_MONGO_URL"]) as client:
        chunks = (
            client["serambi_complaints"]["attachments.chunks"].find({"files_id": document_id}).sort("n", 1)
        )
        return b"".join(bytes(chunk["data"]) for chunk in chunks)


def erase(stack, *identifier: str) -> None:
    done = subprocess.run(
        [str(SERAMBI), "personal-data", "erase", *identifier],
        env={**os.environ, **stack.env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and not done.stdout.startswith("erased 0"), done.stdout + done.stderr


def stored_attachments(stack) -> dict[str, int]:
    with MongoClient(stack.env["SERAMBI_MONGO_URL"]) as client:
        statuses: dict[str, int] = {}
        for doc in client["serambi_complaints"]["attachments.files"].find({}, {"metadata.status": 1}):
            status = doc["metadata"]["status"]
            statuses[status] = statuses.get(status, 0) + 1
        return statuses


def test_a_complaint_with_a_photo_and_a_pdf_stores_both_and_an_officer_downloads_them_audited(
    real_stack, api
):
    photo, pdf = ("jalan.jpg", JPEG, "image/jpeg"), ("surat.pdf", SAMPLE_PDF, "application/pdf")
    response = submit(api, [("attachments", photo), ("attachments", pdf)])
    assert response.status_code == 201, response.text
    answer = response.json()
    code = answer["tracking_code"]
    assert [(a["media_type"], a["size"]) for a in answer["attachments"]] == [
        ("image/jpeg", len(JPEG)),
        ("application/pdf", len(SAMPLE_PDF)),
    ]
    [received] = of_type(events(real_stack.env["SERAMBI_NATS_URL"], code), ComplaintReceived)
    assert [a.document_id for a in received.attachments] == [a["document_id"] for a in answer["attachments"]]
    assert received.access_token is not None  # sealed: the notifier builds the tracking link from it

    view = api.wait_for(code, lambda v: len(v.get("attachments", [])) == 2)
    download = httpx.get(f"{api.url}{view['attachments'][1]['url']}", headers=headers("team"))
    assert download.status_code == 200 and download.content == SAMPLE_PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"] == f'attachment; filename="{code}-lampiran-2.pdf"'
    assert download.headers["x-content-type-options"] == "nosniff"
    audit = of_type(access_events(real_stack, code), PersonalDataAccessed)
    assert [(a.fields, a.purpose) for a in audit] == [(["attachment"], "attachment 2 download")]
    tracking = api.track(code, answer["access_token"]).json()
    assert tracking["attachment_count"] == 2


def test_an_attachment_is_for_complaint_officers_only(api):
    code = submit(api, [("attachments", ("a.png", SAMPLE_PNG, "image/png"))]).json()["tracking_code"]
    view = api.wait_for(code, lambda v: len(v.get("attachments", [])) == 1)
    url = f"{api.url}{view['attachments'][0]['url']}"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers=headers("desk")).status_code == 403
    other = url.rsplit("/", 1)[0] + "/D" + "0" * 32
    assert httpx.get(other, headers=headers("team")).status_code == 404


@pytest.mark.parametrize(
    ("files", "status", "field", "rule"),
    [
        (
            [("attachments", (f"{n}.png", SAMPLE_PNG, "image/png")) for n in range(6)],
            422,
            "attachments",
            "too_many",
        ),
        (
            [
                ("attachments", ("ok.png", SAMPLE_PNG, "image/png")),
                ("attachments", ("big.jpg", JPEG + bytes(10_000_000), "image/jpeg")),
            ],
            413,
            "attachments.1",
            "too_large",
        ),
        (
            [("attachments", ("foto.jpg", b"MZ\x90\x00 an executable", "image/jpeg"))],
            415,
            "attachments.0",
            "unsupported_type",
        ),
        ([("attachments", ("kosong.pdf", b"", "application/pdf"))], 422, "attachments.0", "missing"),
    ],
)
def test_an_attachment_over_a_limit_is_refused_naming_it_and_nothing_is_kept(
    real_stack, api, files, status, field, rule
):
    before = stored_attachments(real_stack)
    response = submit(api, files)
    assert response.status_code == status, response.text
    [error] = response.json()["errors"]
    assert (error["field"], error["rule"]) == (field, rule) and error["message"].startswith(field)
    assert stored_attachments(real_stack) == before


def test_an_attachment_of_exactly_ten_megabytes_is_accepted(api):
    response = submit(
        api, [("attachments", ("besar.jpg", JPEG + bytes(10_000_000 - len(JPEG)), "image/jpeg"))]
    )
    assert response.status_code == 201, response.text
    assert response.json()["attachments"][0]["size"] == 10_000_000


def test_the_form_encoding_validates_its_fields_like_json_and_ignores_an_empty_file_input(api):
    bad = submit(api, [], summary="x" * 301)
    assert bad.status_code == 422
    assert [(e["field"], e["rule"]) for e in bad.json()["errors"]] == [("summary", "string_too_long")]
    no_file_chosen = submit(api, [("attachments", ("", b"", "application/octet-stream"))], email="")
    assert no_file_chosen.status_code == 201, no_file_chosen.text
    assert no_file_chosen.json()["attachments"] == []


def test_json_still_works_and_another_body_type_is_415(api):
    response = api.submit(summary="Tanpa lampiran", description="Lewat JSON.", disclosure="anonymous")
    assert response.status_code == 201 and response.json()["attachments"] == []
    other = httpx.post(
        f"{api.url}/api/v1/complaints", content=b"summary=x", headers={"content-type": "text/plain"}
    )
    assert other.status_code == 415


def test_an_officer_records_a_phone_call_with_its_audio_note_and_a_letter_and_downloads_them_audited(
    real_stack, api
):
    files = [
        ("attachments", ("rekaman.m4a", M4A_NOTE, "application/octet-stream")),
        ("attachments", ("pesan.ogg", OGG_NOTE, "audio/ogg")),
        ("attachments", ("surat.pdf", MARKED_PDF, "application/pdf")),
    ]
    response = record(api, files, disclosure="named", name="Budi Santoso", email="budi.santoso@example.id")
    assert response.status_code == 201, response.text
    code, stored = response.json()["tracking_code"], response.json()["attachments"]
    assert [(a["media_type"], a["size"]) for a in stored] == [
        ("audio/mp4", len(M4A_NOTE)),
        ("audio/ogg", len(OGG_NOTE)),
        ("application/pdf", len(MARKED_PDF)),
    ]
    assert MARKER not in raw_chunks(real_stack, stored[2]["document_id"])
    view = api.wait_for(code, lambda v: len(v.get("attachments", [])) == 3)
    note = httpx.get(f"{api.url}{view['attachments'][0]['url']}", headers=headers("team"))
    assert note.status_code == 200 and note.content == M4A_NOTE
    assert note.headers["content-disposition"] == f'attachment; filename="{code}-lampiran-1.m4a"'
    letter = httpx.get(f"{api.url}{view['attachments'][2]['url']}", headers=headers("supervisor"))
    assert letter.status_code == 200 and letter.content == MARKED_PDF
    audit = of_type(access_events(real_stack, code), PersonalDataAccessed)
    assert [(a.officer, a.purpose) for a in audit if a.fields == ["attachment"]] == [
        ("team-1", "attachment 1 download"),
        ("supervisor-1", "attachment 3 download"),
    ]


def test_an_officers_attachment_of_another_type_or_an_audio_note_sent_online_is_refused(real_stack, api):
    before = stored_attachments(real_stack)
    video = record(api, [("attachments", ("video.m4a", MP4_VIDEO, "audio/mp4"))])
    assert video.status_code == 415, video.text
    assert [(e["field"], e["rule"]) for e in video.json()["errors"]] == [
        ("attachments.0", "unsupported_type")
    ]
    online = submit(api, [("attachments", ("rekaman.ogg", OGG_NOTE, "audio/ogg"))])
    assert online.status_code == 415 and online.json()["errors"][0]["rule"] == "unsupported_type"
    too_many = record(api, [("attachments", (f"{n}.png", SAMPLE_PNG, "image/png")) for n in range(6)])
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["rule"] == "too_many"
    bad_field = record(api, [("attachments", ("a.png", SAMPLE_PNG, "image/png"))], channel="online")
    assert bad_field.status_code == 422 and bad_field.json()["errors"][0]["field"] == "channel"
    assert stored_attachments(real_stack) == before


def test_an_erased_complainants_attachments_are_gone_and_their_chunks_never_held_the_content(real_stack, api):
    response = submit(
        api,
        [("attachments", ("surat.pdf", MARKED_PDF, "application/pdf"))],
        disclosure="named",
        name="Sari Dewi",
        email="sari.dewi.hapus@example.id",
    )
    assert response.status_code == 201, response.text
    code, [stored] = response.json()["tracking_code"], response.json()["attachments"]
    view = api.wait_for(code, lambda v: len(v.get("attachments", [])) == 1)
    url = f"{api.url}{view['attachments'][0]['url']}"
    assert httpx.get(url, headers=headers("team")).content == MARKED_PDF
    erase(real_stack, "--email", "sari.dewi.hapus@example.id")
    time.sleep(1)  # processes keep unwrapped keys 0.5 s in this stack
    gone = httpx.get(url, headers=headers("team"))
    assert gone.status_code == 410, gone.text
    assert "erased" in gone.json()["detail"]
    assert MARKER not in raw_chunks(real_stack, stored["document_id"])
    audit = of_type(access_events(real_stack, code), PersonalDataAccessed)
    downloads = [a.purpose for a in audit if a.fields == ["attachment"]]
    assert downloads == ["attachment 1 download"]  # a 410 shows nothing: not audited


def test_lost_link_answers_the_same_for_any_code_and_records_one_request_per_quarter_hour(real_stack, api):
    code = api.submit(
        summary="Tautan hilang", description="d", disclosure="anonymous", email="lupa@example.id"
    ).json()["tracking_code"]
    answers = [
        httpx.post(f"{api.url}/api/v1/complaints/{c}/resend-link") for c in (code, "ADU-1999-999999", code)
    ]
    assert {(a.status_code, a.json()["status"]) for a in answers} == {(202, "accepted")}
    requested = of_type(events(real_stack.env["SERAMBI_NATS_URL"], code), ComplaintLinkRequested)
    assert len(requested) == 1  # the second within 15 minutes sends nothing
    assert events(real_stack.env["SERAMBI_NATS_URL"], "ADU-1999-999999") == []
    assert httpx.post(f"{api.url}/api/v1/complaints/ADU%2F1/resend-link").status_code in (404, 422)


def test_lost_link_is_rate_limited_per_client(api):
    statuses = [httpx.post(f"{api.url}/api/v1/complaints/ADU-1999-000001/resend-link") for _ in range(7)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited and int(limited[0].headers["retry-after"]) >= 1
