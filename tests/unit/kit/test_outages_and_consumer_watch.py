"""Outage classification (wait, never dead-letter) and the consumer progress watch."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from nats import errors as nats_errors
from nats.js import errors as js_errors
from pydantic import ValidationError
from pymongo import errors as mongo_errors
from serambi_kit.eventstore import EventStoreError, EventStoreFull
from serambi_kit.health import ConsumerWatch
from serambi_kit.messaging import DeliveryPolicy, deliver
from serambi_kit.outages import is_outage
from serambi_kit.topology import ConsumerSpec


@pytest.mark.parametrize(
    "error",
    [
        mongo_errors.ServerSelectionTimeoutError("no servers"),
        mongo_errors.AutoReconnect("connection reset"),
        mongo_errors.NetworkTimeout("timed out"),
        mongo_errors.NotPrimaryError("stepped down"),
        mongo_errors.OperationFailure("shutting down", code=91),
        nats_errors.TimeoutError(),
        nats_errors.ConnectionClosedError(),
        nats_errors.NoRespondersError(),
        js_errors.ServiceUnavailableError(),
        ConnectionRefusedError("refused"),
        EventStoreFull("append to intake.request.X.RequestSubmitted refused: insufficient resources (10023)"),
    ],
)
def test_a_dependency_that_is_down_is_an_outage(error: Exception) -> None:
    assert is_outage(error)


def test_an_outage_wrapped_by_the_event_store_is_still_an_outage() -> None:
    try:
        try:
            raise nats_errors.TimeoutError()
        except nats_errors.TimeoutError as exc:
            raise EventStoreError("append timed out") from exc
    except EventStoreError as wrapped:
        assert is_outage(wrapped)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad value"),
        KeyError("missing"),
        mongo_errors.DuplicateKeyError("E11000 duplicate key"),
        mongo_errors.OperationFailure("bad query", code=2),
        EventStoreError("append refused: wrong last sequence"),
    ],
)
def test_a_wrong_message_or_a_bug_is_not_an_outage(error: Exception) -> None:
    assert not is_outage(error)


def test_a_validation_error_is_not_an_outage() -> None:
    from pydantic import BaseModel

    class Model(BaseModel):
        number: int

    with pytest.raises(ValidationError) as caught:
        Model.model_validate({"number": "x"})
    assert not is_outage(caught.value)


def test_the_outage_pause_doubles_up_to_its_cap_and_stays_inside_the_ack_wait() -> None:
    policy = DeliveryPolicy(5, (0.5,), ack_wait=30.0, outage_max_delay=10.0)
    assert [policy.outage_delay(n) for n in range(1, 8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    short = DeliveryPolicy(5, (0.5,), ack_wait=3.0, outage_max_delay=10.0)
    assert max(short.outage_delay(n) for n in range(1, 50)) == 1.0


SPEC = ConsumerSpec("svc", "cases", "complaints", ("complaints.>",))


def test_a_consumer_with_work_whose_ack_floor_stands_still_is_reported_stalled() -> None:
    watch = ConsumerWatch([SPEC], stall_after=60.0)
    assert watch.observe(SPEC.durable, 10, 1, 0, ack_floor=5, now=0.0) == "ok"
    assert watch.observe(SPEC.durable, 40, 1, 0, ack_floor=5, now=59.0) == "ok"
    verdict = watch.observe(SPEC.durable, 90, 1, 0, ack_floor=5, now=61.0)
    assert verdict.startswith("stalled: 91 messages waiting")
    assert watch.verdicts() == {SPEC.durable: verdict}
    assert watch.observe(SPEC.durable, 80, 1, 0, ack_floor=6, now=62.0) == "ok"  # it moved


def test_an_idle_consumer_is_never_stalled() -> None:
    watch = ConsumerWatch([SPEC], stall_after=60.0)
    assert watch.observe(SPEC.durable, 0, 0, 0, ack_floor=5, now=0.0) == "ok"
    assert watch.observe(SPEC.durable, 0, 0, 0, ack_floor=5, now=600.0) == "ok"
    assert watch.observe(SPEC.durable, 1, 0, 0, ack_floor=5, now=601.0) == "ok"  # work just came


def test_a_dead_letter_reason_names_the_field_and_rule_but_not_the_personal_value() -> None:
    from pydantic import BaseModel, EmailStr
    from serambi_kit.messaging import describe

    class Contact(BaseModel):
        email: EmailStr
        participants: int

    with pytest.raises(ValidationError) as caught:
        Contact.model_validate({"email": "siti.aminah@@example.go.id", "participants": "0813 4567 8901"})
    reason = describe(caught.value)
    assert reason.startswith("ValidationError: email: ") and "participants: " in reason
    assert "siti.aminah" not in reason and "0813" not in reason


def test_a_refused_setting_names_the_variable_and_rule_but_not_the_value_given(monkeypatch) -> None:
    from serambi_kit.settings import ServiceSettings

    monkeypatch.setenv("SERAMBI_STREAM_REPLICAS", "pasted-secret-by-mistake")  # a value in the wrong variable
    with pytest.raises(ValidationError) as caught:
        ServiceSettings()
    assert "stream_replicas" in str(caught.value) and "int_parsing" in str(caught.value)
    assert "pasted-secret" not in str(caught.value)


class _Client:
    is_draining, is_closed = True, False


class _Msg:
    """A held message of a process whose NATS connection is draining (the service is stopping)."""

    subject = "complaints.complaint.ADU-2026-000001.ComplaintReceived"
    headers = None
    _client = _Client()
    metadata = SimpleNamespace(num_delivered=5, stream="COMPLAINTS", sequence=SimpleNamespace(stream=1))

    def __init__(self) -> None:
        self.settled: list[str] = []

    async def ack_sync(self) -> None:
        self.settled.append("ack")

    async def nak(self, delay: float | None = None) -> None:
        self.settled.append("nak")

    async def in_progress(self) -> None:
        pass


async def test_a_stopping_service_leaves_a_message_held_by_an_outage_for_redelivery() -> None:
    """NATS draining during shutdown looks like an outage; waiting it out would hold the drain
    up for ever (a stop that never ends). The message is left un-acked — not dead-lettered, even
    on its last delivery — and the server gives it again."""
    recorded = SimpleNamespace(envelope=SimpleNamespace(correlationid="c", id="i"))

    async def handle(_: object) -> None:
        raise nats_errors.ConnectionDrainingError()

    handle.parse = lambda msg: recorded  # type: ignore[attr-defined]

    class NoDeadLetters:
        async def record(self, letter: object) -> None:
            raise AssertionError("dead-lettered on shutdown")

    msg = _Msg()
    outcome = await asyncio.wait_for(
        deliver(msg, "cases", handle, NoDeadLetters(), DeliveryPolicy(5, (0.05,))), timeout=5
    )
    assert (outcome, msg.settled) == ("left", [])
