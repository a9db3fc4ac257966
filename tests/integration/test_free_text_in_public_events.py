"""What a requester typed — the topic and purpose of their request — and what officers write about
their meeting never reach a public event in clear (issue 19, item 10): a request submitted through
intake's submission code, opened, booked and held by scheduling on real NATS JetStream, leaves
only sealed copies in the INTAKE and SCHEDULING streams. The read models still show them (the
requester's tracking view, scheduling's details), and after the requester's erasure they show
them as erased (None), not as an error."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

from serambi_calendar import WIB, SlaPolicy, load_calendar
from serambi_contracts.intake import InstitutionType, IntakeChannel, RequestSubmitted
from serambi_intake.adapters import projections as intake_projections
from serambi_intake.adapters import queries as intake_queries
from serambi_intake.adapters.mongo import MongoRequestViews, MongoSurveyRecords, MongoTrackingCodes
from serambi_intake.api.forms import RequestForm
from serambi_intake.application.context import Intake
from serambi_intake.application.submission import submit
from serambi_kit.documents import PDF, PNG, DocumentStore, Upload
from serambi_kit.eventstore import JetStreamEventStore, read_raw, read_stream
from serambi_kit.pagination import PageRequest
from serambi_kit.pii import Vault
from serambi_kit.projections import projector_handler
from serambi_scheduling.adapters import projections as scheduling_projections
from serambi_scheduling.adapters import queries as scheduling_queries
from serambi_scheduling.adapters.letters import LetterStore, render
from serambi_scheduling.application import commands, resources
from serambi_scheduling.application.context import Catalog, Context
from serambi_scheduling.domain.audience import Status
from serambi_scheduling.domain.resources import Host, Room
from serambi_scheduling.domain.rules import Rules

CALENDAR = load_calendar(years=range(2025, 2028))
NOW = datetime(2026, 2, 2, 8, 0, tzinfo=WIB).astimezone(UTC)  # Monday
EMAIL = "yohanes.lim@example.id"
TOPIC = "Rencana pabrik pengolahan lada milik keluarga Lim di Sungai Kakap"
PURPOSE = "Kami ingin membahas utang koperasi kami sebesar Rp 2,3 miliar kepada Bank Kalbar."
NOTES = "Pak Yohanes menyampaikan bahwa istrinya sedang dirawat; tindak lanjut lewat putranya."
WORDS = (
    "pengolahan lada milik keluarga",
    "Sungai Kakap",
    "utang koperasi",
    "2,3 miliar",
    "istrinya sedang dirawat",
    "lewat putranya",
)
UPLOADS = [
    (Upload("request_letter", "request_letter", b"%PDF-1.4 letter"), PDF),
    (Upload("identity_document", "identity_document", b"\x89PNG\r\n\x1a\nid"), PNG),
]


class NoTimers:
    async def arm(self, timer_id, due, *, event_id=None) -> None: ...

    async def cancel(self, timer_id) -> None: ...

    async def scheduled(self, timer_id):
        return None


async def _submitted(nc, mongo_db, vault) -> tuple[str, str]:
    form = RequestForm(
        requester_name="Yohanes Lim",
        requester_position="Ketua",
        institution="Kadin Kubu Raya",
        institution_type=InstitutionType.OTHER_INSTITUTION,
        email=EMAIL,
        topic=TOPIC,
        purpose=PURPOSE,
        participants=3,
        proposed_dates=[date(2026, 2, 4)],
    )
    intake = Intake(
        store=JetStreamEventStore(nc, "/serambi/intake"),
        vault=vault,
        documents=DocumentStore(mongo_db, vault=vault),
        requests=MongoRequestViews(mongo_db),
        surveys=MongoSurveyRecords(mongo_db),
        tracking_codes=MongoTrackingCodes(mongo_db),
        answer_due=lambda instant: CALENDAR.add_working_days(instant, 3),
    )
    answer = await submit(intake, form.details(), list(UPLOADS), IntakeChannel.ONLINE, NOW)
    return answer["tracking_code"], answer["access_token"]


def _scheduling(nc, mongo_db, vault, clock) -> Context:
    def fetch(subject_filter: str, from_sequence: int):
        return read_stream(nc, "SCHEDULING", subject_filter, from_sequence=from_sequence)

    async def no_open() -> list[str]:
        return []

    return Context(
        store=JetStreamEventStore(nc, "/serambi/scheduling"),
        catalog=Catalog(fetch),
        bookings=scheduling_queries.MongoBookingSource(mongo_db),
        letters=LetterStore(mongo_db, "test-secret", vault),
        render_letter=render,
        timers=NoTimers(),
        open_audiences=no_open,
        calendar=CALENDAR,
        policy=SlaPolicy(),
        rules=Rules(),
        now=lambda: clock[0],
        vault=vault,
    )


async def _raw(nc, stream: str, subject: str, within: str = "") -> list[bytes]:
    """Each stored message of ``subject`` (whose subject holds ``within``) as published: its
    headers and body."""
    return [
        repr(sorted(headers.items())).encode() + data
        async for headers, data in read_raw(nc, stream, subject)
        if within in headers["Nats-Subject"]
    ]


async def test_the_typed_topic_purpose_and_notes_never_travel_in_clear_through_submit_schedule_held(
    nc, mongo_db, unique_id
):
    vault = Vault(mongo_db, os.urandom(32), cache_seconds=0)
    code, token = await _submitted(nc, mongo_db, vault)
    clock = [NOW]
    ctx = _scheduling(nc, mongo_db, vault, clock)
    room, host = f"R{unique_id}", f"H{unique_id}"
    await resources.register_room(ctx, Room(room, "Ruang Rapat", 20, "Lt 2"), "admin")
    await resources.register_host(ctx, Host(host, "Ir. Budi", "Kabiro"), "admin")
    ctx.catalog.rooms = {room: ctx.catalog.rooms[room]}  # this test's room and host only
    ctx.catalog.hosts = {host: ctx.catalog.hosts[host]}

    async def frozen(*, force: bool = True) -> Catalog:
        return ctx.catalog

    ctx.catalog.refresh = frozen
    # scheduling reads the request as its subscriber does: decoded from the INTAKE stream
    [request] = [r.event async for r in read_stream(nc, "INTAKE", f"intake.request.{code}.*")]
    assert isinstance(request, RequestSubmitted)
    await commands.open_request(ctx, request, f"cause-{code}")
    booked = await commands.place_automatically(ctx, code, f"cause-{code}")
    assert booked.status is Status.SCHEDULED
    clock[0] = booked.placement.ends_at
    held = await commands.mark_held(ctx, code, "jadwal", None, NOTES)
    assert held.status is Status.HELD

    published = [
        *await _raw(nc, "INTAKE", f"intake.request.{code}.*"),
        *await _raw(nc, "SCHEDULING", f"scheduling.audience.{code}.*"),
        *await _raw(nc, "SCHEDULING", "scheduling.roomday.*.*", f".{room}-"),
        *await _raw(nc, "SCHEDULING", "scheduling.hostday.*.*", f".{host}-"),
    ]
    # RequestSubmitted; AudienceRequested, AudienceScheduled, AudienceHeld; SlotBooked on each day
    assert len(published) == 6
    for message in published:
        for words in (TOPIC, PURPOSE, NOTES, *WORDS):
            assert words.encode() not in message, words

    # …yet every reader still has them: the requester's tracking view, scheduling's details
    for projection in (*intake_projections.PROJECTIONS, *scheduling_projections.PROJECTIONS):
        handle = projector_handler(projection, lambda: mongo_db)
        for stream, subject in (
            ("INTAKE", f"intake.request.{code}.*"),
            ("SCHEDULING", f"scheduling.audience.{code}.*"),
        ):
            async for recorded in read_stream(nc, stream, subject):
                await handle(recorded)
    tracked = await intake_queries.tracking_view(mongo_db, vault, code, token, "http://scheduling")
    assert tracked["topic"] == TOPIC and tracked["status"] == "held"
    details = await scheduling_queries.audience_details(mongo_db, vault, code)
    assert (details["topic"], details["notes"], details["status"]) == (TOPIC, NOTES, "held")

    # after the requester's erasure: erased, not an error
    assert await vault.erase_person(EMAIL)
    details = await scheduling_queries.audience_details(mongo_db, vault, code)
    assert (details["topic"], details["notes"], details["status"]) == (None, None, "held")
    listing = await intake_queries.officer_list(
        mongo_db, vault, intake_queries.RequestFilter(), PageRequest(1, 200)
    )
    [mine] = [item for item in listing["items"] if item["tracking_code"] == code]
    assert mine["topic"] is None and mine["requester"]["name"] is None


async def test_an_officers_reason_for_cancelling_is_sealed_and_shown_to_the_requester_on_tracking(
    nc, mongo_db, unique_id
):
    vault = Vault(mongo_db, os.urandom(32), cache_seconds=0)
    code, token = await _submitted(nc, mongo_db, vault)
    ctx = _scheduling(nc, mongo_db, vault, [NOW])
    [request] = [r.event async for r in read_stream(nc, "INTAKE", f"intake.request.{code}.*")]
    await commands.open_request(ctx, request, f"cause-{code}")  # opened, not placed
    why = "Kepala Biro dipanggil Gubernur; hubungi Yohanes di 0812-3456-7890"
    assert (await commands.cancel(ctx, code, why, "jadwal")).status is Status.CANCELLED
    for message in await _raw(nc, "SCHEDULING", f"scheduling.audience.{code}.*"):
        assert b"Gubernur" not in message and b"0812-3456-7890" not in message
    handle = projector_handler(intake_projections.REQUEST_VIEWS, lambda: mongo_db)
    for stream, subject in (
        ("INTAKE", f"intake.request.{code}.*"),
        ("SCHEDULING", f"scheduling.audience.{code}.*"),
    ):
        async for recorded in read_stream(nc, stream, subject):
            await handle(recorded)
    tracked = await intake_queries.tracking_view(mongo_db, vault, code, token, "http://scheduling")
    [entry] = [e for e in tracked["timeline"] if e["step"] == "cancelled"]
    assert entry["reason"] == why and "reason_sealed" not in entry and tracked["status"] == "cancelled"
