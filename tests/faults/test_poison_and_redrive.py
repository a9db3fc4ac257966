"""Fault scenario 5 (issue #9): poison messages and `serambi dead-letters redrive`.

- Every durable consumer of every service gets a malformed envelope, a schema-invalid payload
  and an unknown event type on a subject its filter matches, between valid traffic. Each is
  dead-lettered by that consumer with its reason — at once: retrying cannot fix a permanent
  fault, so "after the configured deliveries" applies to transient failures — except unknown
  types on the notifier's sending consumers, which its documented policy acks and ignores.
  The valid cases all complete, and `serambi dead-letters list` shows every record.
- A handler that failed transiently until its deliveries ran out takes effect after
  `serambi dead-letters redrive`; a redriven poison message stays open with the new reason.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import httpx
import nats
import pytest
from aiosmtpd.controller import Controller
from pymongo import AsyncMongoClient
from serambi_contracts import AggregateRef, encode_headers
from serambi_kit.auth import issue_dev_token
from serambi_kit.eventstore import JetStreamEventStore, RecordedEvent, read_raw
from serambi_kit.eventstore.model import make_envelopes
from serambi_kit.runtime import Runtime
from serambi_kit.settings import ServiceSettings
from serambi_kit.topology import ConsumerSpec
from serambi_ops.services import SERVICES
from serambi_testing import localstack
from serambi_testing.localstack import wait_ready
from serambi_testing.sinks import MailboxHandler, sms_server

sys.path.insert(0, str(Path(__file__).parent))
from fault_infrastructure import audience_request, probe_event  # noqa: E402

pytestmark = pytest.mark.faults

SERAMBI = Path(sys.executable).parent / "serambi"
UNKNOWN_TYPE = "id.go.kalbarprov.ekonomi.faults.NeverHeardOf.v1"
VALID_CASES = 6


def matches(pattern: str, subject: str) -> bool:
    """NATS subject matching (``*`` one token, ``>`` the rest)."""
    wanted, tokens = pattern.split("."), subject.split(".")
    for index, token in enumerate(wanted):
        if token == ">":
            return len(tokens) > index
        if index >= len(tokens) or (token != "*" and token != tokens[index]):
            return False
    return len(tokens) == len(wanted)


def concrete(pattern: str, aggregate_id: str) -> str:
    """A subject matching ``pattern``: wildcards filled with the poison's own aggregate id."""
    tokens = pattern.split(".")
    if tokens[-1] == ">":
        tokens = tokens[:-1] + (["x", "SLAWarning"][: 4 - len(tokens) + 1])
    filled = [aggregate_id if t == "*" else t for t in tokens]
    while len(filled) < 4:
        filled.insert(2, aggregate_id)
    if len(tokens) == 4 and tokens[2] != "*":
        filled[2] = aggregate_id
    return ".".join(filled[:4])


def poison_messages(subject: str) -> dict[str, tuple[dict[str, str], bytes]]:
    context, aggregate, aggregate_id, _ = subject.split(".")
    [envelope] = make_envelopes(
        "/faults",
        AggregateRef(context, aggregate, aggregate_id),
        [probe_event(0)],
        expected_version=0,
        event_ids=None,
    )
    good = encode_headers(envelope)
    body = probe_event(0).model_dump_json().encode()
    return {
        "EnvelopeError": ({"ce-id": f"bad-{aggregate_id}", "ce-type": "???"}, body),
        "ValidationError": ({**good, "ce-id": f"inv-{aggregate_id}"}, json.dumps({"case_id": 1}).encode()),
        "UnknownEventTypeError": ({**good, "ce-id": f"unk-{aggregate_id}", "ce-type": UNKNOWN_TYPE}, body),
    }


def officer() -> dict[str, str]:
    token = issue_dev_token(ServiceSettings(), ["complaint_officer"], subject="officer-1")
    return {"Authorization": f"Bearer {token}"}


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SERAMBI), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def eventually(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.3)
    raise AssertionError(f"{what}: not reached in {timeout}s")


@pytest.fixture(scope="module")
def four_services(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("poison")
    nats_server = localstack.nats_server(base / "nats", localstack.free_port()).start()
    mongo = localstack.mongo_server(base / "mongo", localstack.free_port(), base).start(60)
    smtp = Controller(MailboxHandler(base / "mail"), hostname="127.0.0.1", port=localstack.free_port())
    smtp.start()
    sms = sms_server(localstack.free_port(), base / "sms")
    threading.Thread(target=sms.serve_forever, daemon=True).start()
    env = {
        "SERAMBI_NATS_URL": localstack.nats_url(nats_server.port),
        "SERAMBI_MONGO_URL": localstack.mongo_url(mongo.port),
        "SERAMBI_ENVIRONMENT": "test",
        "SERAMBI_LOG_LEVEL": "INFO",
        "SERAMBI_SEED_RESOURCES": "false",
        "SERAMBI_CONSUMER_MAX_DELIVER": "3",
        "SERAMBI_RETRY_DELAYS_SECONDS": "[0.2, 0.2, 0.2]",
        "SERAMBI_RATE_LIMITS": '{"submissions": 100000, "lookups": 100000}',
        "SERAMBI_SMTP_PORT": str(smtp.port),
        "SERAMBI_SMS_URL": f"http://127.0.0.1:{sms.server_address[1]}/json/messages",
        "SERAMBI_QUIET_HOURS_START": "00:00",
        "SERAMBI_QUIET_HOURS_END": "00:00",
    }
    processes = {}
    try:
        for name in SERVICES:
            port = localstack.free_port()
            processes[name] = localstack.ManagedProcess(
                name,
                [sys.executable, "-m", f"serambi_{name}"],
                port,
                base / "logs" / f"{name}.log",
                env={**env, "SERAMBI_HTTP_PORT": str(port)},
            ).start(ready_timeout=40)
        for process in processes.values():
            wait_ready(f"http://127.0.0.1:{process.port}", 40)
        yield env, {name: f"http://127.0.0.1:{p.port}" for name, p in processes.items()}
    finally:
        for process in (*processes.values(), mongo, nats_server):
            process.stop()
        sms.shutdown()
        smtp.stop()


async def test_poison_messages_on_every_consumer_are_dead_lettered_and_valid_cases_complete(four_services):
    env, urls = four_services
    started = time.monotonic()
    specs: list[ConsumerSpec] = [spec for s in SERVICES.values() for spec in s.runtime().consumers]
    ignoring = {spec.durable for spec in specs if spec.durable.startswith("notifier-notify-")}
    nc = await nats.connect(env["SERAMBI_NATS_URL"])
    mongo: AsyncMongoClient = AsyncMongoClient(env["SERAMBI_MONGO_URL"])
    try:
        js = nc.jetstream()
        published: list[tuple[str, str, int, str]] = []  # (stream, subject, sequence, fault)
        codes: list[str] = []
        store = JetStreamEventStore(nc, "/serambi/intake")
        patterns = sorted({(spec.stream, p) for spec in specs for p in spec.filter_subjects})
        async with httpx.AsyncClient(base_url=urls["complaints"], headers=officer()) as http:
            for number, (stream, pattern) in enumerate(patterns):
                subject = concrete(pattern, f"POISON-{number}")
                assert matches(pattern, subject), (pattern, subject)
                for fault, (headers, body) in poison_messages(subject).items():
                    ack = await js.publish(subject, body, headers=headers, stream=stream)
                    published.append((stream, subject, ack.seq, fault))
                # valid traffic between the poison: a complaint, and an audience request
                response = await http.post(
                    "/api/v1/officer/complaints",
                    json={
                        "channel": "telephone",
                        "summary": "Layanan lambat",
                        "description": "Belum dijawab.",
                        "disclosure": "anonymous",
                        "tier": "ringan",
                    },
                )
                assert response.status_code == 201, response.text
                codes.append(response.json()["tracking_code"])
        audiences = [f"FAULT-OK-{n}" for n in range(VALID_CASES)]
        for code in audiences:
            await store.append(
                AggregateRef("intake", "request", code),
                [audience_request(code, datetime.now(UTC) + timedelta(days=3))],
                expected_sequence=0,
                expected_version=0,
            )
        expected: dict[str, str] = {}  # letter id → reason prefix
        ignored = 0
        for spec in specs:
            for stream, subject, sequence, fault in published:
                if stream != spec.stream or not any(matches(p, subject) for p in spec.filter_subjects):
                    continue
                if fault == "UnknownEventTypeError" and spec.durable in ignoring:
                    ignored += 1
                    continue
                expected[f"{spec.durable}:{stream}:{sequence}"] = fault

        async def all_letters() -> dict[str, dict]:
            found = {}
            for name in SERVICES:
                async for letter in mongo[f"serambi_{name}"]["dead_letters"].find({}):
                    found[letter["_id"]] = {**letter, "service": name}
            return found

        async def settled():
            found = await all_letters()
            return found if set(expected) <= set(found) else None

        found = await eventually(settled, 60, "every poison message dead-lettered")

        async def valid_done():
            async with httpx.AsyncClient(base_url=urls["complaints"], headers=officer()) as http:
                for code in codes:
                    view = await http.get(f"/api/v1/officer/complaints/{code}")
                    if view.status_code != 200:
                        return False
            referred = {
                headers["Nats-Subject"].split(".")[2]
                async for headers, _ in read_raw(nc, "SCHEDULING", "scheduling.audience.*.*")
            }  # poison there too
            return set(audiences) <= referred

        await eventually(valid_done, 60, "every valid case completed")
        await asyncio.sleep(1.5)  # room for anything unexpected to arrive
        found = await all_letters()
        lost = sorted(set(expected) - set(found))
        unexpected = sorted(set(found) - set(expected))
        wrong_reason = sorted(i for i in expected if not found[i]["reason"].startswith(expected[i]))
        counts = Counter(found[i]["service"] for i in expected)
        print(
            f"poison: {len(published)} poison messages on {len(patterns)} filters → "
            f"{len(expected)} dead letters {dict(counts)}, {ignored} ignored by notifier policy; "
            f"{len(codes)} complaints + {len(audiences)} audiences completed; lost {len(lost)}, "
            f"unexpected {len(unexpected)}, wrong reason {len(wrong_reason)}; "
            f"{time.monotonic() - started:.1f}s"
        )
        assert (lost, unexpected, wrong_reason) == ([], [], [])
        assert all(found[i]["deliveries"] == 1 and found[i]["status"] == "open" for i in expected)
        for spec in specs:  # nothing stuck: every consumer has settled every message
            info = await js.consumer_info(spec.stream, spec.durable)
            assert (info.num_pending, info.num_ack_pending) == (0, 0), spec.durable

        listed = run_cli(env, "dead-letters", "list", "--json", "--size", "10000")
        assert listed.returncode == 0, listed.stderr
        rows = [json.loads(line) for line in listed.stdout.splitlines()]
        assert {row["_id"] for row in rows} == set(expected)

        # Redriving poison changes nothing: each stays open, with the new reason.
        redriven = run_cli(env, "dead-letters", "redrive", "--service", "intake")
        assert redriven.returncode == 0, redriven.stderr
        intake_ids = {i for i in expected if found[i]["service"] == "intake"}

        async def reopened():
            now = await all_letters()
            return all(now[i]["status"] == "open" and now[i].get("redrives") == 1 for i in intake_ids)

        await eventually(reopened, 30, "intake's poison letters redriven and open again")
        now = await all_letters()
        assert all(now[i]["reason"].startswith("redrive failed: ") for i in intake_ids)
    finally:
        await nc.drain()
        await mongo.close()


class ComplaintsProbeSettings(ServiceSettings):
    """The complaints service's database (as the CLI finds it), with a test-only consumer."""

    service: ClassVar[str] = "complaints"


async def test_a_failure_dead_lettered_takes_effect_after_its_cause_is_fixed_and_it_is_redriven(
    nats_url, mongo_url, mongo_db, nc
):
    kind = "f" + uuid.uuid4().hex[:8]
    spec = ConsumerSpec("complaints", f"probe-{kind}", "complaints", (f"complaints.{kind}.>",))
    broken = True
    handled: list[str] = []

    async def handler(recorded: RecordedEvent) -> None:
        if broken:
            raise RuntimeError("a bug, fixed by the next release")  # not an outage: outages are waited out
        handled.append(recorded.ref.id)

    settings = ComplaintsProbeSettings(
        nats_url=nats_url,
        mongo_url=mongo_url,
        mongo_database=mongo_db.name,
        consumer_max_deliver=3,
        retry_delays_seconds=(0.05, 0.05, 0.05),
    )
    runtime = Runtime(settings)
    runtime.redrive_interval = 0.3
    runtime.consume(spec, handler, "fault test: fails while broken")
    await runtime.start()
    try:
        store = JetStreamEventStore(nc, "/faults")
        for case in ("a", "b"):
            await store.append(
                AggregateRef("complaints", kind, case),
                [probe_event(0)],
                expected_sequence=0,
                expected_version=0,
            )

        async def dead_lettered():
            letters = await runtime.dead_letters().list()
            return letters if len(letters) == 2 else None

        letters = await eventually(dead_lettered, 20, "both dead-lettered after 3 deliveries")
        assert all(x["reason"].startswith("failed 3 deliveries; last: RuntimeError") for x in letters)
        assert handled == []
        broken = False  # the fixed release runs
        env = {
            "SERAMBI_MONGO_URL": mongo_url,
            "SERAMBI_MONGO_DATABASE": mongo_db.name,
            "SERAMBI_NATS_URL": nats_url,
            "SERAMBI_ENVIRONMENT": "test",
        }
        [first] = [x for x in letters if x["subject"].endswith(".a.SLAWarning")]
        result = run_cli(env, "dead-letters", "redrive", "--service", "complaints", "--id", first["_id"])
        assert result.returncode == 0, result.stderr
        assert "1 dead letter(s) marked" in result.stdout

        async def redriven():
            return (
                handled == ["a"]
                and (await mongo_db.dead_letters.find_one({"_id": first["_id"]}))["status"] == "redriven"
            )

        await eventually(redriven, 20, "the marked letter redriven")
        again = run_cli(env, "dead-letters", "redrive", "--service", "complaints", "--id", first["_id"])
        assert again.returncode == 1 and "'redriven'" in again.stderr
        result = run_cli(env, "dead-letters", "redrive", "--service", "complaints")
        assert result.returncode == 0 and "1 dead letter(s) marked" in result.stdout

        async def all_redriven():
            return sorted(handled) == ["a", "b"] and await runtime.dead_letters().list() == []

        await eventually(all_redriven, 20, "every letter redriven")
        listed = run_cli(env, "dead-letters", "list", "--service", "complaints")
        assert "no open dead letters" in listed.stdout
        print(
            f"redrive: 2 transiently failed messages dead-lettered after 3 deliveries, "
            f"handled once each after redrive: {sorted(handled)}"
        )
    finally:
        await runtime.stop()
