"""How long a failed message waits before its next delivery, and when it is dead-lettered."""

from __future__ import annotations

import pytest
from serambi_kit.messaging import DeliveryPolicy, OutOfOrderError
from serambi_kit.settings import ServiceSettings


def default_policy() -> DeliveryPolicy:
    settings = ServiceSettings()
    return DeliveryPolicy(
        settings.consumer_max_deliver, settings.retry_delays_seconds, settings.consumer_ack_wait_seconds
    )


def test_an_ordinary_failure_backs_off_along_the_configured_delays():
    policy = DeliveryPolicy(5, (0.5, 2.0, 5.0, 15.0), ack_wait=30.0)
    assert [policy.delay(n, RuntimeError("db down")) for n in range(1, 6)] == [0.5, 2.0, 5.0, 15.0, 15.0]


def test_an_out_of_order_event_retries_briefly_once_then_once_per_ack_wait():
    policy = DeliveryPolicy(5, (0.5, 2.0, 5.0, 15.0), ack_wait=30.0)
    assert [policy.delay(n, OutOfOrderError("v2 before v1")) for n in range(1, 5)] == [0.5, 30.0, 30.0, 30.0]


@pytest.mark.parametrize("ack_wait", [3.0, 30.0, 120.0])
def test_an_out_of_order_event_outwaits_a_predecessor_held_by_a_consumer_that_died(ack_wait):
    # the predecessor comes back one ack wait after its lost delivery; the successor must still
    # have deliveries left by then (it was dead-lettered after 22.5 s with the defaults: a kill
    # -9 of intake left a request's read model one scheduling event short)
    settings = ServiceSettings()
    policy = DeliveryPolicy(settings.consumer_max_deliver, settings.retry_delays_seconds, ack_wait)
    waits = [policy.delay(n, OutOfOrderError("early")) for n in range(1, policy.max_deliver)]
    assert sum(waits) > 2 * ack_wait


def test_the_defaults_keep_that_property():
    policy = default_policy()
    waits = [policy.delay(n, OutOfOrderError("early")) for n in range(1, policy.max_deliver)]
    assert sum(waits) > 2 * policy.ack_wait
