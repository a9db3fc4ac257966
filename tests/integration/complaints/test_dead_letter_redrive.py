"""Dead letters a redrive cannot take — a mail of the complaint mailbox, an item of the LAPOR!
import (not stream messages: nothing can read them back) — are listed as not redrivable with what
to do instead, and the admin API refuses their redrive with 409 instead of marking them for a
redrive no replica would ever run; a stream message's record is still redriven."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from serambi_complaints.adapters import lapor_letters
from serambi_complaints.adapters.mail.intake import MailIntake
from serambi_complaints.main import create_app
from serambi_kit.auth import issue_dev_token
from serambi_kit.deadletters import DeadLetter, DeadLetters


@pytest.fixture
async def service(start_service):
    return await start_service()


@pytest.fixture
async def admin(service):
    transport = httpx.ASGITransport(app=create_app(service=service))
    token = issue_dev_token(service.settings, ["admin"], subject="admin-1")
    async with httpx.AsyncClient(
        transport=transport, base_url="http://complaints", headers={"Authorization": f"Bearer {token}"}
    ) as client:
        yield client


async def test_mail_and_lapor_dead_letters_are_not_redrivable_and_their_redrive_is_refused(service, admin):
    db = service.runtime.db
    unreadable = b"From: Rina Wati\r\nSubject: halo\r\nMessage-ID: <broken@mail.example.id>\r\n\r\nisi\r\n"
    intake = MailIntake(
        lambda: service.runtime.store,
        lambda: db,
        lambda: service.runtime.vault,
        service.rules,
        lambda: service.attachments,
        max_attachment_bytes=10_000_000,
        processed="Serambi/Diproses",
        rejected="Serambi/Ditolak",
    )
    assert await intake.handle(unreadable, None) == "Serambi/Ditolak"
    await lapor_letters.record(db, "LAP-123", "attachments.0: too_large", datetime.now(UTC))
    await DeadLetters(db).record(
        DeadLetter(
            "complaints-retired",
            "COMPLAINTS",
            "complaints.complaint.ADU-2026-000001.ComplaintReceived",
            7,
            5,
            "KeyError",
            {},
            json.dumps({}).encode(),
        )
    )

    listed = (await admin.get("/api/v1/admin/dead-letters")).json()["items"]
    by_consumer = {item["consumer"]: item for item in listed}
    assert set(by_consumer) == {"email-intake", "lapor-import", "complaints-retired"}
    assert by_consumer["complaints-retired"]["redrivable"] is True
    assert by_consumer["complaints-retired"]["not_redrivable"] is None
    for consumer in ("email-intake", "lapor-import"):
        item = by_consumer[consumer]
        assert item["redrivable"] is False and "by hand" in item["not_redrivable"]
        answer = await admin.post(f"/api/v1/admin/dead-letters/{item['id']}/redrive")
        assert answer.status_code == 409, answer.text
        assert answer.json()["errors"][0]["rule"] == "not_redrivable"
        assert await DeadLetters(db).status_of(item["id"]) == "open"  # not stuck in "redrive"
    assert "Serambi/Ditolak" in by_consumer["email-intake"]["not_redrivable"]
    assert "LAPOR!" in by_consumer["lapor-import"]["not_redrivable"]

    stream = by_consumer["complaints-retired"]["id"]
    assert (await admin.post(f"/api/v1/admin/dead-letters/{stream}/redrive")).json()["status"] == "redrive"
    assert (await admin.post(f"/api/v1/admin/dead-letters/{stream}/redrive")).status_code == 409  # not open
    assert await DeadLetters(db).mark_for_redrive() == 0  # "all": never the mail or the LAPOR! item
