"""SLA timers end to end on a calendar where every hour is working time: the breach comes within
a second of the deadline and exactly once — across a restart and with two replicas — never for
an answered complaint, and at the new deadline after reclassification."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from complaints_e2e import Client, events, iso, now, of_type, received_for
from serambi_contracts.sla import SLABreached
from serambi_testing.localstack import wait_ready
from serambi_testing.stack import service_process

pytestmark = pytest.mark.slow  # make test-slow (CI runs it after make test)


def breaches(stack, code: str) -> list[SLABreached]:
    return of_type(events(stack.env["SERAMBI_NATS_URL"], code), SLABreached)


def wait_for_breach(stack, code: str, timeout: float = 10.0) -> SLABreached:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = breaches(stack, code)
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"{code}: no SLABreached within {timeout}s")


def sleep_until(instant: datetime) -> None:
    time.sleep(max(0.0, (instant - now()).total_seconds()))


def test_a_breach_is_reported_within_a_second_of_its_deadline_and_escalated_once(sla_stack, sla_api):
    complaint = sla_api.recorded(tier="ringan", received_at=iso(received_for(2)))
    code, due = complaint["tracking_code"], datetime.fromisoformat(complaint["due_at"])
    breach = wait_for_breach(sla_stack, code)
    assert breach.due_at == due and breach.escalate_to == "supervisor" and breach.clock == "ringan"
    assert timedelta(0) <= breach.breached_at - due < timedelta(seconds=1)
    sla_api.wait_for(code, lambda view: view["breached"])
    time.sleep(1.5)
    assert len(breaches(sla_stack, code)) == 1
    escalated = sla_api.queue("supervisor", breached="true").json()["items"]
    assert code in [item["tracking_code"] for item in escalated]


def test_an_answered_complaint_never_breaches(sla_stack, sla_api):
    complaint = sla_api.recorded(tier="ringan", received_at=iso(received_for(2)))
    code = complaint["tracking_code"]
    assert sla_api.act(code, "assign", team="Tim Pengelola Pengaduan").status_code == 200
    assert sla_api.act(code, "answer", role="team", answer="Sudah kami tindak lanjuti.").status_code == 200
    sleep_until(datetime.fromisoformat(complaint["due_at"]) + timedelta(seconds=2))
    assert breaches(sla_stack, code) == []
    assert sla_api.details(code).json()["status"] == "answered"


def test_reclassifying_before_the_deadline_moves_the_timer(sla_stack, sla_api):
    later = sla_api.recorded(tier="ringan", received_at=iso(received_for(2)))
    sooner = sla_api.recorded(tier="normatif", received_at=iso(received_for(3)))
    moved_away = sla_api.act(later["tracking_code"], "classify", tier="normatif").json()
    moved_in = sla_api.act(sooner["tracking_code"], "classify", tier="ringan").json()
    assert datetime.fromisoformat(moved_away["due_at"]) > now() + timedelta(days=4)
    new_due = datetime.fromisoformat(moved_in["due_at"])
    assert new_due - now() < timedelta(seconds=4)
    breach = wait_for_breach(sla_stack, sooner["tracking_code"])
    assert breach.due_at == new_due and breach.breached_at - new_due < timedelta(seconds=1)
    sleep_until(datetime.fromisoformat(later["due_at"]) + timedelta(seconds=1))
    assert breaches(sla_stack, later["tracking_code"]) == []


def test_the_breach_fires_exactly_once_across_a_service_restart(sla_stack, sla_api):
    complaint = sla_api.recorded(tier="ringan", received_at=iso(received_for(2)))
    code, due = complaint["tracking_code"], datetime.fromisoformat(complaint["due_at"])
    sla_api.wait_for(code, lambda view: view["tier"] == "ringan")
    sla_stack.processes["complaints"].stop()
    sleep_until(due + timedelta(seconds=1))
    assert breaches(sla_stack, code) == []  # nobody was there
    sla_stack.restart("complaints")
    breach = wait_for_breach(sla_stack, code)
    assert breach.due_at == due
    sla_stack.restart("complaints")  # the start-up sweep runs again: nothing more to report
    time.sleep(1.5)
    assert len(breaches(sla_stack, code)) == 1


def test_two_replicas_report_each_breach_exactly_once(sla_stack, sla_api):
    replica = service_process("complaints-2", sla_stack.env, sla_stack.logs).start(ready_timeout=30)
    port = replica.port
    try:
        wait_ready(f"http://127.0.0.1:{port}")
        second = Client(f"http://127.0.0.1:{port}")
        codes = [
            (sla_api if number % 2 else second).recorded(
                tier="ringan", received_at=iso(received_for(2 + number % 3))
            )["tracking_code"]
            for number in range(12)
        ]
        # Every breach comes (a lost timer would wait for the 60-s sweep), then no second one.
        # The bound is wide: this test is about once, the first one about within a second.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not all(breaches(sla_stack, code) for code in codes):
            time.sleep(0.25)
        time.sleep(1.5)
        counts = {code: len(breaches(sla_stack, code)) for code in codes}
        wrong = [code for code in codes if counts[code] != 1]
        assert wrong == [], timeline(sla_stack, wrong)
        handled = (sla_stack.logs / "complaints-2.log").read_text()
        assert "clock.reported" in handled  # the second replica did part of the work
    finally:
        replica.stop()


def timeline(stack, codes: list[str]) -> str:
    """What the replicas logged and the stream holds about ``codes`` (a failure's explanation)."""
    lines = []
    for code in codes:
        stored = events(stack.env["SERAMBI_NATS_URL"], code)
        lines.append(f"{code}: {[type(event).__name__ for event in stored]}")
        for log in sorted(stack.logs.glob("complaints*.log")):
            lines += [f"  {log.name}: {line}" for line in log.read_text().splitlines() if code in line]
    return "\n".join(lines)
