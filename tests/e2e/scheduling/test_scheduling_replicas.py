"""Two scheduling processes on one NATS and one database: 50 simultaneous requests for the same
day never double-book a room or a host, and the answer clock breaches exactly once, also when
the deadline passes while the service is down."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from scheduling_e2e import (
    ADMIN,
    Stack,
    extra_scheduler,
    request_event,
    running_stack,
    scheduling_events,
    submit_directly,
    wait_until,
)
from serambi_calendar import load_calendar
from serambi_contracts.scheduling import AudienceReferred, AudienceScheduled, SlotBooked, SlotReleased
from serambi_contracts.sla import SLABreached, SLAWarning
from serambi_scheduling.domain.resources import Host, Room
from serambi_scheduling.domain.rules import BusyView, Request, Rules, find_slot
from serambi_scheduling.domain.time import wib_day

pytestmark = pytest.mark.slow  # make test-slow (CI runs it after make test)

ROOMS = [("ruang-a", 10), ("ruang-b", 12), ("ruang-c", 30)]
HOSTS = ["kabag-1", "kabag-2"]


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    env = {"SERAMBI_SEED_RESOURCES": "false"}
    with running_stack(tmp_path_factory.mktemp("replicas"), ("scheduling",), env) as stack:
        second = extra_scheduler(stack, "scheduling-2")
        stack.processes["scheduling-2"] = second
        try:
            url = stack.urls["scheduling"]
            for room_id, capacity in ROOMS:
                body = {"room_id": room_id, "name": room_id, "capacity": capacity, "location": "Lt 2"}
                assert httpx.post(f"{url}/api/v1/rooms", json=body, headers=ADMIN).status_code == 201
            for host_id in HOSTS:
                body = {"host_id": host_id, "name": host_id, "position": "Kepala Bagian"}
                assert httpx.post(f"{url}/api/v1/hosts", json=body, headers=ADMIN).status_code == 201
            yield stack
        finally:
            second.stop()


def overlapping(intervals: list[tuple[datetime, datetime]], buffer: timedelta) -> list:
    ordered = sorted(intervals)
    return [(a, b) for a, b in zip(ordered, ordered[1:], strict=False) if a[1] + buffer > b[0]]


async def test_fifty_simultaneous_requests_for_one_day_on_two_replicas_never_double_book(replicas):
    calendar = load_calendar()
    day = wib_day(calendar.add_working_days(datetime.now(UTC), 2))
    codes = [f"CC-{n:03d}" for n in range(50)]
    await submit_directly(
        replicas.env["SERAMBI_NATS_URL"],
        [request_event(code, proposed=[day], participants=8) for code in codes],
    )

    async def decided():
        events = await scheduling_events(replicas.env["SERAMBI_NATS_URL"], "scheduling.audience.*.*")
        done = {r.ref.id for r in events if isinstance(r.event, AudienceScheduled | AudienceReferred)}
        return events if set(codes) <= done else None

    audience_events = await wait_until(decided, timeout=45)
    scheduled = [r.event for r in audience_events if isinstance(r.event, AudienceScheduled)]
    assert len({e.audience_id for e in scheduled}) == len(scheduled)  # each at most once
    buffer = timedelta(minutes=15)
    for attribute in ("room_id", "host_id"):
        for resource in {getattr(e, attribute) for e in scheduled}:
            mine = [(e.starts_at, e.ends_at) for e in scheduled if getattr(e, attribute) == resource]
            assert overlapping(mine, buffer) == [], f"{resource} is double-booked"
    # The bookings on the day aggregates agree: what is held is exactly what was scheduled.
    bookings = await scheduling_events(replicas.env["SERAMBI_NATS_URL"], "scheduling.>")
    active: dict[str, SlotBooked] = {}
    for recorded in bookings:  # the room-day and host-day aggregates
        if isinstance(recorded.event, SlotBooked):
            active[f"{recorded.ref.aggregate}:{recorded.event.booking_id}"] = recorded.event
        elif isinstance(recorded.event, SlotReleased):
            active.pop(f"{recorded.ref.aggregate}:{recorded.event.booking_id}", None)
    assert sorted(b.booking_id for b in active.values() if b.resource.value == "room") == sorted(
        e.booking_id for e in scheduled
    )
    # And the day is as full as the rules allow: no slot was lost to the race.
    view, capacity = BusyView(), 0
    rooms = [Room(room_id, room_id, seats, "Lt 2") for room_id, seats in ROOMS]
    hosts = [Host(host_id, host_id, "Kepala Bagian") for host_id in HOSTS]
    while not isinstance(
        slot := find_slot(Request(8, (day,)), rooms, hosts, view, calendar, Rules(), datetime.now(UTC)), str
    ):
        view.add("room", slot.room.room_id, slot.starts_at, slot.ends_at)
        view.add("host", slot.host.host_id, slot.starts_at, slot.ends_at)
        capacity += 1
    assert len(scheduled) == capacity
    assert {e.starts_at.date() for e in scheduled} <= {day, day - timedelta(days=1)}  # UTC vs WIB


async def test_the_answer_clock_breaches_exactly_once_across_a_restart(replicas):
    nats_url = replicas.env["SERAMBI_NATS_URL"]
    saturday = wib_day(datetime.now(UTC)) + timedelta(days=(5 - wib_day(datetime.now(UTC)).weekday()) % 7 + 7)
    due = datetime.now(UTC) + timedelta(seconds=6)
    await submit_directly(nats_url, [request_event("SLA-001", proposed=[saturday], due=due)])

    async def referred():
        events = await scheduling_events(nats_url, "scheduling.audience.SLA-001.*")
        return any(isinstance(r.event, AudienceReferred) for r in events)

    await wait_until(referred, timeout=15)
    for name in ("scheduling", "scheduling-2"):
        replicas.processes[name].stop()
    remaining = (due - datetime.now(UTC)).total_seconds()
    assert remaining > 0, "the deadline passed before the service was stopped"
    await asyncio.sleep(remaining + 1.5)  # the deadline passes while no scheduling runs
    replicas.restart("scheduling")

    async def breached():
        events = await scheduling_events(nats_url, "scheduling.audience.SLA-001.*")
        return events if any(isinstance(r.event, SLABreached) for r in events) else None

    await wait_until(breached, timeout=20)
    replicas.processes["scheduling-2"].start(ready_timeout=30)  # the second replica comes back too
    await asyncio.sleep(2)  # time for a second breach, if there were to be one
    events = await scheduling_events(nats_url, "scheduling.audience.SLA-001.*")
    sla = [r.event for r in events if isinstance(r.event, SLAWarning | SLABreached)]
    assert [getattr(e, "threshold_percent", "breach") for e in sla] == [50, 75, 90, "breach"]
    assert sla[-1].due_at == due and sla[-1].case_id == "SLA-001"
