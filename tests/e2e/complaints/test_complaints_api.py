"""The complaints API end to end on the bureau's real calendar: tier deadlines on 2026 dates,
the flow, privacy of anonymous and confidential complaints, refusals, roles, queue, report."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from complaints_e2e import events, headers, raw_events
from openpyxl import load_workbook
from serambi_contracts.complaints import ComplaintClassified, ComplaintReceived
from serambi_contracts.sla import SLABreached
from serambi_kit.tabular import XLSX_TYPE as XLSX

MONDAY_IN_RAMADAN = "2026-03-02T08:00:00+07:00"
SERAMBI = Path(sys.executable).parent / "serambi"
IDENTITY = {"name": "Siti Rahmawati", "email": "siti.rahmawati@example.id", "phone": "0813 5555 0142"}
SECRETS = ("Siti Rahmawati", "siti.rahmawati@example.id", "+6281355550142", "0813 5555 0142")


@pytest.mark.parametrize(
    ("tier", "due_at"),
    [
        # Ramadan hours (08:00-12:00, 12:30-15:00 Mon-Thu): 3 working hours from 08:00
        ("ringan", "2026-03-02T11:00:00+07:00"),
        # 3, 4, 5, 6 and 9 March; the 9th ends at 15:00 in Ramadan
        ("normatif", "2026-03-09T15:00:00+07:00"),
        # 3-6, 9-13, 16, 17, then Nyepi, Idul Fitri and cuti bersama (18-24 March), then 25, 26, 27:
        # Friday after Ramadan ends at 16:30
        ("tidak_berkadar_pengawasan", "2026-03-27T16:30:00+07:00"),
        # ... April without Good Friday (3 Apr), May without 1, 14, 15, 27, 28 May, June without 1 June
        ("berkadar_pengawasan", "2026-06-10T16:00:00+07:00"),
    ],
)
def test_each_tier_is_due_on_its_2026_date_through_the_api(api, tier, due_at):
    complaint = api.recorded(channel="complaint_box", received_at=MONDAY_IN_RAMADAN, tier=tier)
    assert complaint["due_at"] == due_at
    assert complaint["received_at"] == MONDAY_IN_RAMADAN
    view = api.wait_for(complaint["tracking_code"], lambda v: v["due_at"] is not None)
    assert view["due_at"] == due_at and view["tier"] == tier
    assert view["overdue"] is True and view["working_time_remaining"].startswith("-PT")


def test_reclassification_counts_from_the_original_receipt(real_stack, api):
    complaint = api.recorded(channel="fax", received_at=MONDAY_IN_RAMADAN)
    code = complaint["tracking_code"]
    assert complaint["status"] == "received" and complaint["clock"] == "triage"
    assert complaint["due_at"] == "2026-03-02T11:00:00+07:00"  # the triage clock: 3 working hours
    assert (
        api.act(code, "classify", role="team", tier="normatif").json()["due_at"]
        == "2026-03-09T15:00:00+07:00"
    )
    assert (
        api.act(code, "classify", role="team", tier="ringan").json()["due_at"] == "2026-03-02T11:00:00+07:00"
    )
    classified = [
        e for e in events(real_stack.env["SERAMBI_NATS_URL"], code) if isinstance(e, ComplaintClassified)
    ]
    assert [e.clock_started_at.isoformat() for e in classified] == ["2026-03-02T01:00:00+00:00"] * 2


def test_an_online_complaint_gets_a_tracking_code_and_a_token_to_follow_it(api):
    response = api.submit(summary="Antrian terlalu lama", description="Saya menunggu 3 jam.", **IDENTITY)
    assert response.status_code == 201, response.text
    answer = response.json()
    assert re.fullmatch(r"ADU-\d{4}-\d{6}", answer["tracking_code"])
    assert len(answer["access_token"]) >= 43
    assert answer["clock"] == "triage" and answer["due_at"].endswith("+07:00")  # until classified
    assert answer["received_at"].endswith("+07:00")
    view = api.track(answer["tracking_code"], answer["access_token"])
    assert view.status_code == 200
    assert view.json()["status"] == "received" and view.json()["summary"] == "Antrian terlalu lama"
    wrong_token = api.track(answer["tracking_code"], "x" * 43)
    unknown_code = api.track("ADU-1999-999999", answer["access_token"])
    assert wrong_token.status_code == unknown_code.status_code == 404
    assert wrong_token.json() == unknown_code.json()


def test_anonymous_and_confidential_complaints_leak_nothing_in_public_views(real_stack, api):
    anonymous = api.submit(
        disclosure="anonymous", summary="Pungutan liar", description="Petugas meminta uang.", **IDENTITY
    ).json()
    confidential = api.submit(
        disclosure="confidential", summary="Konflik kepentingan", description="Rincian rahasia.", **IDENTITY
    ).json()
    for complaint in (anonymous, confidential):
        api.wait_for(complaint["tracking_code"], lambda v: v["status"] == "received")
        api.act(complaint["tracking_code"], "classify", tier="normatif")
    public_anonymous = api.track(anonymous["tracking_code"], anonymous["access_token"]).text
    public_confidential = api.track(confidential["tracking_code"], confidential["access_token"]).json()
    assert set(public_confidential) == {"tracking_code", "status", "due_at", "working_time_remaining"}
    officer_anonymous = api.details(anonymous["tracking_code"], "team").json()
    assert officer_anonymous["complainant"] == {"anonymous": True, "has_email": True, "has_phone": True}
    queue = api.queue("team", size=100).text
    nats_url = real_stack.env["SERAMBI_NATS_URL"]
    stored = b"".join(
        raw_events(nats_url, anonymous["tracking_code"]) + raw_events(nats_url, confidential["tracking_code"])
    )
    for secret in SECRETS:
        assert secret not in public_anonymous and secret not in str(public_confidential)
        assert secret not in str(officer_anonymous) and secret not in queue
        assert secret.encode() not in stored
        assert secret not in real_stack.log_text()
    for text in ("Rincian rahasia.", "Konflik kepentingan"):
        assert text.encode() not in stored and text not in str(public_confidential)
    named = api.identity(confidential["tracking_code"], "team").json()
    assert named == {
        "tracking_code": confidential["tracking_code"],
        "name": IDENTITY["name"],
        "email": IDENTITY["email"],
        "phone": "+6281355550142",
    }


def test_the_flow_from_receipt_to_a_disputed_answer_and_back(real_stack, api):
    complaint = api.recorded(channel="whatsapp", tier="normatif", disclosure="named", **IDENTITY)
    code, token = complaint["tracking_code"], complaint["access_token"]
    paused = api.act(code, "pause", role="officer", reason="Menunggu salinan surat permohonan")
    assert paused.json()["paused"] is True and paused.json()["due_at"] is None
    assert api.act(code, "resume", role="officer").json()["paused"] is False
    assert (
        api.act(code, "assign", role="officer", team="Tim Pengelola Pengaduan").json()["status"] == "assigned"
    )
    answered = api.act(code, "answer", role="team", answer="Permohonan Anda sudah diproses.")
    assert answered.json()["status"] == "answered" and answered.json()["working_time_remaining"] is None
    view = api.wait_for(code, lambda v: v["status"] == "answered")
    public = api.track(code, token).json()
    assert public["answer"] == "Permohonan Anda sudah diproses." and public["dispute_until"].endswith(
        "+07:00"
    )
    assert [step["step"] for step in public["timeline"]] == [
        "received",
        "paused",
        "resumed",
        "assigned",
        "answered",
    ]
    assert public["timeline"][1]["reason"] == "Menunggu salinan surat permohonan"
    disputed = httpx.post(
        f"{api.url}/api/v1/complaints/{code}/dispute",
        headers={"X-Access-Token": token},
        json={"reason": "Jawaban tidak menjawab pertanyaan saya."},
    )
    assert disputed.status_code == 200 and disputed.json()["status"] == "reopened"
    assert disputed.json()["due_at"] is not None
    view = api.wait_for(code, lambda v: v["status"] == "reopened")
    assert view["round"] == 2 and view["team"] == "Tim Pengelola Pengaduan"
    assert api.act(code, "answer", role="team", answer="Jawaban lengkap.").status_code == 200
    assert api.act(code, "close", role="officer").json()["status"] == "closed"
    assert view["breached"] is False


@pytest.mark.parametrize(
    ("action", "body", "message"),
    [
        ("close", {}, "not answered"),
        ("answer", {"answer": "Jawaban"}, "assign complaint"),
        ("resume", {}, "not paused"),
        ("classify", {"tier": "ringan"}, "already classified"),
        ("reopen", {"reason": "tidak puas"}, "not answered"),
    ],
)
def test_a_step_in_the_wrong_state_is_refused_without_side_effects(real_stack, api, action, body, message):
    code = api.recorded(tier="ringan")["tracking_code"]
    before = len(events(real_stack.env["SERAMBI_NATS_URL"], code))
    response = api.act(code, action, **body)
    assert response.status_code == 409 and message in response.json()["detail"]
    assert len(events(real_stack.env["SERAMBI_NATS_URL"], code)) == before


def test_steps_on_an_unknown_complaint_are_404(api):
    response = api.act("ADU-1999-000001", "classify", tier="ringan")
    assert response.status_code == 404 and "no complaint ADU-1999-000001" in response.json()["detail"]


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"summary": None}, "summary", None),
        ({"channel": "pigeon"}, "channel", "enum"),
        ({"channel": "online"}, "channel", None),
        ({"tier": "urgent"}, "tier", "enum"),
        ({"received_at": "2099-01-01T08:00:00+07:00"}, "received_at", "received_at_in_future"),
        ({"received_at": "2001-01-01T08:00:00+07:00"}, "received_at", "received_at_too_old"),
        ({"received_at": "2026-03-02T08:00:00"}, "received_at", "timezone_aware"),
        ({"disclosure": "named"}, "", None),  # named without a name
        ({"phone": "12345"}, "phone", None),
        ({"external_ref": "LAP-1"}, "", None),  # only for sp4n_lapor
        ({"channel": "sp4n_lapor"}, "", None),  # needs external_ref
        ({"priority": "high"}, "priority", "extra_forbidden"),
        ({"summary": "x" * 301}, "summary", "string_too_long"),
    ],
)
def test_invalid_officer_input_is_a_422_that_names_the_field(api, change, field, rule):
    body = {"channel": "telephone", "summary": "s", "description": "d", "disclosure": "anonymous", **change}
    body = {key: value for key, value in body.items() if value is not None}
    response = httpx.post(f"{api.url}/api/v1/officer/complaints", json=body, headers=headers())
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert field in [error["field"] for error in errors]
    if rule:
        assert rule in [error["rule"] for error in errors]
    assert all(error["message"] for error in errors)


def test_public_input_is_bounded_and_validated(api):
    too_big = httpx.post(
        f"{api.url}/api/v1/complaints",
        content=b"{" + b" " * 100_000 + b"}",
        headers={"content-type": "application/json"},
    )
    assert too_big.status_code == 413
    named_without_contact = api.submit(name="Budi", summary="s", description="d")
    assert named_without_contact.status_code == 422
    assert "email address or a mobile number" in named_without_contact.text
    assert api.track("ADU/../x", "x" * 43).status_code == 404
    assert api.track("A" * 65, "x" * 43).status_code == 422
    assert api.track("ADU-2026-000001", "short").status_code == 422
    assert api.queue(size=1000).status_code == 422


OFFICER_ROUTES = [
    ("POST", "/api/v1/officer/complaints", "complaint_officer"),
    ("GET", "/api/v1/officer/complaints", "complaint_team"),
    ("GET", "/api/v1/officer/complaints/ADU-2026-000001", "complaint_team"),
    ("POST", "/api/v1/officer/complaints/ADU-2026-000001/classify", "complaint_team"),
    ("POST", "/api/v1/officer/complaints/ADU-2026-000001/assign", "complaint_officer"),
    ("POST", "/api/v1/officer/complaints/ADU-2026-000001/answer", "complaint_team"),
    ("POST", "/api/v1/officer/complaints/ADU-2026-000001/close", "complaint_team"),
    ("POST", "/api/v1/officer/complaints/ADU-2026-000001/pause", "complaint_team"),
    ("POST", "/api/v1/officer/complaints/ADU-2026-000001/resume", "complaint_team"),
    ("POST", "/api/v1/officer/complaints/ADU-2026-000001/reopen", "complaint_officer"),
    ("GET", "/api/v1/officer/reports/monthly?month=2026-03", "supervisor"),
]


def test_every_officer_route_needs_a_valid_token_with_one_of_its_roles(api):
    for method, path, _ in OFFICER_ROUTES:
        assert httpx.request(method, api.url + path).status_code == 401, path
        assert httpx.request(method, api.url + path, headers=headers("desk")).status_code == 403, path
    assert (
        httpx.get(
            api.url + "/api/v1/officer/reports/monthly?month=2026-03", headers=headers("officer")
        ).status_code
        == 403
    )
    assert (
        httpx.post(
            api.url + "/api/v1/officer/complaints/ADU-2026-000001/answer",
            json={"answer": "a"},
            headers=headers("officer"),
        ).status_code
        == 403
    )


def test_the_queue_filters_and_pages_soonest_deadline_first(api):
    channel = "email"
    made = [
        api.recorded(channel=channel, tier=tier, received_at=MONDAY_IN_RAMADAN)["tracking_code"]
        for tier in ("berkadar_pengawasan", "ringan", "normatif")
    ]
    for code in made:
        api.wait_for(code, lambda v: v["breached"] or v["tier"] != "ringan")
    page = api.queue(channel=channel, due_before="2026-03-10T00:00:00+07:00", size=1).json()
    assert page["total"] >= 2 and len(page["items"]) == 1
    assert page["items"][0]["due_at"] <= "2026-03-02T11:00:00+07:00"
    ringan = api.queue(channel=channel, tier="ringan", status="classified").json()["items"]
    assert made[1] in [item["tracking_code"] for item in ringan]
    assert all(item["tier"] == "ringan" and item["channel"] == channel for item in ringan)
    second = api.queue(channel=channel, page=2, size=1).json()
    assert second["page"] == 2 and second["items"][0]["tracking_code"] != page["items"][0]["tracking_code"]
    assert api.queue(tier="urgent").status_code == 422


def test_the_monthly_recap_counts_march_by_channel_tier_and_status(real_stack, api):
    code = api.recorded(channel="face_to_face", tier="ringan", received_at="2026-03-05T09:00:00+07:00")[
        "tracking_code"
    ]
    api.wait_for(code, lambda v: v["breached"])
    report = httpx.get(
        f"{api.url}/api/v1/officer/reports/monthly",
        params={"month": "2026-03"},
        headers=headers("supervisor"),
    ).json()
    assert (
        report["channel"]["face_to_face"]["received"] >= 1
        and report["channel"]["face_to_face"]["breaches"] >= 1
    )
    assert report["total"]["received"] == sum(row["received"] for row in report["channel"].values())
    as_csv = httpx.get(
        f"{api.url}/api/v1/officer/reports/monthly",
        params={"month": "2026-03", "format": "csv"},
        headers=headers("supervisor"),
    )
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    total = next(row for row in rows if row["dimension"] == "total")
    assert int(total["received"]) == report["total"]["received"]
    cli = subprocess.run(
        [str(SERAMBI), "complaints", "report", "--month", "2026-03", "--format", "csv"],
        env={**os.environ, **real_stack.env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout == as_csv.text
    assert [e for e in events(real_stack.env["SERAMBI_NATS_URL"], code) if isinstance(e, SLABreached)]
    assert report["team"]["unassigned"]["received"] >= 1 and "triage_on_time_rate" in report["total"]
    as_xlsx = httpx.get(
        f"{api.url}/api/v1/officer/reports/monthly",
        params={"month": "2026-03"},
        headers={**headers("supervisor"), "Accept": XLSX},
    )
    assert as_xlsx.status_code == 200 and as_xlsx.headers["content-type"] == XLSX
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).worksheets[0]
    received = next(row[3].value for row in sheet.iter_rows(min_row=2) if row[1].value == "Jumlah")
    assert type(received) is int and received >= report["total"]["received"]
    monthly = f"{api.url}/api/v1/officer/reports/monthly"
    one_table = httpx.get(
        monthly, params={"month": "2026-03", "table": "dibuka-kembali"}, headers=headers("supervisor")
    )  # JSON by default
    assert one_table.status_code == 422 and "table" in one_table.text
    month = httpx.get(monthly, params={"month": "2026-13"}, headers=headers("supervisor"))
    assert month.status_code == 422 and "month" in month.text and "YYYY-MM" in month.text


def test_an_unchanged_calendar_moves_no_deadline_from_the_command_line(real_stack):
    result = subprocess.run(
        [str(SERAMBI), "complaints", "revise-calendar", "--force"],
        env={**os.environ, **real_stack.env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("0 deadline(s) moved; calendar overrides.toml v")


def test_received_events_carry_the_receipt_and_no_clear_personal_data(real_stack, api):
    complaint = api.recorded(
        channel="face_to_face", disclosure="named", received_at=MONDAY_IN_RAMADAN, **IDENTITY
    )
    [received] = events(real_stack.env["SERAMBI_NATS_URL"], complaint["tracking_code"])[:1]
    assert isinstance(received, ComplaintReceived) and received.recorded_by == "officer-1"
    assert received.received_at.isoformat() == "2026-03-02T01:00:00+00:00"
    assert received.complainant_name is not None and received.summary.key == received.complainant_name.key
