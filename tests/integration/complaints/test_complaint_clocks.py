"""SLA timers of complaints on JetStream message schedules, against real servers: armed from
the complaint's events, moved by reclassification, cancelled by the answer, fired exactly once,
swept and re-armed when lost, and moved by a calendar revision at start-up."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from complaints_support import always_rules, eventually, is_breached, now, received_for, stop, stream_events
from nats.js.errors import NotFoundError
from serambi_calendar import WIB
from serambi_complaints.application import commands
from serambi_complaints.application.sla_timers import CLOCKS, ClockKeeper
from serambi_contracts.complaints import ComplaintChannel, ComplaintDeadlineMoved, ComplaintTier, Disclosure
from serambi_contracts.sla import SLABreached, SLAWarning
from serambi_kit.eventstore import read_stream
from serambi_kit.timers import schedule_subject
from serambi_kit.topology import timers_stream
from structlog.testing import capture_logs

RINGAN, NORMATIF = ComplaintTier.RINGAN, ComplaintTier.NORMATIF


async def record(service, tier=RINGAN, received_at=None, **details):
    runtime = service.runtime
    new = commands.NewComplaint(
        channel=details.pop("channel", ComplaintChannel.TELEPHONE),
        received_at=received_at or now(),
        disclosure=Disclosure.NAMED,
        summary="Layanan lambat",
        description="Belum ada jawaban.",
        name="Rina",
        phone="+6281234567890",
        tier=tier,
        recorded_by="officer-1",
        **details,
    )
    outcome, _ = await commands.receive(runtime.store, runtime.db, runtime.vault, service.rules, new, now())
    return outcome.complaint


async def scheduled_at(nc, code: str, threshold: str) -> str | None:
    """The `@at` instant of an armed timer, or None if it is not armed."""
    try:
        message = await nc.jetstream().get_last_msg(
            timers_stream("complaints"), schedule_subject("complaints", f"{code}-{threshold}")
        )
    except NotFoundError:
        return None
    return message.headers["Nats-Schedule"].removeprefix("@at ")


async def armed(service, code: str, rank: int) -> dict:
    """Until the timers follow the complaint's `rank`-th clock event."""
    collection = service.runtime.db[CLOCKS]

    async def done() -> bool:
        document = await collection.find_one({"_id": code})
        return bool(document) and document["rank"] >= rank

    await eventually(done)
    return await collection.find_one({"_id": code})


def at_text(instant) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_a_classified_complaint_arms_its_warnings_and_deadline_and_reclassifying_moves_them(
    start_service, nats_client
):
    service = await start_service()
    complaint = await record(service, RINGAN, received_at=now() - timedelta(minutes=10))
    code = complaint.tracking_code
    await armed(service, code, 1)
    due = complaint.due_at
    assert due == complaint.received_at + timedelta(hours=3)
    assert await scheduled_at(nats_client, code, "breach") == at_text(due)
    assert await scheduled_at(nats_client, code, "w50") == at_text(
        complaint.received_at + timedelta(minutes=90)
    )
    assert await scheduled_at(nats_client, code, "w90") is not None

    outcome = await commands.classify(service.runtime.store, service.rules, code, NORMATIF, "o")
    await armed(service, code, 2)
    assert outcome.complaint.due_at > due + timedelta(days=4)
    assert await scheduled_at(nats_client, code, "breach") == at_text(outcome.complaint.due_at)


async def test_an_unclassified_complaint_arms_its_triage_timers_and_classification_cancels_them(
    start_service, nats_client
):
    service = await start_service()
    complaint = await record(service, None, received_at=now() - timedelta(minutes=10))
    code = complaint.tracking_code
    await armed(service, code, 1)
    assert complaint.clock_name == "triage" and complaint.due_at == complaint.received_at + timedelta(hours=3)
    assert await scheduled_at(nats_client, code, "triage-breach") == at_text(complaint.due_at)
    assert await scheduled_at(nats_client, code, "triage-w50") == at_text(
        complaint.received_at + timedelta(minutes=90)
    )
    assert await scheduled_at(nats_client, code, "breach") is None

    outcome = await commands.classify(service.runtime.store, service.rules, code, NORMATIF, "o")
    await armed(service, code, 2)
    for threshold in ("triage-w50", "triage-w75", "triage-w90", "triage-breach"):
        assert await scheduled_at(nats_client, code, threshold) is None
    assert await scheduled_at(nats_client, code, "breach") == at_text(outcome.complaint.due_at)


async def test_answering_cancels_the_timers_and_the_old_deadline_passes_without_a_breach(
    start_service, nats_client
):
    service = await start_service()
    complaint = await record(service, RINGAN, received_at=received_for(2))
    code = complaint.tracking_code
    store = service.runtime.store
    await commands.assign(store, code, "Tim Pengelola Pengaduan", None, "o")
    await commands.answer(store, service.runtime.vault, service.rules, code, "Sudah.", "t", now())
    await armed(service, code, 2)  # received, answered
    assert await scheduled_at(nats_client, code, "breach") is None
    await asyncio.sleep(3)
    events = await stream_events(nats_client, code)
    assert not [e for e in events if isinstance(e, SLABreached)]


async def test_a_deadline_is_reported_once_however_many_keepers_check_it(start_service, nats_client):
    service = await start_service()
    complaint = await record(service, RINGAN, received_at=received_for(1))
    code = complaint.tracking_code

    await eventually(lambda: is_breached(nats_client, code), timeout=5)
    keepers = [service.keeper, ClockKeeper(service.runtime, service.rules)]
    await asyncio.gather(*(keepers[i % 2].check(code, now()) for i in range(10)))
    events = await stream_events(nats_client, code)
    breaches = [e for e in events if isinstance(e, SLABreached)]
    assert len(breaches) == 1
    assert breaches[0].due_at == complaint.due_at
    assert timedelta(0) <= breaches[0].breached_at - complaint.due_at < timedelta(seconds=1.5)
    # the warnings already past at receipt fold into one (90 %), unless the deadline came first
    assert [e.threshold_percent for e in events if isinstance(e, SLAWarning)] in ([90], [])


async def test_the_sweep_reports_a_deadline_whose_timer_was_lost(start_service, nats_client):
    service = await start_service()
    complaint = await record(service, RINGAN, received_at=received_for(2))
    code = complaint.tracking_code
    await armed(service, code, 1)
    await nats_client.jetstream().purge_stream(
        timers_stream("complaints"), subject=f"timers.complaints.{code}-breach.Schedule"
    )
    await asyncio.sleep(3)
    assert not [e for e in await stream_events(nats_client, code) if isinstance(e, SLABreached)]
    assert await service.keeper.sweep() == 1
    assert await service.keeper.sweep() == 0
    assert len([e for e in await stream_events(nats_client, code) if isinstance(e, SLABreached)]) == 1


async def test_missing_future_timers_are_armed_again(start_service, nats_client):
    service = await start_service()
    complaint = await record(service, RINGAN, received_at=now() - timedelta(minutes=5))
    code = complaint.tracking_code
    await armed(service, code, 1)
    before = {t: await scheduled_at(nats_client, code, t) for t in ("w50", "w75", "w90", "breach")}
    await nats_client.jetstream().purge_stream(
        timers_stream("complaints"), subject=f"timers.complaints.{code}-w75.Schedule"
    )
    await nats_client.jetstream().purge_stream(
        timers_stream("complaints"), subject=f"timers.complaints.{code}-breach.Schedule"
    )
    assert await service.keeper.rearm_missing() == 2
    assert {t: await scheduled_at(nats_client, code, t) for t in before} == before
    assert await service.keeper.rearm_missing() == 0


async def test_a_periodic_round_arms_a_lost_timer_again(start_service, nats_client):
    service = await start_service(settings={"timer_rearm_seconds": 0.3})
    complaint = await record(service, RINGAN, received_at=now() - timedelta(minutes=5))
    code = complaint.tracking_code
    await armed(service, code, 1)
    before = await scheduled_at(nats_client, code, "breach")
    await nats_client.jetstream().purge_stream(
        timers_stream("complaints"), subject=f"timers.complaints.{code}-breach.Schedule"
    )
    assert await scheduled_at(nats_client, code, "breach") is None

    async def rearmed() -> bool:
        return await scheduled_at(nats_client, code, "breach") == before

    await eventually(rearmed)


async def test_a_calendar_revision_at_start_up_moves_open_deadlines_and_their_timers(
    start_service, nats_client
):
    first = await start_service(always_rules("always v1"))
    complaint = await record(first, NORMATIF)
    other = await record(first, RINGAN)
    code = complaint.tracking_code
    await armed(first, code, 1)
    await stop(first)

    day = (complaint.received_at.astimezone(WIB) + timedelta(days=2)).date()
    revised = await start_service(always_rules("always v2", {day: "Cuti bersama (revisi)"}))
    await eventually(lambda: _moved(nats_client, code), timeout=10)
    [moved] = [e for e in await stream_events(nats_client, code) if isinstance(e, ComplaintDeadlineMoved)]
    assert moved.previous_due_at == complaint.due_at
    assert moved.due_at == complaint.due_at + timedelta(days=1)
    assert moved.calendar_revision == "always v2"
    await armed(revised, code, 2)
    assert await scheduled_at(nats_client, code, "breach") == at_text(moved.due_at)
    assert not [
        e
        for e in await stream_events(nats_client, other.tracking_code)
        if isinstance(e, ComplaintDeadlineMoved)
    ]  # 3 working hours do not cross that day
    assert await revised.revise_if_needed() == 0


async def _moved(nc, code: str) -> bool:
    return any(isinstance(e, ComplaintDeadlineMoved) for e in await stream_events(nc, code))


async def test_a_timer_that_fires_again_reports_nothing_and_says_so(start_service, nats_client):
    service = await start_service()
    complaint = await record(service, RINGAN, received_at=received_for(1))
    code = complaint.tracking_code

    async def fired() -> list:
        subject = f"timers.complaints.{code}-breach.ClockDue"
        return [r async for r in read_stream(nats_client, timers_stream("complaints"), subject)]

    await eventually(fired, timeout=5)
    [due] = await fired()
    await eventually(lambda: is_breached(nats_client, code), timeout=5)
    with capture_logs() as logs:
        await service.keeper.on_clock_due(due)  # delivered again: the breach is already there
    [line] = [entry for entry in logs if entry["event"] == "clock.due_nothing_to_report"]
    assert line["tracking_code"] == code and line["timer"] == f"{code}-breach"
    breaches = [e for e in await stream_events(nats_client, code) if isinstance(e, SLABreached)]
    assert len(breaches) == 1
