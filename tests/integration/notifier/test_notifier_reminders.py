"""A reminder of an audience (AudienceReminderDue) against a real SMTP server, a real HTTP SMS
sink, JetStream and SecantusDB: one e-mail and one SMS to the requester however often the event
is delivered, the SMS of a reminder handled in quiet hours held until they end."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from notifier_harness import code, handled
from serambi_contracts import AggregateRef
from serambi_notifier.adapters.rendering import WIB
from serambi_testing import samples

PHONE = "+6281345678901"


async def scheduled(harness, tracking: str) -> AggregateRef:
    """A request and its audience, scheduled on Wednesday 4 March 2026 at 09.00 WIB."""
    requester = await samples.requester(harness.vault)
    request = await harness.append(
        AggregateRef("intake", "request", tracking),
        await samples.request_submitted(harness.vault, tracking, requester),
    )
    audience = AggregateRef("scheduling", "audience", tracking)
    await harness.append(audience, samples.audience_requested(tracking, request.event.topic))
    await harness.append(audience, samples.audience_scheduled(tracking))
    return audience


def reminders(harness, tracking: str) -> list:
    return [m for m in harness.mailbox.for_case(tracking) if m["Subject"].startswith("Pengingat")]


async def test_a_reminder_delivered_twice_to_two_replicas_sends_one_email_and_one_sms(harness):
    tracking = code()
    audience = await scheduled(harness, tracking)
    harness.clock.fixed = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)  # Tuesday 09.00 WIB: H-1
    reminder = await harness.append(audience, samples.audience_reminder_due(tracking, "day_before"))
    first, second = harness.dispatcher(), harness.dispatcher()
    await asyncio.gather(*(handled(d, reminder) for d in (first, second, first, second)))
    await first.run_once()
    [mail] = reminders(harness, tracking)
    assert mail["To"] == "siti@example.go.id" and tracking in mail["Subject"]
    assert "Rabu, 4 Maret 2026 pukul 09.00 WIB" in mail.get_body(("plain",)).get_content()
    [sms] = harness.sms.to(PHONE)  # the invitation was never handled here: only the reminder
    assert "pengingat audiensi" in sms["body"]["text"] and tracking in sms["body"]["text"]
    deliveries = await harness.deliveries(tracking)
    assert sorted(d["channel"] for d in deliveries) == ["email", "sms"]
    assert {d["state"] for d in deliveries} == {"sent"}
    for delivery in deliveries:
        assert len(await harness.delivery_events(delivery["_id"])) == 1


async def test_the_sms_of_a_reminder_handled_in_quiet_hours_waits_until_they_end(harness):
    tracking = code()
    audience = await scheduled(harness, tracking)
    harness.clock.fixed = datetime(2026, 3, 3, 22, 30, tzinfo=UTC)  # Wednesday 05.30 WIB
    reminder = await harness.append(audience, samples.audience_reminder_due(tracking, "same_day"))
    dispatcher = harness.dispatcher()
    await handled(dispatcher, reminder)
    deliveries = {d["channel"]: d for d in await harness.deliveries(tracking)}
    assert deliveries["email"]["state"] == "sent" and len(reminders(harness, tracking)) == 1
    assert deliveries["sms"]["state"] == "held"
    assert deliveries["sms"]["next_attempt_at"] == datetime(2026, 3, 4, 6, 0, tzinfo=WIB)
    await dispatcher.run_once()
    assert harness.sms.to(PHONE) == []
    harness.clock.fixed = datetime(2026, 3, 3, 23, 0, 1, tzinfo=UTC)  # 06.00.01 WIB
    await dispatcher.run_once()
    await dispatcher.run_once()
    [sms] = harness.sms.to(PHONE)
    assert "hari ini" in sms["body"]["text"]


async def test_a_host_day_list_delivered_twice_sends_the_host_one_email_and_one_sms(harness):
    host = f"H{code()[-8:]}"
    overrides = {
        "host_emails": {host: ["kabiro.ekonomi@ekonomi.example"]},
        "host_phones": {host: ["081233334444"]},
    }
    harness.clock.fixed = datetime(2026, 3, 4, 0, 0, 5, tzinfo=UTC)  # Wednesday 07.00 WIB
    ref = AggregateRef("scheduling", "daylist", f"{host}-20260304")  # no case: nothing projected
    history = await harness.store.load(ref)
    await harness.store.append(
        ref,
        [samples.host_day_list_due(host)],
        expected_sequence=history.last_sequence,
        expected_version=history.version,
    )
    day_list = (await harness.store.load(ref)).events[-1]
    first, second = harness.dispatcher(**overrides), harness.dispatcher(**overrides)
    await asyncio.gather(*(handled(d, day_list) for d in (first, second, first)))
    await first.run_once()
    mails = [
        m
        for m in harness.mailbox.messages
        if m["To"] == "kabiro.ekonomi@ekonomi.example" and m["Subject"].startswith("Jadwal audiensi hari ini")
    ]
    assert len(mails) == 1 and "2 audiensi" in mails[0]["Subject"]
    assert "Dinas Perindustrian Kota Singkawang" in mails[0].get_body(("plain",)).get_content()
    [sms] = harness.sms.to("+6281233334444")
    assert "2 audiensi hari ini" in sms["body"]["text"]
