"""Intake's API through real processes: requirements, documents, idempotency, the desk."""

from __future__ import annotations

import asyncio
import io
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import nats
import pytest
from openpyxl import load_workbook
from pymongo import MongoClient
from serambi_calendar import Clock, load_calendar
from serambi_calendar.policy import SlaPolicy
from serambi_kit.auth import issue_dev_token
from serambi_kit.eventstore import read_raw
from serambi_kit.settings import ServiceSettings
from serambi_ops.commands.demo import SAMPLE_PDF, SAMPLE_PNG, submit_request

SERAMBI = Path(sys.executable).parent / "serambi"
NIK = "6171011203900007"
REQUEST = {
    "requester": {
        "name": "Yohanes Lim",
        "position": "Ketua",
        "institution": "Kadin Kota Pontianak",
        "institution_type": "other_institution",
        "email": "yohanes.lim@example.org",
        "phone": "081256781234",
        "identity_number": NIK,
    },
    "topic": "Forum investasi daerah",
    "purpose": "Audiensi persiapan forum investasi.",
    "participants": 6,
}


def bearer(*roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_dev_token(ServiceSettings(), list(roles))}"}


def stored_documents(stack) -> int:
    with MongoClient(stack.env["SERAMBI_MONGO_URL"]) as client:
        return client["serambi_intake"]["documents.files"].count_documents({})


async def stored_messages(stack, subject_filter: str) -> list[tuple[dict, bytes]]:
    nc = await nats.connect(stack.env["SERAMBI_NATS_URL"])
    try:
        return [item async for item in read_raw(nc, "INTAKE", subject_filter)]
    finally:
        await nc.drain()


def test_a_request_without_its_request_letter_is_refused_and_stores_nothing(stack):
    before = stored_documents(stack)
    response = submit_request(stack.urls["intake"], REQUEST, files={"request_letter": None})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "request_letter", "rule": "missing", "message": "request_letter: required document"}
    ]
    assert stored_documents(stack) == before


def test_a_document_over_the_size_limit_is_413(stack):
    big = SAMPLE_PDF + bytes(10_000_001)
    response = submit_request(
        stack.urls["intake"], REQUEST, files={"request_letter": ("big.pdf", big, "application/pdf")}
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["field"] == "request_letter"


def test_a_document_is_typed_by_its_content_not_its_name(stack):
    fake = ("surat.pdf", b"MZ\x90\x00 this is an executable", "application/pdf")
    response = submit_request(stack.urls["intake"], REQUEST, files={"identity_document": fake})
    assert response.status_code == 415
    assert response.json()["errors"][0] == {
        "field": "identity_document",
        "rule": "unsupported_type",
        "message": "identity_document: the content is not one of application/pdf, image/jpeg, image/png",
    }
    jpeg = ("ktp.bin", b"\xff\xd8\xff\xe0" + bytes(32), "application/octet-stream")
    assert submit_request(stack.urls["intake"], REQUEST, files={"identity_document": jpeg}).status_code == 201


def test_a_retry_with_the_same_idempotency_key_gets_the_same_answer_and_one_event(stack):
    key = {"Idempotency-Key": f"retry-{time.time_ns()}"}
    first = submit_request(stack.urls["intake"], REQUEST, headers=key)
    again = submit_request(stack.urls["intake"], REQUEST, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    code = first.json()["tracking_code"]
    assert len(asyncio.run(stored_messages(stack, f"intake.request.{code}.*"))) == 1
    other = submit_request(stack.urls["intake"], {**REQUEST, "topic": "Lain"}, headers=key)
    assert other.status_code == 422 and "different request" in other.json()["error"]


def test_a_desk_retry_with_the_same_idempotency_key_gets_the_same_answer_and_one_event(stack):
    key = {"Idempotency-Key": f"desk-{time.time_ns()}"}
    desk = {**bearer("desk"), **key}
    first = submit_request(stack.urls["intake"], REQUEST, headers=desk, path="/api/v1/officer/requests")
    again = submit_request(stack.urls["intake"], REQUEST, headers=desk, path="/api/v1/officer/requests")
    assert first.status_code == again.status_code == 201, first.text
    assert again.json() == first.json()
    code = first.json()["tracking_code"]
    assert len(asyncio.run(stored_messages(stack, f"intake.request.{code}.*"))) == 1
    letter = submit_request(
        stack.urls["intake"],
        REQUEST,
        headers=desk,
        path="/api/v1/officer/requests",
        channel="letter",
        received_at=datetime.now(UTC).isoformat(),
    )
    assert letter.status_code == 422 and "different request" in letter.json()["error"]


def test_the_nik_and_contacts_never_appear_in_events_in_clear(stack):
    code = submit_request(stack.urls["intake"], REQUEST).json()["tracking_code"]
    [(headers, body)] = asyncio.run(stored_messages(stack, f"intake.request.{code}.*"))
    stored = body.decode() + str(headers)
    for secret in (NIK, "yohanes.lim@example.org", "+6281256781234", "Yohanes Lim"):
        assert secret not in stored


def test_the_desk_lists_requests_with_masked_contacts_and_reads_their_documents(stack):
    code = submit_request(stack.urls["intake"], REQUEST).json()["tracking_code"]
    url = f"{stack.urls['intake']}/api/v1/officer/requests"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        page = httpx.get(
            url, params={"institution": "Kadin Kota Pontianak", "size": 200}, headers=bearer("desk")
        ).json()
        mine = [item for item in page["items"] if item["tracking_code"] == code]
        if mine:
            break
        time.sleep(0.1)
    [item] = mine
    assert item["requester"] == {
        "name": "Y*** L***",
        "position": "Ketua",
        "email": "y***@example.org",
        "phone": "+6281******234",
    }
    assert item["submitted_at"].endswith("+07:00")
    assert NIK not in str(page)
    letter = next(d for d in item["documents"] if d["kind"] == "request_letter")
    download = httpx.get(
        f"{stack.urls['intake']}/api/v1/officer/documents/{letter['document_id']}", headers=bearer("desk")
    )
    assert download.status_code == 200 and download.content == SAMPLE_PDF
    assert httpx.get(url, headers=bearer("complaint_team")).status_code == 403
    assert httpx.get(url).status_code == 401


def test_the_request_list_filters_by_status(stack):
    url = f"{stack.urls['intake']}/api/v1/officer/requests"
    withdrawn = submit_request(stack.urls["intake"], REQUEST).json()
    httpx.post(
        f"{stack.urls['intake']}{withdrawn['status_url']}/withdraw",
        headers={"X-Access-Token": withdrawn["access_token"]},
    )
    deadline = time.monotonic() + 10
    codes: set[str] = set()
    while time.monotonic() < deadline and withdrawn["tracking_code"] not in codes:
        items = httpx.get(url, params={"status": "withdrawn", "size": 200}, headers=bearer("desk")).json()[
            "items"
        ]
        codes = {item["tracking_code"] for item in items}
        time.sleep(0.1)
    assert withdrawn["tracking_code"] in codes
    assert all(item["status"] == "withdrawn" for item in items)
    bad = httpx.get(url, params={"status": "lost"}, headers=bearer("desk"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "status"


def test_a_letter_request_starts_its_clock_at_the_date_of_receipt(stack):
    received = (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=0)
    response = submit_request(
        stack.urls["intake"],
        REQUEST,
        headers=bearer("desk"),
        path="/api/v1/officer/requests",
        channel="letter",
        received_at=received.isoformat(),
    )
    assert response.status_code == 201, response.text
    expected = Clock("audience_answer", received).deadline(load_calendar(), SlaPolicy())
    assert datetime.fromisoformat(response.json()["answer_due_at"]) == expected


@pytest.mark.parametrize(
    ("received_at", "rule"),
    [(None, "missing"), ("2999-01-01T09:00:00+07:00", "future"), ("2020-01-01T09:00:00+07:00", "too_old")],
)
def test_a_letter_request_needs_a_plausible_date_of_receipt(stack, received_at, rule):
    fields = {"channel": "letter", **({"received_at": received_at} if received_at else {})}
    response = submit_request(
        stack.urls["intake"], REQUEST, headers=bearer("desk"), path="/api/v1/officer/requests", **fields
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "received_at"
    assert response.json()["errors"][0]["rule"] == rule


def test_the_desk_registers_a_guest_who_then_appears_in_the_days_guest_book(stack):
    url = f"{stack.urls['intake']}/api/v1/officer"
    guest = {"name": "Made Wirawan", "institution": "Bank Kalbar", "purpose": "Antar surat"}
    created = httpx.post(f"{url}/guests", json=guest, headers=bearer("desk"))
    assert created.status_code == 201
    day = datetime.fromisoformat(created.json()["arrived_at"]).date().isoformat()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        book = httpx.get(f"{url}/guestbook", params={"day": day}, headers=bearer("desk")).json()
        if any(g["guest_id"] == created.json()["guest_id"] for g in book["guests"]):
            break
        time.sleep(0.1)
    entry = next(g for g in book["guests"] if g["guest_id"] == created.json()["guest_id"])
    assert entry["name"] == "M*** W***" and entry["institution"] == "Bank Kalbar"
    export = f"{url}/guestbook/export"
    month = day[:7]
    masked = httpx.get(export, params={"month": month}, headers=bearer("supervisor")).json()
    row = next(r for r in masked["rows"] if r["arrived_at"].startswith(day))
    assert masked["names"] == "masked" and row["name"] == "M*** W***" and row["day"] == day
    assert (
        "no-store"
        in httpx.get(export, params={"month": month}, headers=bearer("supervisor")).headers["cache-control"]
    )
    for role in ("supervisor", "scheduler"):
        refused = httpx.get(export, params={"month": month, "names": "clear"}, headers=bearer(role))
        assert refused.status_code == 403 and refused.json()["errors"][0]["field"] == "names"
    as_json = httpx.get(export, params={"day": day, "names": "clear"}, headers=bearer("desk"))
    assert as_json.headers["cache-control"] == "private, no-store"
    assert any(r["name"] == guest["name"] for r in as_json.json()["rows"])
    clear = httpx.get(export, params={"day": day, "names": "clear", "format": "xlsx"}, headers=bearer("desk"))
    assert clear.status_code == 200 and "attachment" in clear.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(clear.content)).worksheets[0]
    names = {r[2].value: r for r in sheet.iter_rows(min_row=2)}
    audited = asyncio.run(stored_messages(stack, f"intake.access.guestbook-{day}.*"))
    assert audited and b'"fields":["guest_name"]' in audited[-1][1] and b"Made" not in audited[-1][1]
    assert isinstance(names[guest["name"]][1].value, datetime)  # a date-time cell, not text
    as_csv = httpx.get(export, params={"day": day}, headers={**bearer("desk"), "Accept": "text/csv"})
    assert as_csv.content.startswith(b"\xef\xbb\xbfTanggal,") and guest["name"].encode() not in as_csv.content
    counts = httpx.get(f"{url}/guestbook/counts", params={"month": month}, headers=bearer("supervisor"))
    assert counts.status_code == 200 and counts.headers["cache-control"] == "private, no-store"
    assert next(row["count"] for row in counts.json()["days"] if row["day"] == day) >= 1
    assert counts.json()["total"] == len(masked["rows"]) and "name" not in counts.text
    last = httpx.get(export, params={"day": "9999-12-31"}, headers=bearer("desk"))
    assert last.status_code == 422 and last.json()["errors"][0]["field"] == "day"
    both = httpx.get(export, params={"day": day, "month": month}, headers=bearer("desk"))
    assert both.status_code == 422 and both.json()["errors"][0]["field"] == "month"
    assert httpx.post(f"{url}/guests", json=guest, headers=bearer("scheduler")).status_code == 403
    missing = httpx.post(f"{url}/guests", json={"name": "X"}, headers=bearer("desk"))
    assert missing.status_code == 422
    assert {e["field"] for e in missing.json()["errors"]} == {"institution", "purpose"}


def test_a_body_over_the_request_limit_is_refused_before_it_is_read(stack):
    port = stack.processes["intake"].port
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(
            b"POST /api/v1/requests HTTP/1.1\r\nHost: x\r\nContent-Length: 26000000\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\n\r\n"
        )
        status_line = sock.recv(4096).split(b"\r\n", 1)[0]
    assert status_line == b"HTTP/1.1 413 Request Entity Too Large"


def test_a_png_identity_document_and_pdf_letter_are_stored_with_their_digests(stack):
    code = submit_request(stack.urls["intake"], REQUEST).json()["tracking_code"]
    [(_, body)] = asyncio.run(stored_messages(stack, f"intake.request.{code}.*"))
    import hashlib
    import json

    documents = {d["kind"]: d for d in json.loads(body)["documents"]}
    assert documents["request_letter"]["sha256"] == hashlib.sha256(SAMPLE_PDF).hexdigest()
    assert documents["identity_document"]["media_type"] == "image/png"
    assert documents["identity_document"]["size"] == len(SAMPLE_PNG)


def test_the_tracking_view_links_the_answer_letter_which_the_requester_can_fetch(stack):
    answer = submit_request(stack.urls["intake"], REQUEST).json()
    deadline = time.monotonic() + 15
    view = {}
    while time.monotonic() < deadline and view.get("status") != "scheduled":
        view = httpx.get(
            f"{stack.urls['intake']}{answer['status_url']}",
            headers={"X-Access-Token": answer["access_token"]},
        ).json()
        time.sleep(0.1)
    [scheduled] = [entry for entry in view["timeline"] if entry["step"] == "scheduled"]
    assert scheduled["letter"].startswith("http://127.0.0.1:8002/api/v1/letters/L")
    path = scheduled["letter"].removeprefix("http://127.0.0.1:8002")
    letter = httpx.get(f"{stack.urls['scheduling']}{path}")
    assert letter.status_code == 200 and letter.content.startswith(b"%PDF")


def test_an_erased_persons_tracking_link_answers_like_an_unknown_one(stack):
    body = {
        **REQUEST,
        "requester": {
            **REQUEST["requester"],
            "email": "erase.me@example.org",
            "phone": "081399990000",
            "identity_number": None,
        },
    }
    answer = submit_request(stack.urls["intake"], body).json()
    track = f"{stack.urls['intake']}{answer['status_url']}"
    deadline = time.monotonic() + 10
    while httpx.get(track, headers={"X-Access-Token": answer["access_token"]}).status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    erased = subprocess.run(
        [str(SERAMBI), "personal-data", "erase", "--phone", "0813-9999-0000"],
        env={**os.environ, **stack.env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert erased.returncode == 0 and "erased 1 data-subject key(s)" in erased.stdout, erased.stderr
    time.sleep(1)  # the stack's processes keep unwrapped keys for 0.5 s (60 s by default)
    after = httpx.get(track, headers={"X-Access-Token": answer["access_token"]})
    unknown = httpx.get(
        f"{stack.urls['intake']}/api/v1/requests/AUD-1999-000001",
        headers={"X-Access-Token": answer["access_token"]},
    )
    assert after.status_code == unknown.status_code == 404 and after.json() == unknown.json()


def test_seeing_a_requesters_contact_in_clear_is_recorded_as_an_audit_event(stack):
    code = submit_request(stack.urls["intake"], REQUEST).json()["tracking_code"]
    url = f"{stack.urls['intake']}/api/v1/officer/requests/{code}/contact"
    deadline = time.monotonic() + 10
    while (response := httpx.get(url, headers=bearer("desk"))).status_code == 404:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert response.json() == {
        "tracking_code": code,
        "name": "Yohanes Lim",
        "email": "yohanes.lim@example.org",
        "phone": "+6281256781234",
    }
    [(headers, body)] = asyncio.run(stored_messages(stack, f"intake.access.{code}.*"))
    assert headers["ce-type"].endswith("audit.PersonalDataAccessed.v1")
    assert b'"fields":["name","email","phone"]' in body and b"yohanes" not in body
    assert b'"officer":"dev-officer"' in body
