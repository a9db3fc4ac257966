"""A revision of the working calendar made in the console (scheduling records WorkingDayRevised)
reaches a running complaints service: it reads it into its live calendar and moves the deadline
of an open complaint it changes (ComplaintDeadlineMoved), without a restart — real servers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from complaints_support import eventually, now, stream_events
from serambi_calendar import WIB, LiveCalendar, SlaPolicy, parse_overrides
from serambi_complaints.application import commands
from serambi_complaints.domain import Rules
from serambi_contracts.complaints import ComplaintChannel, ComplaintDeadlineMoved, ComplaintTier, Disclosure
from serambi_contracts.scheduling import WorkingDayRevised
from serambi_kit import runtime as runtime_module
from serambi_kit.calendars import CALENDAR
from serambi_kit.eventstore import JetStreamEventStore
from serambi_kit.revisions import recorded_fingerprint

# every hour of every day is working time, so the clocks run while the test does
ALWAYS = 'version = "live.1"\n[profiles.standard]\n' + "".join(
    f'{day} = ["00:00-24:00"]\n' for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
)


@pytest.mark.parametrize("read_model_late", [False, True], ids=["read_model_current", "read_model_late"])
async def test_a_revision_recorded_by_scheduling_moves_an_open_complaints_deadline_while_it_runs(
    start_service, nats_client, monkeypatch, read_model_late
):
    """The open complaints a revision moves are listed from the read model: one recorded just
    before (here: projected a second late) is moved too — the revision waits for the read model."""
    year = datetime.now(UTC).year
    live = LiveCalendar(parse_overrides(ALWAYS, "overrides-live.toml"), years=[year, year + 1])
    # the test's own read must be the one that takes the revision: the refresh round is off (0:
    # at start-up only), and the start-up round — in the background, it reads the revisions and
    # then records the fingerprint it counts with — is over before the revision is appended
    service = await start_service(Rules(live, SlaPolicy()), settings={"calendar_refresh_seconds": 0})

    async def started_up() -> bool:
        return await recorded_fingerprint(service.runtime.db) == service.rules.fingerprint

    await eventually(started_up, timeout=30)
    if read_model_late:
        apply_batch = runtime_module.apply_batch

        async def late(collection, projection, batch):
            if collection.name == "complaints":
                await asyncio.sleep(1)
            return await apply_batch(collection, projection, batch)

        monkeypatch.setattr(runtime_module, "apply_batch", late)
    new = commands.NewComplaint(
        channel=ComplaintChannel.TELEPHONE,
        received_at=now(),
        disclosure=Disclosure.NAMED,
        summary="Layanan lambat",
        description="Belum ada jawaban.",
        name="Rina",
        phone="+6281234567890",
        tier=ComplaintTier.NORMATIF,
        recorded_by="officer-1",
    )
    runtime = service.runtime
    outcome, _ = await commands.receive(runtime.store, runtime.db, runtime.vault, service.rules, new, now())
    complaint = outcome.complaint
    assert await service.refresh_calendar() == 0  # nothing revised yet

    day = (complaint.received_at.astimezone(WIB) + timedelta(days=2)).date()
    while day.weekday() >= 5 or not live.working_periods(day):  # a working day of the file's calendar
        day += timedelta(days=1)
    revision = WorkingDayRevised(
        revision=1,
        action="add",
        day=day,
        holiday_name="Cuti bersama (uji)",
        decree="SKB 3 Menteri, revisi uji",
        revised_by="admin-1",
    )
    await JetStreamEventStore(nats_client, "/test").append(
        CALENDAR, [revision], expected_sequence=0, expected_version=0
    )

    assert await service.refresh_calendar() == 1
    [moved] = [
        e
        for e in await stream_events(nats_client, complaint.tracking_code)
        if isinstance(e, ComplaintDeadlineMoved)
    ]
    assert moved.previous_due_at == complaint.due_at
    assert moved.due_at == complaint.due_at + timedelta(days=1)
    assert moved.calendar_revision == "overrides-live.toml vlive.1 + revisi 1"
    assert await service.refresh_calendar() == 0  # read once
    assert not live.working_periods(day)
