"""The thin slice end to end: intake → RequestSubmitted → scheduling → AudienceScheduled →
intake's tracking view, with every service its own process on real NATS and SecantusDB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import nats
import pytest
from serambi_kit.auth import issue_dev_token
from serambi_kit.eventstore import read_stream
from serambi_kit.settings import ServiceSettings
from serambi_ops.commands.demo import submit_request

REQUEST = {
    "requester": {
        "name": "Siti Aminah",
        "position": "Sekretaris Dinas",
        "institution": "Dinas Perindustrian Kota Singkawang",
        "institution_type": "local_government",
        "email": "siti.aminah@example.go.id",
        "phone": "0813 4567 8901",
    },
    "topic": "Hilirisasi produk lada",
    "purpose": "Audiensi program hilirisasi komoditas daerah.",
    "participants": 3,
}
SERAMBI = Path(sys.executable).parent / "serambi"


def submit(stack, body=REQUEST) -> dict:
    response = submit_request(stack.urls["intake"], body)
    assert response.status_code == 201, response.text
    return response.json()


def track(stack, code: str, token: str) -> httpx.Response:
    return httpx.get(f"{stack.urls['intake']}/api/v1/requests/{code}", headers={"X-Access-Token": token})


def wait_for_status(stack, answer: dict, status: str, timeout: float = 15.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = track(stack, answer["tracking_code"], answer["access_token"])
        if response.status_code == 200 and response.json()["status"] == status:
            return response.json()
        time.sleep(0.1)
    raise AssertionError(f"{answer['tracking_code']} never reached {status}")


def test_a_submitted_request_is_scheduled_and_its_requester_sees_the_schedule(stack):
    answer = submit(stack)
    assert answer["tracking_code"].startswith("AUD-20")
    assert answer["answer_due_at"].endswith("+07:00")
    view = wait_for_status(stack, answer, "scheduled")
    assert [entry["step"] for entry in view["timeline"]] == ["submitted", "scheduled"]
    assert view["schedule"]["starts_at"].endswith("T09:00:00+07:00")
    assert view["schedule"]["room"] and view["schedule"]["host"]
    assert "email" not in str(view) and "0813" not in str(view)


def test_a_withdrawn_request_shows_as_withdrawn(stack):
    answer = submit(stack)
    response = httpx.post(
        f"{stack.urls['intake']}{answer['status_url']}/withdraw",
        headers={"X-Access-Token": answer["access_token"]},
        json={"reason": "jadwal bentrok"},
    )
    assert response.status_code == 202
    view = wait_for_status(stack, answer, "withdrawn")
    assert "withdrawn" in [entry["step"] for entry in view["timeline"]]


def test_an_unknown_code_and_a_wrong_token_get_the_same_404(stack):
    answer = submit(stack)
    wait_for_status(stack, answer, "scheduled")
    wrong_token = track(stack, answer["tracking_code"], "x" * 43)
    unknown_code = track(stack, "AUD-1999-999999", answer["access_token"])
    assert wrong_token.status_code == unknown_code.status_code == 404
    assert wrong_token.json() == unknown_code.json()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda body: body.pop("topic"), "topic"),
        (lambda body: body["requester"].update(phone="12345"), "phone"),
        (lambda body: body["requester"].update(email="not-an-email"), "email"),
        (lambda body: body.update(participants=0), "participants"),
        (lambda body: body["requester"].update(institution_type="club"), "institution_type"),
        (lambda body: body.update(unexpected="yes"), "unexpected"),
    ],
)
def test_invalid_input_is_a_422_that_names_the_field(stack, change, field):
    body = {**REQUEST, "requester": dict(REQUEST["requester"])}
    change(body)
    response = submit_request(stack.urls["intake"], body)
    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["errors"]]


def test_every_service_reports_readiness_metrics_and_openapi(stack):
    for url in stack.urls.values():
        ready = httpx.get(f"{url}/readyz").json()
        assert (ready["ready"], ready["checks"]) == (True, {"nats": "ok", "mongodb": "ok"})
        assert ready["consumers"] and set(ready["consumers"].values()) <= {"ok", "unknown"}
        assert httpx.get(f"{url}/livez").status_code == 200
        assert "serambi_http_requests_total" in httpx.get(f"{url}/metrics").text
        assert httpx.get(f"{url}/openapi.json").json()["openapi"].startswith("3.")


def test_the_officer_endpoint_needs_a_valid_token_with_the_right_role(stack):
    answer = submit(stack)
    wait_for_status(stack, answer, "scheduled")
    url = f"{stack.urls['scheduling']}/api/v1/audiences/{answer['tracking_code']}"
    settings = ServiceSettings()
    desk = issue_dev_token(settings, ["desk"])
    scheduler = issue_dev_token(settings, ["scheduler"])
    expired = issue_dev_token(settings, ["scheduler"], now=time.time() - 10 * 3600)
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer nonsense"}).status_code == 401
    assert httpx.get(url, headers={"Authorization": f"Bearer {expired}"}).status_code == 401
    assert httpx.get(url, headers={"Authorization": f"Bearer {desk}"}).status_code == 403
    details = httpx.get(url, headers={"Authorization": f"Bearer {scheduler}"})
    assert details.status_code == 200 and details.json()["status"] == "scheduled"


async def test_events_and_logs_carry_the_correlation_id_of_the_request_that_caused_them(stack):
    request_id = "req-" + str(time.time_ns())
    response = submit_request(stack.urls["intake"], REQUEST, headers={"X-Request-ID": request_id})
    answer = response.json()
    wait_for_status(stack, answer, "scheduled")
    nc = await nats.connect(stack.env["SERAMBI_NATS_URL"])
    try:
        code = answer["tracking_code"]
        [submitted] = [r async for r in read_stream(nc, "INTAKE", f"intake.request.{code}.*")]
        audience = [r async for r in read_stream(nc, "SCHEDULING", f"scheduling.audience.{code}.*")]
        [scheduled] = [r for r in audience if type(r.event).__name__ == "AudienceScheduled"]
    finally:
        await nc.drain()
    assert submitted.envelope.correlationid == request_id
    assert scheduled.envelope.correlationid == request_id
    assert all(r.envelope.correlationid == request_id for r in audience)
    assert scheduled.envelope.causationid == submitted.envelope.id
    handled = [
        json.loads(line)
        for line in (stack.logs / "scheduling.log").read_text().splitlines()
        if line.startswith("{") and '"message.handled"' in line
    ]
    assert any(
        entry["correlation_id"] == request_id and entry["causation_id"] == submitted.envelope.id
        for entry in handled
    )


def test_no_log_line_of_any_process_holds_the_requesters_email_or_phone(stack):
    wait_for_status(stack, submit(stack), "scheduled")
    logs = stack.log_text()
    assert "runtime.started" in logs
    for secret in ("siti.aminah@example.go.id", "0813 4567 8901", "+6281345678901"):
        assert secret not in logs


def run_cli(stack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SERAMBI), *args],
        env={**os.environ, **stack.env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_rebuilding_intake_read_models_keeps_every_view_the_same(stack):
    answer = submit(stack)
    before = wait_for_status(stack, answer, "scheduled")
    result = run_cli(stack, "projections", "rebuild", "intake")
    assert result.returncode == 0, result.stderr
    assert "intake.requests:" in result.stdout
    assert track(stack, answer["tracking_code"], answer["access_token"]).json() == before


def test_the_demo_drives_the_slice_and_prints_the_timeline(stack):
    result = run_cli(stack, "demo", "--intake-url", stack.urls["intake"])
    assert result.returncode == 0, result.stderr
    assert "submitted" in result.stdout and "scheduled" in result.stdout


def test_dead_letters_list_runs_against_every_service(stack):
    result = run_cli(stack, "dead-letters", "list")
    assert result.returncode == 0, result.stderr
    assert "no open dead letters" in result.stdout


def test_a_restarted_scheduling_service_books_what_arrived_while_it_was_down(stack):
    stack.processes["scheduling"].stop()
    answer = submit(stack)
    time.sleep(0.5)
    assert track(stack, answer["tracking_code"], answer["access_token"]).json()["status"] == "submitted"
    stack.restart("scheduling")
    wait_for_status(stack, answer, "scheduled")
