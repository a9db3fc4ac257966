"""Durable timers on JetStream message schedules (design §7).

``arm`` publishes a schedule on ``timers.<owner>.<timer_id>.Schedule`` with
``Nats-Schedule: @at <RFC 3339>`` and target ``timers.<owner>.<timer_id>.ClockDue``; publishing
again on the same subject replaces the schedule, purging the subject cancels it. When it fires,
the server stores the ClockDue event (a normal CloudEvents message, kept for
``FIRED_TIMER_TTL_SECONDS``) on the target subject, where the owner's durable consumer picks it
up with the usual delivery policy. Timers live in the server, on the owner's own stream
(``timers_config``: a schedule never expires before it fires, and no other service can remove
it): an owning service keeps no per-clock state in memory, and nothing is lost while it is
down (its consumer gets the fired timers when it is back).

Timer ids use ``[A-Za-z0-9_-]``; one per clock and threshold, e.g. ``ADU-2026-000045-breach``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError
from serambi_contracts import AggregateRef, encode_headers
from serambi_contracts.sla import ClockDue

from .eventids import deterministic_id
from .eventstore.model import encode_event, make_envelopes
from .topology import FIRED_TIMER_TTL_SECONDS, ConsumerSpec, timers_stream


def _ref(owner: str, timer_id: str) -> AggregateRef:
    return AggregateRef("timers", owner, timer_id)


def schedule_subject(owner: str, timer_id: str) -> str:
    return _ref(owner, timer_id).subject("Schedule")


def due_consumer(owner: str) -> ConsumerSpec:
    """The owner's durable consumer of its fired timers."""
    return ConsumerSpec(owner, "timers", "timers", (f"timers.{owner}.*.ClockDue",))


def _at(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Timers:
    def __init__(self, js: JetStreamContext, owner: str, source: str) -> None:
        self.js = js
        self.owner = owner
        self.source = source

    async def arm(self, timer_id: str, due: ClockDue, *, event_id: str | None = None) -> None:
        """Fire ``due`` at ``due.due_at`` (whole seconds, rounded up); replaces an armed timer.

        ``event_id`` is the fired ClockDue's envelope id; it defaults to one derived from the
        timer and its instant (pass one derived from the cause to tell two armings of one
        instant apart). No ``Nats-Msg-Id`` is sent: replicas arming the same timer publish
        twice, and the later schedule replaces the earlier one on its subject.
        """
        ref = _ref(self.owner, timer_id)
        event_id = event_id or deterministic_id("timer", self.owner, timer_id, due.due_at.isoformat())
        [envelope] = make_envelopes(self.source, ref, [due], expected_version=0, event_ids=[event_id])
        fire_at = due.due_at.replace(microsecond=0) + timedelta(seconds=bool(due.due_at.microsecond))
        headers = {
            **encode_headers(envelope),
            "Nats-Schedule": f"@at {_at(fire_at)}",
            "Nats-Schedule-Target": ref.subject(ClockDue.name()),
            "Nats-Schedule-TTL": f"{FIRED_TIMER_TTL_SECONDS}s",
        }
        await self.js.publish(schedule_subject(self.owner, timer_id), encode_event(due), headers=headers)

    async def cancel(self, timer_id: str) -> None:
        await self.js.purge_stream(timers_stream(self.owner), subject=schedule_subject(self.owner, timer_id))

    async def scheduled(self, timer_id: str) -> ClockDue | None:
        """What the timer will fire, or None when no schedule waits (fired, cancelled, lost).

        Asked of the stream's leader, not by direct get: any replica answers a direct get, and a
        follower a moment behind would show a schedule just cancelled (so it is not armed again)
        or miss one just armed (seen in CI on a three-node cluster)."""
        try:
            message = await self.js.get_last_msg(
                timers_stream(self.owner), schedule_subject(self.owner, timer_id)
            )
        except NotFoundError:
            return None
        return ClockDue.model_validate_json(message.data or b"")  # no data: invalid either way
