"""Tracking links end to end: intake, scheduling, complaints and the notifier as processes on
real NATS and SecantusDB, delivering into the real SMTP and SMS sinks. The link a citizen gets
opens the portal's page with the very access token the submission answered; "lost your link?"
sends it again."""

from __future__ import annotations

import httpx
import pytest
from notifier_stack import notifier_stack, wait_for
from serambi_ops.commands.demo import DEMO_REQUEST, submit_request

pytestmark = pytest.mark.slow  # make test-slow (CI runs it after make test)

PORTAL = "http://127.0.0.1:8000"
EMAIL, PHONE = "pelapor.link@example.id", "+6281344455566"


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    with notifier_stack(
        tmp_path_factory.mktemp("links-e2e"), ("intake", "scheduling", "complaints")
    ) as stack:
        yield stack


def text_of(mail) -> str:
    return mail.get_body(("plain",)).get_content()


def of_notice(running, code: str, notice: str, count: int = 1) -> list:
    return wait_for(
        lambda: (
            len(found := [m for m in running.mails(code) if m["X-Serambi-Notice"] == notice]) >= count
            and found
        ),
        30.0,
        f"{notice} for {code}",
    )


def sms_contains(running, number: str, needle: str) -> bool:
    return wait_for(
        lambda: any(needle in r["body"]["text"] for r in running.sms(number)), 30.0, f"an SMS with {needle}"
    )


def test_a_requester_gets_the_portal_link_with_their_token_and_lost_link_sends_it_again(running):
    answer = submit_request(
        running.stack.urls["intake"],
        {
            **DEMO_REQUEST,
            "requester": {**DEMO_REQUEST["requester"], "email": EMAIL, "phone": "0813 4445 5566"},
        },
    ).json()
    code, token = answer["tracking_code"], answer["access_token"]
    link = f"{PORTAL}/lacak/audiensi/{code}#t={token}"
    [ack] = of_notice(running, code, "request_acknowledged")
    assert link in text_of(ack)
    resent = httpx.post(f"{running.stack.urls['intake']}/api/v1/requests/{code}/resend-link")
    assert resent.status_code == 202
    [again] = of_notice(running, code, "tracking_link")
    assert again["To"] == EMAIL and link in text_of(again)
    assert sms_contains(running, PHONE, f"{code}#t={token}")


def test_a_complainant_gets_the_complaint_page_link_and_lost_link_sends_it_again(running):
    complaints = running.stack.urls["complaints"]
    answer = httpx.post(
        f"{complaints}/api/v1/complaints",
        data={
            "disclosure": "anonymous",
            "summary": "Lampu jalan mati",
            "description": "Sudah seminggu.",
            "email": "anonim.link@example.id",
        },
        files=[("attachments", ("foto.jpg", b"\xff\xd8\xff\xe0" + bytes(64), "image/jpeg"))],
    ).json()
    code, token = answer["tracking_code"], answer["access_token"]
    link = f"{PORTAL}/lacak/pengaduan/{code}#t={token}"
    [ack] = of_notice(running, code, "complaint_acknowledged")
    assert link in text_of(ack)
    assert httpx.post(f"{complaints}/api/v1/complaints/{code}/resend-link").status_code == 202
    assert httpx.post(f"{complaints}/api/v1/complaints/{code}/resend-link").status_code == 202
    [again] = of_notice(running, code, "tracking_link")
    assert link in text_of(again) and again["To"] == "anonim.link@example.id"
    officer = [m for m in running.mails(code) if m["X-Serambi-Notice"] == "complaint_received_officer"]
    assert officer and all(token not in text_of(m) for m in officer)
