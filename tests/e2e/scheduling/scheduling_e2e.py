"""Support for scheduling's end-to-end tests: stacks, direct submissions, waiting."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import nats
from serambi_contracts import AggregateRef
from serambi_contracts.base import Sealed
from serambi_contracts.intake import InstitutionType, IntakeChannel, Requester, RequestSubmitted
from serambi_kit.auth import issue_dev_token
from serambi_kit.eventstore import JetStreamEventStore, read_stream
from serambi_kit.settings import ServiceSettings
from serambi_testing import localstack
from serambi_testing.localstack import wait_ready
from serambi_testing.stack import Stack, running_stack, service_process

SEALED = Sealed(key="k1", nonce="AAAAAAAAAAAAAAAA", data="AAAA")


def token(*roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_dev_token(ServiceSettings(), list(roles))}"}


ADMIN = token("admin")
SCHEDULER = token("scheduler")


def extra_scheduler(stack: Stack, name: str) -> localstack.ManagedProcess:
    """Another replica of scheduling on the same NATS and database."""
    process = service_process(name, stack.env, stack.logs, service="scheduling")
    process.start(ready_timeout=30)
    wait_ready(f"http://127.0.0.1:{process.port}")
    return process


@contextmanager
def scheduling_stack(base: Path, services: tuple[str, ...], env: dict[str, str]) -> Iterator[Stack]:
    with running_stack(base, services, env) as stack:
        yield stack


def request_event(
    code: str, *, proposed: list[date], participants: int = 4, due: datetime | None = None
) -> RequestSubmitted:
    now = datetime.now(UTC)
    return RequestSubmitted(
        tracking_code=code,
        channel=IntakeChannel.ONLINE,
        requester=Requester(
            name=SEALED,
            position="Kepala Dinas",
            institution="Dinas Koperasi",
            institution_type=InstitutionType.LOCAL_GOVERNMENT,
            email=SEALED,
        ),
        topic=SEALED,
        purpose=SEALED,
        participants=participants,
        proposed_dates=proposed,
        submitted_at=now,
        answer_due_at=due or now + timedelta(days=5),
        access_token_sha256="0" * 64,
    )


async def submit_directly(nats_url: str, events: list[RequestSubmitted]) -> None:
    """Append RequestSubmitted events to INTAKE as intake would, all at once."""
    nc = await nats.connect(nats_url)
    try:
        store = JetStreamEventStore(nc, "/serambi/intake")
        await asyncio.gather(
            *(
                store.append(
                    AggregateRef("intake", "request", e.tracking_code),
                    [e],
                    expected_sequence=0,
                    expected_version=0,
                )
                for e in events
            )
        )
    finally:
        await nc.drain()


async def scheduling_events(nats_url: str, subject_filter: str = "scheduling.>") -> list:
    nc = await nats.connect(nats_url)
    try:
        return [r async for r in read_stream(nc, "SCHEDULING", subject_filter)]
    finally:
        await nc.drain()


async def wait_until(predicate, timeout: float, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await predicate()
        if result:
            return result
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def post(url: str, body: dict | None = None, headers: dict | None = None) -> httpx.Response:
    return httpx.post(url, json=body or {}, headers=headers or SCHEDULER, timeout=10)
