"""The host's day list through the running notifier: HostDayListDue appended on
``scheduling.daylist.<host>-<day>`` reaches the ``notifier-notify-scheduling`` consumer over real
NATS (its filter takes the day lists, not only the audiences) and becomes the host's e-mail."""

from __future__ import annotations

import asyncio
import uuid

from notifier_harness import app_settings, code
from serambi_contracts import AggregateRef
from serambi_kit.eventstore import JetStreamEventStore
from serambi_notifier.main import create_app
from serambi_testing import localstack, samples


async def test_the_notify_consumer_receives_a_host_day_list_over_nats(
    nats_url, mongo_url, mongo_client, nc, mailbox, sms_sink
):
    name = f"test_notifier_{uuid.uuid4().hex[:10]}"
    host = f"H{code()[-8:]}"
    address = f"pejabat-{host.lower()}@ekonomi.example"
    settings = app_settings(
        nats_url,
        mongo_url,
        name,
        mailbox,
        sms_sink,
        smtp_timeout_seconds=2,
        sms_timeout_seconds=2,
        host_emails={host: [address]},
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        store = JetStreamEventStore(nc, "/serambi/test-scheduling")
        ref = AggregateRef("scheduling", "daylist", f"{host}-20260304")
        await store.append(ref, [samples.host_day_list_due(host)], expected_sequence=0, expected_version=0)
        deadline = asyncio.get_running_loop().time() + 30
        while not [m for m in mailbox.messages if m["To"] == address]:
            assert asyncio.get_running_loop().time() < deadline, "the day list never reached the notifier"
            await asyncio.sleep(0.2)
    [mail] = [m for m in mailbox.messages if m["To"] == address]
    assert mail["Subject"].startswith("Jadwal audiensi hari ini")
    await localstack.drop_databases(mongo_client, name, f"{name}_vault")
