"""The triage clock end to end, with real processes on a calendar where every hour is working
time: a complaint left unclassified breaches its triage clock exactly once, within a second of
its deadline; classification stops it; the queue and the tracking view show the triage deadline
until then; the monthly recap counts triage breaches apart."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import datetime, timedelta

import httpx
from complaints_e2e import events, headers, iso, now, of_type, received_for
from serambi_calendar import WIB
from serambi_contracts.sla import SLABreached, SLAWarning


def breaches(stack, code: str) -> list[SLABreached]:
    return of_type(events(stack.env["SERAMBI_NATS_URL"], code), SLABreached)


def wait_for_breach(stack, code: str, timeout: float = 10.0) -> SLABreached:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := breaches(stack, code):
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"{code}: no SLABreached within {timeout}s")


def recap(api, month: str) -> dict:
    response = httpx.get(
        f"{api.url}/api/v1/officer/reports/monthly", params={"month": month}, headers=headers("supervisor")
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_an_unclassified_complaint_breaches_its_triage_clock_exactly_once_and_the_recap_counts_it(
    sla_stack, sla_api
):
    received_at = received_for(2)  # its 3-hour triage clock runs out 2 seconds from now
    month = received_at.astimezone(WIB).strftime("%Y-%m")
    before = recap(sla_api, month)["total"]
    complaint = sla_api.recorded(received_at=iso(received_at))  # no tier
    code, due = complaint["tracking_code"], datetime.fromisoformat(complaint["due_at"])
    assert complaint["status"] == "received" and complaint["clock"] == "triage"
    assert due == received_at + timedelta(hours=3)
    queued = sla_api.wait_for(code, lambda view: view["clock"] == "triage")
    assert datetime.fromisoformat(queued["due_at"]) == due

    breach = wait_for_breach(sla_stack, code)
    assert breach.clock == "triage" and breach.due_at == due and breach.escalate_to == "supervisor"
    assert timedelta(0) <= breach.breached_at - due < timedelta(seconds=1)
    recorded = events(sla_stack.env["SERAMBI_NATS_URL"], code)
    assert [e.threshold_percent for e in of_type(recorded, SLAWarning)] == [90]  # the latest fact only
    sla_api.wait_for(code, lambda view: view["breached"])
    time.sleep(1.5)
    assert len(breaches(sla_stack, code)) == 1

    after = recap(sla_api, month)
    assert after["total"]["triage_breaches"] == before["triage_breaches"] + 1
    assert after["total"]["triage_breached"] == before["triage_breached"] + 1
    assert after["total"]["breaches"] == before["breaches"]  # the tier deadlines' count is apart
    row = next(
        line
        for line in csv.DictReader(
            io.StringIO(
                httpx.get(
                    f"{sla_api.url}/api/v1/officer/reports/monthly",
                    params={"month": month, "format": "csv"},
                    headers=headers("supervisor"),
                ).text
            )
        )
        if line["dimension"] == "total"
    )
    assert (int(row["triage_breached"]), int(row["triage_breaches"])) == (
        after["total"]["triage_breached"],
        after["total"]["triage_breaches"],
    )


def test_classification_stops_the_triage_clock_and_the_tier_counts_from_receipt(sla_stack, sla_api):
    received_at = received_for(3)
    complaint = sla_api.recorded(received_at=iso(received_at))
    code, triage_due = complaint["tracking_code"], datetime.fromisoformat(complaint["due_at"])
    classified = sla_api.act(code, "classify", tier="normatif").json()
    assert classified["clock"] == "normatif"
    assert datetime.fromisoformat(classified["due_at"]) > now() + timedelta(days=4)
    time.sleep(max(0.0, (triage_due - now()).total_seconds()) + 1.5)
    assert breaches(sla_stack, code) == []
    view = sla_api.details(code).json()
    assert view["clock"] == "normatif" and not view["breached"]


def test_the_tracking_view_and_the_queue_show_the_triage_deadline_until_classification(sla_stack, sla_api):
    submitted = sla_api.submit(
        disclosure="anonymous", summary="Antrean lama", description="Saya menunggu dua jam."
    )
    assert submitted.status_code in (200, 201), submitted.text
    body = submitted.json()
    code, token = body["tracking_code"], body["access_token"]
    assert body["clock"] == "triage"
    due = datetime.fromisoformat(body["due_at"])
    assert due == datetime.fromisoformat(body["received_at"]) + timedelta(hours=3)
    sla_api.wait_for(code, lambda view: view["clock"] == "triage")
    tracked = sla_api.track(code, token).json()
    assert tracked["clock"] == "triage" and datetime.fromisoformat(tracked["due_at"]) == due
    assert re.match(r"^PT(3H|2H5\dM)", tracked["working_time_remaining"])  # about 3 hours left
    queue = sla_api.queue(status="received", size=100).json()["items"]
    row = next(item for item in queue if item["tracking_code"] == code)
    assert row["clock"] == "triage" and datetime.fromisoformat(row["due_at"]) == due

    assert sla_api.act(code, "classify", tier="ringan").status_code == 200
    sla_api.wait_for(code, lambda view: view["clock"] == "ringan")
    tracked = sla_api.track(code, token).json()
    assert tracked["clock"] == "ringan" and datetime.fromisoformat(tracked["due_at"]) == due  # 3h too
