"""Issue #9, scenarios 1, 3 and 4: processes killed, the MongoDB-wire server restarted, a service
paused past its consumers' ack wait — and still no case lost, duplicated or unexpected.

Sizes come from the environment so a quick run is possible (``SERAMBI_FAULT_REQUESTS`` …); the
defaults are the issue's (at least 2,000 cases for scenario 1). See docs/faults.md.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import threading
import time

import harness
import pytest

pytestmark = pytest.mark.faults

REQUESTS = int(os.environ.get("SERAMBI_FAULT_REQUESTS", "1200"))
COMPLAINTS = int(os.environ.get("SERAMBI_FAULT_COMPLAINTS", "800"))
SMALL = int(os.environ.get("SERAMBI_FAULT_SMALL", "300"))
KILLABLE = ("intake", "scheduling", "complaints", "notifier")


def settle(
    stack: harness.FaultStack, cases: list[harness.Case], timeout: float, notifications: bool = True
) -> harness.Report:
    """Wait for every case's final state, then re-check until the notifier has caught up."""
    pending = harness.wait_final(stack, cases, timeout)
    deadline = time.monotonic() + timeout
    while True:
        report = harness.check(stack, cases, notifications=notifications, pending=pending)
        if not report.lost or time.monotonic() > deadline:
            return report
        time.sleep(3.0)


def print_report(name: str, report: harness.Report, seconds: float, stack: harness.FaultStack) -> None:
    print(
        f"\n[{name}] {seconds:.0f}s lost={report.lost} duplicated={report.duplicated} "
        f"unexpected={report.unexpected} | {report.line()}"
    )
    print(f"[{name}] faults: {len(stack.events)}; first ones: {stack.events[:8]}")
    for problem in report.problems:
        print(f"[{name}] problem: {problem}")


def assert_clean(report: harness.Report, stack: harness.FaultStack) -> None:
    assert (report.lost, report.duplicated, report.unexpected) == (0, 0, 0), (
        report.problems,
        stack.log_tail(1500),
    )


@pytest.mark.timeout(900)
def test_kill_9_of_every_service_at_random_moments_loses_and_duplicates_nothing(tmp_path):
    started = time.monotonic()
    cases = harness.make_cases(REQUESTS, COMPLAINTS, "K")
    # a killed intake's Idempotency-Key is taken over by a retry once its lease ends
    with harness.fault_stack(tmp_path, KILLABLE, {"SERAMBI_IDEMPOTENCY_LEASE_SECONDS": "5"}) as stack:
        stop = threading.Event()
        errors: list[BaseException] = []

        def killer() -> None:
            chance = random.Random(9)
            victims: list[str] = []  # rounds of every service in a random order: each one dies
            kills = 0

            def pause() -> float:
                # the first round comes quickly, so that every service dies while the load runs
                # however fast the machine gets through it; then one kill every 4-8 s
                return chance.uniform(1.0, 3.0) if kills < len(KILLABLE) else chance.uniform(4.0, 8.0)

            try:
                while not stop.wait(pause()):
                    if not victims:
                        victims = chance.sample(KILLABLE, len(KILLABLE))
                    name = victims.pop()
                    stack.kill9(name)
                    kills += 1
                    stop.wait(chance.uniform(0.2, 1.5))
                    stack.start(name)
            except BaseException as exc:  # reported by the test, not lost in the thread
                errors.append(exc)

        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        driver = harness.Driver(stack, concurrency=12, max_attempts=60, case_deadline=120.0)
        try:
            load_seconds = asyncio.run(driver.run(cases, stop_after=540.0))
        finally:
            stop.set()
            thread.join(90)
        assert not errors, errors
        killed = {event.split()[-1] for event in stack.events if " SIGKILL " in event}
        assert killed == set(KILLABLE), f"only {sorted(killed)} were killed during the load"
        for name in KILLABLE:  # the last kill may have left one down
            if not stack.services[name].alive():
                stack.start(name)
        report = settle(stack, cases, timeout=180.0)
        harness.compare_with_rebuilds(stack, report, (("intake", "requests"), ("complaints", "complaints")))
        report.add("load_seconds", int(load_seconds))
        print_report("kill-9", report, time.monotonic() - started, stack)
        accepted = report.counts.get("request_accepted", 0) + report.counts.get("complaint_accepted", 0)
        sent = (
            len(cases) - report.counts.get("request_not_sent", 0) - report.counts.get("complaint_not_sent", 0)
        )
        # on a loaded machine the 540 s budget may run out before every case is sent (reported as
        # *_not_sent); of those sent, the ones without a definite answer are requests whose
        # attempts ran out while intake was down or a killed intake's key was still leased (409
        # until the lease ends, finding 1) and the complaints whose connection broke after
        # sending (no idempotency key)
        assert accepted >= 0.75 * sent and accepted >= 0.5 * len(cases), report.line()
        assert_clean(report, stack)


def test_the_mongodb_wire_server_restarted_mid_run_projections_resume_and_converge(tmp_path):
    started = time.monotonic()
    cases = harness.make_cases(SMALL * 2 // 3, SMALL - SMALL * 2 // 3, "M")
    with harness.fault_stack(tmp_path, KILLABLE) as stack:
        done = threading.Event()

        def restarter() -> None:
            for pause in (3.0, 6.0):
                if done.wait(pause):
                    return
                stack.restart_mongo(down_seconds=3.0)

        thread = threading.Thread(target=restarter, daemon=True)
        thread.start()
        driver = harness.Driver(stack, concurrency=6, max_attempts=80, case_deadline=90.0, pace=0.05)
        try:
            load_seconds = asyncio.run(driver.run(cases, stop_after=240.0))
        finally:
            done.set()
            thread.join(120)
        report = settle(stack, cases, timeout=150.0)
        harness.compare_with_rebuilds(
            stack, report, (("intake", "requests"), ("complaints", "complaints"), ("scheduling", "audiences"))
        )
        report.add("load_seconds", int(load_seconds))
        print_report("mongo-restart", report, time.monotonic() - started, stack)
        assert sum(1 for e in stack.events if e.endswith("mongo started")) >= 1
        assert_clean(report, stack)


def test_a_service_paused_past_its_ack_wait_then_resumed_duplicates_no_effect(tmp_path):
    started = time.monotonic()
    cases = harness.make_cases(SMALL, 0, "S")
    services = ("intake", "scheduling", "scheduling-2")
    env = {"SERAMBI_CONSUMER_ACK_WAIT_SECONDS": "3"}
    with harness.fault_stack(tmp_path, services, env) as stack:
        paused = stack.services["scheduling"]
        done = threading.Event()

        def pauser() -> None:
            for _ in range(2):
                if done.wait(1.0):
                    return
                os.kill(paused.pid, signal.SIGSTOP)
                stack.note("SIGSTOP scheduling")
                time.sleep(8.0)  # > 2 x the 3 s ack wait: its messages go to the other replica
                os.kill(paused.pid, signal.SIGCONT)
                stack.note("SIGCONT scheduling")

        thread = threading.Thread(target=pauser, daemon=True)
        thread.start()
        driver = harness.Driver(stack, concurrency=6, max_attempts=40, case_deadline=60.0, pace=0.06)
        try:
            load_seconds = asyncio.run(driver.run(cases, stop_after=180.0))
        finally:
            thread.join(60)
            done.set()
        report = settle(stack, cases, timeout=120.0, notifications=False)
        harness.compare_with_rebuilds(stack, report, (("intake", "requests"), ("scheduling", "audiences")))
        report.add("load_seconds", int(load_seconds))
        print_report("sigstop", report, time.monotonic() - started, stack)
        assert sum(1 for e in stack.events if e.endswith("SIGCONT scheduling")) >= 1
        assert_clean(report, stack)


def test_a_retry_after_intake_died_holding_the_idempotency_key_gets_an_answer(tmp_path):
    import hashlib
    from datetime import UTC, datetime, timedelta

    import httpx
    from pymongo import MongoClient
    from serambi_intake.api.forms import RequestForm
    from serambi_kit.idempotency import fingerprint
    from serambi_ops.commands.demo import SAMPLE_DOCUMENTS, request_form

    body = harness.sample_request("X00001")
    form = RequestForm.model_validate(request_form(body))
    print_ = fingerprint(
        form.model_dump_json(),
        "online",
        "None",
        *(hashlib.sha256(part[1]).hexdigest() for part in SAMPLE_DOCUMENTS.values()),
    )
    key = "fault-X00001"
    lease = 6
    with harness.fault_stack(
        tmp_path, ("intake",), {"SERAMBI_IDEMPOTENCY_LEASE_SECONDS": str(lease)}
    ) as stack:
        # exactly what an intake SIGKILLed right after IdempotencyKeys.begin() leaves behind (a
        # kill after the reservation or the append is covered by tests/integration/intake)
        client: MongoClient = MongoClient(stack.env["SERAMBI_MONGO_URL"])
        now = datetime.now(UTC)
        try:
            client["serambi_intake"]["idempotency_keys"].insert_one(
                {
                    "_id": key,
                    "fingerprint": print_,
                    "status": "in_progress",
                    "expires_at": now + timedelta(hours=24),
                    "holder": "killed-holder",
                    "lease_until": now + timedelta(seconds=lease),
                }
            )
        finally:
            client.close()
        stack.kill9("intake")
        stack.start("intake")
        statuses = []
        deadline = time.monotonic() + 15.0
        while time.monotonic() < deadline and len(statuses) < 30:
            response = httpx.post(
                f"{stack.url('intake')}/api/v1/requests",
                data=request_form(body),
                files=dict(SAMPLE_DOCUMENTS),
                headers={"Idempotency-Key": key},
                timeout=10.0,
            )
            statuses.append(response.status_code)
            if response.status_code == 422:
                raise RuntimeError(f"the test's fingerprint does not match intake's: {response.text}")
            if response.status_code == 201:
                break
            time.sleep(0.5)
        print(f"\n[stuck-key] retries: {len(statuses)} statuses: {sorted(set(statuses))}")
        assert statuses[-1] == 201, f"still {statuses[-1]} after {len(statuses)} retries over 15 s"
        again = httpx.post(
            f"{stack.url('intake')}/api/v1/requests",
            data=request_form(body),
            files=dict(SAMPLE_DOCUMENTS),
            headers={"Idempotency-Key": key},
            timeout=10.0,
        )
        assert again.status_code == 201 and again.json() == response.json()
