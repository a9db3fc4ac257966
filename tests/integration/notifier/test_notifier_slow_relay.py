"""A slow SMTP relay (real aiosmtpd sink, SecantusDB, JetStream) and two notifier replicas.

Times are the default settings divided by 40: a relay that answers each message after 40 s
becomes 1 s, the 120 s lease 3 s, the 20 s command timeout 0.5 s, the 600 s wait for the
relay's answer to a message 15 s. One SMTP connection per replica stands for a pool that is
busy: messages queue for it far longer than a lease.
"""

from __future__ import annotations

import asyncio
import time

from notifier_harness import code
from serambi_contracts import AggregateRef
from serambi_contracts.notifier import NotificationSent
from serambi_notifier.settings import NotifierSettings
from serambi_testing import samples

SCALE = 40
RELAY_SECONDS = 40 / SCALE
DEFAULTS = NotifierSettings(_env_file=None)
SCALED = dict(
    {
        name: getattr(DEFAULTS, name) / SCALE
        for name in ("delivery_lease_seconds", "smtp_timeout_seconds", "smtp_send_timeout_seconds")
    },
    smtp_connections=1,
    dispatch_poll_seconds=0.1,
    quiet_hours_start="00:00",
    quiet_hours_end="00:00",
)


async def submitted(harness, count: int) -> list:
    """``count`` requests, each to be acknowledged by one email (no phone)."""
    recorded = []
    for _ in range(count):
        tracking = code()
        requester = await samples.requester(harness.vault, phone=None)
        recorded.append(
            await harness.append(
                AggregateRef("intake", "request", tracking),
                await samples.request_submitted(harness.vault, tracking, requester),
            )
        )
    return recorded


async def settled(harness, cases: list[str], timeout: float = 40.0) -> list[dict]:
    """Every delivery of the cases final and its event appended."""
    deadline = time.monotonic() + timeout
    while True:
        deliveries = [d for case in cases for d in await harness.deliveries(case)]
        if len(deliveries) == len(cases) and all(
            d["state"] in ("sent", "failed") and d["event_published"] for d in deliveries
        ):
            return deliveries
        assert time.monotonic() < deadline, f"not settled: {[d['state'] for d in deliveries]}"
        await asyncio.sleep(0.1)


async def assert_each_sent_once(harness, cases: list[str], deliveries: list[dict]) -> None:
    for case in cases:
        assert len(harness.mailbox.for_case(case)) == 1, f"{case} got a duplicate or nothing"
    assert {d["state"] for d in deliveries} == {"sent"}
    for delivery in deliveries:
        events = await harness.delivery_events(delivery["_id"])
        assert len(events) == 1 and isinstance(events[0], NotificationSent)


async def test_a_relay_slower_than_the_lease_and_the_command_timeout_gets_every_message_once(harness):
    """Messages wait for the one connection up to 4 s against a 3 s lease, and each answer
    takes 1 s against a 0.5 s command timeout: the holder renews its claims while they wait
    and send, and waits for the relay's answer, so the other replica never takes one over."""
    harness.clock.fixed = None  # real time: leases run out as they would
    harness.mailbox.delay = RELAY_SECONDS
    first, second = harness.dispatcher(**SCALED), harness.dispatcher(**SCALED)
    first.start()
    second.start()
    try:
        recorded = await submitted(harness, 5)
        for event in recorded:
            await first.handle(event)
        cases = [event.ref.id for event in recorded]
        deliveries = await settled(harness, cases)
    finally:
        await first.stop()
        await second.stop()  # and drain: a duplicate on its way is counted too
    await assert_each_sent_once(harness, cases, deliveries)
    assert {(d["attempts"], d.get("lease_expiries", 0)) for d in deliveries} == {(1, 0)}
    assert {d["claimed_by"] for d in deliveries} == {first.owner}


async def test_a_replica_whose_claim_was_taken_over_while_it_queued_does_not_send(harness):
    """The holder's renewals do not get through (a database blip longer than the lease), so
    the other replica takes over the deliveries still queued. The holder checks its claim
    right before handing each message over and drops the ones it lost: still one copy each."""
    harness.clock.fixed = None
    harness.mailbox.delay = 0.5
    scaled = {**SCALED, "delivery_lease_seconds": 1.0}
    holder, other = harness.dispatcher(**scaled), harness.dispatcher(**scaled)

    async def unreachable(*args, **kwargs):
        raise ConnectionError("database unreachable")

    holder.ledger.renew = unreachable  # type: ignore[method-assign]
    other.start()
    try:
        recorded = await submitted(harness, 6)
        for event in recorded:
            await holder.handle(event)
        cases = [event.ref.id for event in recorded]
        deliveries = await settled(harness, cases)
        await holder.drain()
    finally:
        await other.stop()
    await assert_each_sent_once(harness, cases, deliveries)
    taken_over = [d for d in deliveries if d["claimed_by"] == other.owner]
    assert taken_over and all(d["lease_expiries"] == 1 for d in taken_over)
