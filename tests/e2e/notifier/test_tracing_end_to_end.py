"""One trace per case across the services (issue 22, part 1): with ``SERAMBI_TRACING=log`` every
process writes its spans as log lines; a request submitted with a W3C ``traceparent`` leaves one
trace running from intake's HTTP span through scheduling's decision to the notifier's e-mail,
with the MongoDB calls of each on the way, and the integration bus's mirror carries the same
``traceparent`` in the event's headers. Real processes, NATS, SecantusDB and SMTP sink."""

from __future__ import annotations

import asyncio
import json
import secrets

import nats
import pytest
from notifier_stack import notifier_stack, wait_for
from serambi_kit.eventstore import read_raw
from serambi_ops.commands.demo import submit_request
from test_notifier_end_to_end import request_body


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    with notifier_stack(tmp_path_factory.mktemp("tracing-e2e"), env={"SERAMBI_TRACING": "log"}) as stack:
        yield stack


def spans_of(running, service: str, trace_id: str) -> list[dict]:
    lines = (running.stack.logs / f"{service}.log").read_text(errors="replace").splitlines()
    found = [json.loads(line) for line in lines if line.startswith("{") and '"span"' in line]
    return [span for span in found if span["event"] == "span" and span["trace_id"] == trace_id]


async def bus_headers(running, code: str) -> dict[str, str]:
    nc = await nats.connect(running.stack.env["SERAMBI_NATS_URL"])
    try:
        return next(
            iter(
                [
                    headers
                    async for headers, _ in read_raw(
                        nc, "BUS_INTAKE", f"intake.request.{code}.RequestSubmitted"
                    )
                ]
            ),
            {},
        )
    finally:
        await nc.drain()


def test_one_trace_runs_from_the_submission_through_the_decision_to_the_invitation(running):
    trace_id, caller = secrets.token_hex(16), secrets.token_hex(8)
    response = submit_request(
        running.stack.urls["intake"],
        request_body("tracing@example.go.id"),
        headers={"traceparent": f"00-{trace_id}-{caller}-01"},
    )
    assert response.status_code == 201, response.text
    code = response.json()["tracking_code"]
    wait_for(
        lambda: any(m["X-Serambi-Notice"] == "audience_invitation" for m in running.mails(code)),
        what="the invitation",
    )
    sent = wait_for(
        lambda: [
            s
            for s in spans_of(running, "notifier", trace_id)
            if s["name"] == "email send" and s["attributes"]["serambi.notice"] == "audience_invitation"
        ],
        what="the invitation's send span",
    )

    intake, scheduling, notifier = (
        spans_of(running, name, trace_id) for name in ("intake", "scheduling", "notifier")
    )
    [submission] = [s for s in intake if s["kind"] == "server"]
    assert submission["name"] == "POST /api/v1/requests"
    assert submission["parent_span_id"] == caller  # the caller's span is its parent
    assert submission["attributes"]["http.response.status_code"] == 201
    # scheduling's decision runs in the consumer span of the RequestSubmitted intake appended
    # inside the submission's span; the notifier's in that of the AudienceScheduled it appended
    [decision] = [
        s for s in scheduling if s["kind"] == "consumer" and s["parent_span_id"] == submission["span_id"]
    ]
    notified = [s for s in notifier if s["kind"] == "consumer" and s["parent_span_id"] == decision["span_id"]]
    assert notified, "the notifier's consumer span is not the decision's child"
    assert sent[0]["parent_span_id"] in {s["span_id"] for s in notified} | {decision["span_id"]}
    assert sent[0]["attributes"]["serambi.outcome"] == "sent"
    for spans in (intake, scheduling, notifier):  # each service's database calls in the trace
        assert any(s["attributes"].get("db.system.name") == "mongodb" for s in spans)
    # and the integration bus's mirror carries the trace in the event's CloudEvents headers
    headers = wait_for(lambda: asyncio.run(bus_headers(running, code)), what="the bus's copy")
    assert headers["ce-traceparent"].startswith(f"00-{trace_id}-{submission['span_id']}-")


def test_every_log_line_a_request_causes_carries_its_trace_id(running):
    trace_id = secrets.token_hex(16)
    response = submit_request(
        running.stack.urls["intake"],
        request_body("lines@example.go.id"),
        headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"},
    )
    code = response.json()["tracking_code"]
    wait_for(lambda: len(running.mails(code)) == 2, what="acknowledgement and invitation")
    lines = [
        json.loads(line)
        for service in ("intake", "scheduling", "notifier")
        for line in (running.stack.logs / f"{service}.log").read_text().splitlines()
        if line.startswith("{") and code in line and '"span"' not in line
    ]
    assert lines, "no log line names the case"
    assert [line for line in lines if line.get("trace_id") != trace_id] == []
