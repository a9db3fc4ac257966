"""Harness: the notifier's parts against real servers: nats-server and SecantusDB (session fixtures), an
aiosmtpd SMTP server and the HTTP SMS sink, each on a free loopback port.

The dispatcher is composed here without the broker's consumers (the session's streams are shared
with other tests); events are appended to JetStream for real, read back, projected and handed to
``Dispatcher.handle`` as the consumer would. The consumers themselves run in tests/e2e/notifier.
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from serambi_contracts import AggregateRef, Event
from serambi_kit.eventstore import JetStreamEventStore, RecordedEvent
from serambi_kit.mongo import connect, database
from serambi_kit.pii import Vault
from serambi_kit.projections import apply_change
from serambi_notifier.adapters.cases import case_source
from serambi_notifier.adapters.channels.email import SmtpChannel
from serambi_notifier.adapters.channels.sms import JsonProvider
from serambi_notifier.adapters.ics import invitation_ics
from serambi_notifier.adapters.ledger import Ledger
from serambi_notifier.adapters.projections import CASES, CASES_PROJECTION
from serambi_notifier.adapters.rendering import TEMPLATES, Renderer
from serambi_notifier.application.compose import Composer
from serambi_notifier.application.dispatch import Dispatcher
from serambi_notifier.application.planning import Planner
from serambi_notifier.domain import subscriptions
from serambi_notifier.settings import NotifierSettings
from serambi_testing import localstack
from serambi_testing.sinks import serving_sms, serving_smtp, sms_server

MASTER = os.urandom(32)
TOKEN = "integration-sms-token"


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps every message and can refuse recipients or data.

    With ``delay`` it is a slow relay: it keeps the message as soon as it has it and answers
    ``250`` only ``delay`` seconds later (the worst case for a sender: a client that gives up
    waiting has still had its message taken)."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse_rcpt: dict[str, str] = field(default_factory=dict)  # address → SMTP reply
    data_replies: list[str] = field(default_factory=list)  # replies to the next DATA commands
    delay: float = 0.0  # seconds before answering a message it kept
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        reply = self.refuse_rcpt.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self.lock:
            if self.data_replies:
                return self.data_replies.pop(0)
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 Message accepted"

    def for_case(self, case_id: str) -> list[EmailMessage]:
        return [m for m in self.messages if m.get("X-Serambi-Case") == case_id]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    handler = Mailbox()
    with serving_smtp(handler, localstack.free_port()) as controller:
        handler.port = controller.port  # type: ignore[attr-defined]
        yield handler


@dataclass
class SmsSink:
    url: str
    log: Path

    def requests(self) -> list[dict[str, Any]]:
        import json

        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def to(self, number: str) -> list[dict[str, Any]]:
        return [r for r in self.requests() if r["body"].get("to") == number and r["answered"] == 200]


@pytest.fixture
def sms_sink(tmp_path: Path) -> Iterator[SmsSink]:
    with serving_sms(sms_server(localstack.free_port(), tmp_path / "sms", token=TOKEN)) as server:
        yield SmsSink(f"http://127.0.0.1:{server.server_address[1]}", tmp_path / "sms" / "sms.jsonl")


class Clock:
    def __init__(self) -> None:
        self.fixed: datetime | None = None

    def __call__(self) -> datetime:
        return self.fixed or datetime.now(UTC)


@dataclass
class Harness:
    settings: NotifierSettings
    db: Any
    vault: Vault
    store: JetStreamEventStore
    nc: Any
    clock: Clock
    mailbox: Mailbox
    sms: SmsSink
    dispatchers: list[Dispatcher] = field(default_factory=list)

    def dispatcher(self, **overrides: Any) -> Dispatcher:
        settings = self.settings.model_copy(update=overrides) if overrides else self.settings
        table = subscriptions.by_event(subscriptions.load(None, TEMPLATES))
        email = SmtpChannel(
            host="127.0.0.1",
            port=settings.smtp_port,
            tls="none",
            username=None,
            password=None,
            sender=settings.mail_from,
            timeout=settings.smtp_timeout_seconds,
            send_timeout=settings.smtp_send_timeout_seconds,
            connections=settings.smtp_connections,
        )
        sms = JsonProvider(settings.sms_url, TOKEN, "BIROEKONOMI", settings.sms_timeout_seconds)
        dispatcher = Dispatcher(
            settings,
            Planner(settings, table, self.vault, case_source(self.db)),
            Composer(settings, Renderer(), invitation_ics),
            Ledger(self.db),
            email,
            sms,
            self.store,
            self.nc,
            clock=self.clock,
        )
        self.dispatchers.append(dispatcher)
        return dispatcher

    async def append(self, ref: AggregateRef, event: Event) -> RecordedEvent:
        """Append for real, read it back, project it into the notifier's read model."""
        history = await self.store.load(ref)
        await self.store.append(
            ref, [event], expected_sequence=history.last_sequence, expected_version=history.version
        )
        recorded = (await self.store.load(ref)).events[-1]
        await apply_change(self.db[CASES], CASES_PROJECTION.change_for(recorded), recorded)
        return recorded

    async def delivery_events(self, delivery_id: str) -> list[Event]:
        return (await self.store.load(AggregateRef("notifier", "delivery", delivery_id))).payloads

    async def deliveries(self, case_id: str) -> list[dict[str, Any]]:
        return [d async for d in self.db["deliveries"].find({"case_id": case_id})]


@pytest.fixture(scope="session")
async def tz_mongo(mongo_url) -> Any:
    """A client like the services' own: timezone-aware datetimes, write concern majority."""
    client = connect(mongo_url)
    yield client
    await client.close()


@pytest.fixture
async def harness(nc, tz_mongo, mailbox, sms_sink) -> Any:
    mongo_client = tz_mongo
    name = f"test_notifier_{uuid.uuid4().hex[:10]}"
    settings = NotifierSettings(
        _env_file=None,
        smtp_port=mailbox.port,
        sms_url=f"{sms_sink.url}/json/messages",
        quiet_hours_start="21:00",
        quiet_hours_end="06:00",
        contact_wait_seconds=0.5,
        delivery_backoff_base_seconds=0.2,
        delivery_max_attempts=3,
        delivery_lease_seconds=5,
        smtp_timeout_seconds=2,
        sms_timeout_seconds=2,
        letters_base_url=None,
        officer_emails={
            "supervisor": ["kabiro@ekonomi.example"],
            "complaint_officer": ["pengaduan@ekonomi.example"],
        },
    )
    db = database(mongo_client, name)
    vault = Vault(database(mongo_client, f"{name}_vault"), MASTER, cache_seconds=0)
    clock = Clock()
    clock.fixed = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)  # Monday 12:00 WIB, outside quiet hours
    h = Harness(
        settings, db, vault, JetStreamEventStore(nc, "/serambi/test-notifier"), nc, clock, mailbox, sms_sink
    )
    await Ledger(db).ensure_indexes()
    yield h
    for dispatcher in h.dispatchers:
        await dispatcher.claims.close()
        await dispatcher.email.close()
        await dispatcher.sms.close()
    await localstack.drop_databases(mongo_client, name, f"{name}_vault")


def code(prefix: str = "AUD") -> str:
    return f"{prefix}-T{uuid.uuid4().hex[:12]}"


async def handled(dispatcher: Dispatcher, recorded: RecordedEvent) -> None:
    """What the consumer does with the event, then wait for the sends it started."""
    await dispatcher.handle(recorded)
    await dispatcher.drain()


def app_settings(
    nats_url: str, mongo_url: str, name: str, mailbox, sms_sink, **overrides: Any
) -> NotifierSettings:
    """A whole notifier app's settings (``create_app``) on the test's servers and sinks, its
    databases named after ``name``."""
    return NotifierSettings(
        _env_file=None,
        nats_url=nats_url,
        mongo_url=mongo_url,
        mongo_database=name,
        vault_database=f"{name}_vault",
        smtp_port=mailbox.port,
        sms_url=f"{sms_sink.url}/json/messages",
        letters_base_url=None,
        notify_max_age_hours=0,
        **overrides,
    )
