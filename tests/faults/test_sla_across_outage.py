"""Fault scenario 6 (issue #9): the whole stack — services, nats-server and the MongoDB-wire
server — is stopped across SLA deadlines and started again; each overdue clock breaches exactly
once, and a clock that is not yet due does not breach.

Complaints are recorded through the officer API with a ``received_at`` in the past, on a
calendar where every hour is working time, so their 3-working-hour clock runs out seconds after
submission; audience requests are appended to INTAKE as intake would, with an answer deadline a
few seconds away and no rooms (so scheduling refers them to an officer and the clock runs).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import nats
import pytest
from serambi_calendar import WIB, package_days
from serambi_contracts import AggregateRef
from serambi_kit.auth import issue_dev_token
from serambi_kit.eventstore import JetStreamEventStore, read_stream
from serambi_kit.settings import ServiceSettings
from serambi_testing import localstack
from serambi_testing.localstack import wait_ready

sys.path.insert(0, str(Path(__file__).parent))
from fault_infrastructure import audience_request  # noqa: E402

pytestmark = pytest.mark.faults

COMPLAINTS = 6
AUDIENCES = 4
LEAD_SECONDS = 14  # deadlines fall this long after submission; the stack is down before then


def always_working_overrides(path: Path) -> Path:
    lines = ['version = "always-working-faults"', "", "[profiles.standard]"]
    lines += [f'{day} = ["00:00-24:00"]' for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]
    year = datetime.now(WIB).year
    for entry in (*package_days(year), *package_days(year + 1)):
        lines += [
            "",
            "[[day]]",
            'action = "remove"',
            f"date = {entry.date.isoformat()}",
            'decree = "fault tests: every day is a working day"',
        ]
    path.write_text("\n".join(lines) + "\n")
    return path


def officer() -> dict[str, str]:
    token = issue_dev_token(ServiceSettings(), ["complaint_officer"], subject="officer-1")
    return {"Authorization": f"Bearer {token}"}


class WholeStack:
    """nats-server, SecantusDB and three services on fixed ports, restartable as a whole."""

    SERVICES = ("intake", "scheduling", "complaints")

    def __init__(self, base: Path) -> None:
        self.nats = localstack.nats_server(base / "nats", localstack.free_port())
        self.mongo = localstack.mongo_server(base / "mongo", localstack.free_port(), base)
        self.env = {
            "SERAMBI_NATS_URL": localstack.nats_url(self.nats.port),
            "SERAMBI_MONGO_URL": localstack.mongo_url(self.mongo.port),
            "SERAMBI_ENVIRONMENT": "test",
            "SERAMBI_LOG_LEVEL": "INFO",
            "SERAMBI_SEED_RESOURCES": "false",
            "SERAMBI_CALENDAR_OVERRIDES": str(always_working_overrides(base / "always.toml")),
            "SERAMBI_RATE_LIMITS": '{"submissions": 100000, "lookups": 100000}',
        }
        self.services = {}
        for name in self.SERVICES:
            port = localstack.free_port()
            self.services[name] = localstack.ManagedProcess(
                name,
                [sys.executable, "-m", f"serambi_{name}"],
                port,
                base / "logs" / f"{name}.log",
                env={**self.env, "SERAMBI_HTTP_PORT": str(port)},
            )

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.services[name].port}"

    def start(self) -> None:
        self.nats.start()
        self.mongo.start(ready_timeout=60)
        for process in self.services.values():
            process.start(ready_timeout=40)
        for name in self.services:
            wait_ready(self.url(name), 40)

    def stop(self) -> None:
        for process in (*self.services.values(), self.mongo, self.nats):
            process.stop()


async def read(nats_url: str, stream: str, subject_filter: str) -> list:
    nc = await nats.connect(nats_url)
    try:
        return [r async for r in read_stream(nc, stream, subject_filter)]
    finally:
        await nc.drain()


async def breaches(stack: WholeStack, codes: list[str], audiences: list[str]) -> Counter:
    url = stack.env["SERAMBI_NATS_URL"]
    found: Counter = Counter({key: 0 for key in (*codes, *audiences)})
    for r in await read(url, "COMPLAINTS", "complaints.complaint.*.SLABreached"):
        found[r.ref.id] += 1
    for r in await read(url, "SCHEDULING", "scheduling.audience.*.SLABreached"):
        found[r.ref.id] += 1
    return found


async def test_every_overdue_clock_breaches_exactly_once_after_a_whole_stack_outage(tmp_path: Path):
    stack = WholeStack(tmp_path)
    started = time.monotonic()
    try:
        stack.start()
        nats_url = stack.env["SERAMBI_NATS_URL"]
        now = datetime.now(UTC).replace(microsecond=0)
        # Complaints: the 3-hour clock runs out LEAD_SECONDS (+ a spread) from now.
        codes, dues = [], []
        async with httpx.AsyncClient(base_url=stack.url("complaints"), headers=officer()) as http:
            for number in range(COMPLAINTS + 1):
                overdue = number < COMPLAINTS
                lead = LEAD_SECONDS + number % 3 if overdue else 3600  # the last: due in an hour
                received = now - timedelta(hours=3) + timedelta(seconds=lead)
                response = await http.post(
                    "/api/v1/officer/complaints",
                    json={
                        "channel": "telephone",
                        "summary": "Layanan lambat",
                        "description": "Belum dijawab.",
                        "disclosure": "anonymous",
                        "tier": "ringan",
                        "received_at": received.astimezone(WIB).isoformat(),
                    },
                )
                assert response.status_code == 201, response.text
                body = response.json()
                codes.append(body["tracking_code"])
                dues.append(datetime.fromisoformat(body["due_at"]))
        control_code = codes.pop()
        dues.pop()
        # Audiences: appended as intake would, the answer due LEAD_SECONDS from now.
        audiences = [f"FAULT-SLA-{number}" for number in range(AUDIENCES + 1)]
        audience_dues = [now + timedelta(seconds=LEAD_SECONDS + n % 2) for n in range(AUDIENCES)]
        audience_dues.append(now + timedelta(hours=1))
        nc = await nats.connect(nats_url)
        try:
            store = JetStreamEventStore(nc, "/serambi/intake")
            for code, due in zip(audiences, audience_dues, strict=True):
                await store.append(
                    AggregateRef("intake", "request", code),
                    [audience_request(code, due)],
                    expected_sequence=0,
                    expected_version=0,
                )
        finally:
            await nc.drain()
        control_audience = audiences.pop()
        audience_dues.pop()

        async def clocks_running() -> bool:
            started_audiences = {
                r.ref.id for r in await read(nats_url, "SCHEDULING", "scheduling.audience.*.*")
            }
            return set(audiences) | {control_audience} <= started_audiences

        deadline = time.monotonic() + 20
        while not await clocks_running():
            assert time.monotonic() < deadline, "scheduling did not take up the requests"
            await asyncio.sleep(0.2)
        assert all(count == 0 for count in (await breaches(stack, codes, audiences)).values())

        stack.stop()  # everything: services, MongoDB-wire server, nats-server
        stopped_at = datetime.now(UTC)
        first_due = min(dues + audience_dues)
        assert stopped_at < first_due, f"the stack was stopped {stopped_at - first_due} after a deadline"
        last_due = max(dues + audience_dues)
        await asyncio.sleep((last_due - datetime.now(UTC)).total_seconds() + 2)

        stack.start()
        expected = {key: 1 for key in (*codes, *audiences)}
        deadline = time.monotonic() + 40
        while True:
            found = await breaches(stack, codes, audiences)
            if all(found[key] >= 1 for key in expected) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.3)
        await asyncio.sleep(2)  # room for a second breach, if there were to be one
        for name in ("scheduling", "complaints"):  # the start-up sweep once more: nothing new
            stack.services[name].stop()
            stack.services[name].start(ready_timeout=40)
            wait_ready(stack.url(name))
        await asyncio.sleep(2)
        found = await breaches(stack, codes + [control_code], audiences + [control_audience])
        lost = sum(1 for key in expected if found[key] == 0)
        duplicated = sum(1 for key in expected if found[key] > 1)
        unexpected = found[control_code] + found[control_audience]
        print(
            f"SLA across a whole-stack outage: {len(codes)} complaint and {len(audiences)} audience "
            f"clocks overdue; lost {lost}, duplicated {duplicated}, unexpected {unexpected}; "
            f"{time.monotonic() - started:.1f}s"
        )
        assert {key: found[key] for key in expected} == expected
        assert (lost, duplicated, unexpected) == (0, 0, 0)
    finally:
        stack.stop()
