"""Issue #14: long outages of MongoDB and of NATS while requests and complaints keep flowing.

(a) The MongoDB-wire server is frozen (SIGSTOP) for 3 minutes: its connections stay open and
    answer nothing, the worst case for a client. (b) nats-server is killed (SIGKILL) and comes
    back 60 s later on the same port and store.

Either way, once the dependency is back: every accepted request is scheduled and notified,
every classified complaint has its timers armed, the read models equal a rebuild, no event is
lost or duplicated and no message is dead-lettered (an outage is waited out, never set
aside). Durations come from the environment for a quicker local run
(``SERAMBI_FAULT_MONGO_OUTAGE_SECONDS``, ``SERAMBI_FAULT_NATS_OUTAGE_SECONDS``).
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time

import harness
import httpx
import nats
import pytest
from serambi_complaints.application.sla_timers import timer_id
from serambi_complaints.domain.sla import BREACH
from serambi_kit.auth import issue_dev_token
from serambi_kit.settings import ServiceSettings
from serambi_kit.timers import schedule_subject
from serambi_kit.topology import timers_stream
from test_process_faults import KILLABLE, assert_clean, print_report, settle

pytestmark = pytest.mark.faults

MONGO_OUTAGE = float(os.environ.get("SERAMBI_FAULT_MONGO_OUTAGE_SECONDS", "180"))
NATS_OUTAGE = float(os.environ.get("SERAMBI_FAULT_NATS_OUTAGE_SECONDS", "60"))
LEAD = 15.0  # seconds of normal flow before the outage
TAIL = 30.0  # seconds of flow after it
TIER = "normatif"  # 5 working days: its warning and deadline are always ahead, so armed
# the services notice an outage within seconds, and report stalled consumers soon after
ENV = {
    "SERAMBI_CONSUMER_WATCH_SECONDS": "2",
    "SERAMBI_CONSUMER_STALL_SECONDS": "20",
    "SERAMBI_IDEMPOTENCY_LEASE_SECONDS": "5",
}


async def classify_all(
    stack: harness.FaultStack, cases: list[harness.Case], flowing: threading.Event, deadline: float
) -> set[str]:
    """Classify every accepted complaint as it comes (during the outage too), retrying each
    until it is taken; returns the codes classified."""
    token = issue_dev_token(ServiceSettings(environment="test"), ["complaint_officer"])
    done: set[str] = set()
    async with httpx.AsyncClient(timeout=10.0, headers={"Authorization": f"Bearer {token}"}) as client:
        while time.monotonic() < deadline:
            waiting = [
                c for c in cases if c.kind == "complaint" and c.outcome == "accepted" and c.code not in done
            ]
            if not waiting and not flowing.is_set():
                break
            for case in waiting:
                try:
                    response = await client.post(
                        f"{stack.url('complaints')}/api/v1/officer/complaints/{case.code}/classify",
                        json={"tier": TIER},
                    )
                except httpx.HTTPError:
                    continue
                if response.status_code == 200:
                    done.add(case.code)
            await asyncio.sleep(1.0)
    return done


async def armed_timers(nats_url: str, codes: set[str]) -> set[str]:
    """The codes whose deadline timer is armed on the complaints' timers stream."""
    nc = await nats.connect(nats_url)
    try:
        info = await nc.jetstream().stream_info(timers_stream("complaints"), subjects_filter="timers.>")
        subjects = set((info.state.subjects or {}).keys())
    finally:
        await nc.drain()
    return {code for code in codes if schedule_subject("complaints", timer_id(code, BREACH)) in subjects}


def run_with_outage(stack: harness.FaultStack, name: str, outage, seconds: float) -> harness.Report:
    """Cases paced over LEAD + outage + TAIL seconds, ``outage`` injected after LEAD."""
    started = time.monotonic()
    span = LEAD + seconds + TAIL
    cases = harness.make_cases(int(span * 0.8), int(span * 0.4), name[0].upper())
    observed: dict[str, object] = {}
    errors: list[BaseException] = []

    def injector() -> None:
        try:
            time.sleep(LEAD)
            outage(stack, seconds, observed)
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)

    thread = threading.Thread(target=injector, daemon=True)
    thread.start()
    driver = harness.Driver(stack, concurrency=6, max_attempts=20, case_deadline=25.0, pace=span / len(cases))
    flowing = threading.Event()
    flowing.set()

    async def flow() -> tuple[float, set[str]]:
        async def drive() -> float:
            try:
                return await driver.run(cases, stop_after=span + 60)
            finally:
                flowing.clear()

        return await asyncio.gather(drive(), classify_all(stack, cases, flowing, started + span + 240))

    load_seconds, classified = asyncio.run(flow())
    thread.join(seconds + 120)
    assert not errors, errors
    report = settle(stack, cases, timeout=240.0)
    harness.compare_with_rebuilds(
        stack, report, (("intake", "requests"), ("complaints", "complaints"), ("scheduling", "audiences"))
    )
    accepted_complaints = {c.code for c in cases if c.kind == "complaint" and c.outcome == "accepted"}
    unclassified = accepted_complaints - classified
    if unclassified:
        report.add(
            "lost", len(unclassified), problem=f"complaints never classified: {sorted(unclassified)[:5]}"
        )
    deadline = time.monotonic() + 60
    while True:  # classification arms the timers asynchronously
        unarmed = classified - asyncio.run(armed_timers(stack.env["SERAMBI_NATS_URL"], classified))
        if not unarmed or time.monotonic() > deadline:
            break
        time.sleep(2.0)
    if unarmed:
        report.add(
            "lost", len(unarmed), problem=f"classified complaints without timers: {sorted(unarmed)[:5]}"
        )
    report.add("complaints_with_timers", len(classified) - len(unarmed))
    report.add("load_seconds", int(load_seconds))
    for key, value in observed.items():
        report.add(key, int(value))
    print_report(name, report, time.monotonic() - started, stack)
    accepted = report.counts.get("request_accepted", 0) + report.counts.get("complaint_accepted", 0)
    assert accepted >= len(cases) // 3, report.line()
    assert classified, "no complaint was classified: the timers were not exercised"
    return report


def readiness(stack: harness.FaultStack, service: str) -> dict:
    try:
        response = httpx.get(f"{stack.url(service)}/readyz", timeout=10.0)
    except httpx.HTTPError as exc:
        return {"ready": None, "error": type(exc).__name__}
    return {"status": response.status_code, **response.json()}


def freeze_mongo(stack: harness.FaultStack, seconds: float, observed: dict) -> None:
    os.kill(stack.mongo.pid, signal.SIGSTOP)
    stack.note("SIGSTOP mongo")
    try:
        time.sleep(min(30.0, seconds / 2))
        during = {name: readiness(stack, name) for name in KILLABLE}
        observed["unready_during_outage"] = sum(1 for r in during.values() if r.get("status") == 503)
        observed["stalled_consumers_seen"] = sum(
            1 for r in during.values() for v in r.get("consumers", {}).values() if v.startswith("stalled")
        )
        stack.note(f"readiness during the outage: {during}")
        time.sleep(max(0.0, seconds - min(30.0, seconds / 2)))
    finally:
        os.kill(stack.mongo.pid, signal.SIGCONT)
        stack.note("SIGCONT mongo")


def kill_nats(stack: harness.FaultStack, seconds: float, observed: dict) -> None:
    stack.nats.kill()
    stack.note("SIGKILL nats")
    time.sleep(min(20.0, seconds / 2))
    during = {name: readiness(stack, name) for name in KILLABLE}
    observed["unready_during_outage"] = sum(1 for r in during.values() if r.get("status") == 503)
    stack.note(f"readiness during the outage: {during}")
    time.sleep(max(0.0, seconds - min(20.0, seconds / 2)))
    stack.nats.start(ready_timeout=60)
    stack.note("started nats")


@pytest.mark.timeout(1200)
def test_the_mongodb_wire_server_frozen_for_minutes_loses_and_dead_letters_nothing(tmp_path):
    with harness.fault_stack(tmp_path, KILLABLE, ENV) as stack:
        report = run_with_outage(stack, "mongo-outage", freeze_mongo, MONGO_OUTAGE)
        assert report.counts.get("unready_during_outage") == len(KILLABLE), stack.events
        assert all(name in stack.services and stack.services[name].alive() for name in KILLABLE)
        assert_clean(report, stack)


@pytest.mark.timeout(900)
def test_nats_killed_for_a_minute_loses_and_dead_letters_nothing(tmp_path):
    with harness.fault_stack(tmp_path, KILLABLE, ENV) as stack:
        report = run_with_outage(stack, "nats-outage", kill_nats, NATS_OUTAGE)
        assert report.counts.get("unready_during_outage") == len(KILLABLE), stack.events
        assert all(stack.services[name].alive() for name in KILLABLE), "a service died with NATS"
        assert_clean(report, stack)
