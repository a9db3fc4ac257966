"""deploy/nats/auth.conf grants each service exactly the consumers its code declares.

NATS permissions match whole subject tokens, so they cannot say "every consumer named
`intake-…`": each durable consumer is listed. These tests keep that list and the code in step.
"""

from __future__ import annotations

import re

import pytest
from serambi_kit.topology import TIMER_OWNERS, ConsumerSpec, timers_stream

from .conftest import DEPLOY, SERVICE_NAMES

AUTH = DEPLOY / "nats" / "auth.conf"


def publish_allowed() -> dict[str, list[str]]:
    """user → the subjects of its `publish.allow` list (comments dropped)."""
    text = "\n".join(line.split("#", 1)[0] for line in AUTH.read_text().splitlines())
    users: dict[str, list[str]] = {}
    blocks = re.split(r"\buser:\s*", text)[1:]
    for block in blocks:
        name = block.split()[0]
        allow = re.search(r"publish:\s*{\s*allow:\s*\[(.*?)\]", block, re.S)
        assert allow, f"user {name} has no publish.allow list"
        users[name] = re.findall(r'"([^"]+)"', allow.group(1))
    return users


def consumer_grants(spec: ConsumerSpec) -> list[str]:
    base = f"{spec.stream}.{spec.durable}"
    return [
        f"$JS.API.CONSUMER.INFO.{base}",
        f"$JS.API.CONSUMER.DURABLE.CREATE.{base}",
        f"$JS.API.CONSUMER.CREATE.{base}",
        f"$JS.API.CONSUMER.CREATE.{base}.>",
        f"$JS.API.CONSUMER.MSG.NEXT.{base}",
        f"$JS.ACK.{base}.>",
    ]


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_every_durable_consumer_a_service_declares_is_granted_to_that_service(service, declared_consumers):
    granted = set(publish_allowed()[service])
    missing = [
        line for spec in declared_consumers[service] for line in consumer_grants(spec) if line not in granted
    ]
    assert not missing, f"run `python deploy/sync_consumers.py`; {service} lacks:\n" + "\n".join(missing)


def test_no_user_is_granted_a_consumer_of_another_service():
    for user, subjects in publish_allowed().items():
        for subject in subjects:
            match = re.match(
                r"\$JS\.(?:API\.CONSUMER\.(?:DURABLE\.CREATE|CREATE|INFO|MSG\.NEXT)|ACK)\.(\w+)\.([^.]+)",
                subject,
            )
            if not match or user == "ops":
                continue
            stream, consumer = match.groups()
            if user == "bus":
                assert stream.startswith("BUS_"), subject
            else:
                assert consumer.startswith(f"{user}-"), f"{user} may use {consumer}: {subject}"


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_a_service_may_publish_only_its_own_context_and_timers_if_it_owns_clocks(service):
    events = [s for s in publish_allowed()[service] if not s.startswith("$JS.")]
    assert events == [f"{service}.>", *([f"timers.{service}.>"] if service in TIMER_OWNERS else [])]


@pytest.mark.parametrize("user", [*SERVICE_NAMES, "bus"])
def test_only_the_owner_may_purge_its_timers_stream(user):
    purges = [s for s in publish_allowed()[user] if s.startswith("$JS.API.STREAM.PURGE.")]
    assert purges == ([f"$JS.API.STREAM.PURGE.{timers_stream(user)}"] if user in TIMER_OWNERS else [])
    assert not [s for s in publish_allowed()[user] if s.startswith("$JS.API.STREAM.MSG.DELETE.")]


def test_the_integration_user_may_publish_no_event_and_use_no_event_stream():
    for subject in publish_allowed()["bus"]:
        assert subject.startswith("$JS."), subject
        assert not re.search(r"\.(INTAKE|SCHEDULING|COMPLAINTS|NOTIFIER|TIMERS_\w+)(\.|$)", subject), subject
