"""The kit's delivery policy as the notifier uses it: unknown event types are acked and ignored
(``ignore_unknown_types``), where other consumers dead-letter them."""

from __future__ import annotations

from types import SimpleNamespace

from notifier_fakes import recorded
from serambi_contracts import AggregateRef, encode_headers
from serambi_kit.messaging import DeliveryPolicy, deliver
from serambi_testing import samples

POLICY = DeliveryPolicy(max_deliver=5, retry_delays=(0.5,))


class FakeMsg:
    def __init__(self, event_type: str | None = None) -> None:
        event = recorded(AggregateRef("complaints", "complaint", "ADU-1"), samples.sla_breached("ADU-1"))
        headers = encode_headers(event.envelope)
        if event_type:
            headers["ce-type"] = event_type
        self.headers = headers
        self.subject = "complaints.complaint.ADU-1.SLABreached"
        self.data = event.event.model_dump_json().encode()
        self.metadata = SimpleNamespace(
            num_delivered=1, stream="COMPLAINTS", sequence=SimpleNamespace(stream=7)
        )
        self.settled: list[str] = []

    async def ack_sync(self) -> None:
        self.settled.append("ack")

    async def nak(self, delay: float | None = None) -> None:
        self.settled.append("nak")


class FakeDeadLetters:
    def __init__(self) -> None:
        self.letters = []

    async def record(self, letter) -> None:
        self.letters.append(letter)


async def test_an_unknown_type_is_acked_and_ignored_by_the_notifiers_consumers():
    msg, dead, handled = FakeMsg("id.go.kalbarprov.ekonomi.complaints.Unheard.v1"), FakeDeadLetters(), []

    async def handle(event):
        handled.append(event)

    outcome = await deliver(
        msg, "notifier-notify-complaints", handle, dead, POLICY, ignore_unknown_types=True
    )
    assert (outcome, msg.settled, dead.letters, handled) == ("ignored", ["ack"], [], [])


async def test_without_the_option_an_unknown_type_is_dead_lettered_as_before():
    msg, dead = FakeMsg("id.go.kalbarprov.ekonomi.complaints.Unheard.v1"), FakeDeadLetters()

    async def handle(event):
        raise AssertionError("never called")

    assert await deliver(msg, "other", handle, dead, POLICY) == "dead_lettered"
    assert msg.settled == ["ack"] and "Unheard" in dead.letters[0].reason


async def test_a_known_event_is_still_handled_and_a_malformed_one_still_dead_lettered():
    msg, dead, handled = FakeMsg(), FakeDeadLetters(), []

    async def handle(event):
        handled.append(event)

    assert await deliver(msg, "n", handle, dead, POLICY, ignore_unknown_types=True) == "handled"
    assert len(handled) == 1
    broken = FakeMsg()
    broken.data = b"{not json"
    assert await deliver(broken, "n", handle, dead, POLICY, ignore_unknown_types=True) == "dead_lettered"
