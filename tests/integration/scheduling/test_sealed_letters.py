"""Answer letters are sealed under the requester's data key (issue 19, item 10): the letter names
the requester's institution and position and the topic they typed, so scheduling stores it
AES-GCM-sealed in its ``letters`` collection and erasing the requester erases it — the public
link and the officers' route answer 410 Gone. Letters stored in clear before sealing still
download, and are sealed at start-up under the requester's key. On real NATS JetStream and
SecantusDB."""

from __future__ import annotations

import hashlib
import os
import re
import zlib
from datetime import UTC, date, datetime
from types import SimpleNamespace

import bson
import httpx
import pytest
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from fastapi import FastAPI
from serambi_calendar import WIB, SlaPolicy, load_calendar
from serambi_contracts.intake import InstitutionType, IntakeChannel, Requester, RequestSubmitted
from serambi_kit.auth import TokenVerifier, issue_dev_token
from serambi_kit.eventstore import JetStreamEventStore, read_stream
from serambi_kit.pii import Vault, VaultError
from serambi_kit.settings import ServiceSettings
from serambi_kit.state import KitState, install
from serambi_scheduling.adapters import letters as letters_adapter
from serambi_scheduling.adapters import queries
from serambi_scheduling.adapters.letters import (
    LetterContent,
    LetterErased,
    LetterStore,
    recent_letters,
    render,
    seal_stored_letters,
)
from serambi_scheduling.api import audiences, common, letters
from serambi_scheduling.application import commands, resources
from serambi_scheduling.application.context import Catalog, Context
from serambi_scheduling.domain.audience import Status
from serambi_scheduling.domain.resources import Host, Room
from serambi_scheduling.domain.rules import Rules

CALENDAR = load_calendar(years=range(2025, 2028))
NOW = datetime(2026, 2, 2, 8, 0, tzinfo=WIB).astimezone(UTC)  # Monday
EMAIL = "yohanes.lim@example.id"
TOPIC = "Rencana pabrik pengolahan lada milik keluarga Lim di Sungai Kakap"
OFFICER = {"Authorization": f"Bearer {issue_dev_token(ServiceSettings(), ['scheduler'], subject='jadwal')}"}


class NoTimers:
    async def arm(self, timer_id, due, *, event_id=None) -> None: ...

    async def cancel(self, timer_id) -> None: ...

    async def scheduled(self, timer_id):
        return None


def text_of(pdf: bytes) -> str:
    """The text drawn on a PDF's pages (content streams inflated, string operands joined)."""
    out = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            content = zlib.decompress(raw)
        except zlib.error:
            content = raw
        out += [m.decode("latin-1") for m in re.findall(rb"\((.*?)(?<!\\)\)\s*Tj", content, re.S)]
    return " ".join(out)


async def raw_letters(mongo_db) -> list[bytes]:
    """Every stored letter record, as the database (and a backup of it) holds it."""
    collection = mongo_db.get_collection(
        "letters", codec_options=CodecOptions(document_class=RawBSONDocument)
    )
    return [document.raw async for document in collection.find({})]


async def scheduled(nc, mongo_db, unique_id: str) -> tuple[Context, str]:
    """A request whose topic is sealed under the requester's key, opened and booked: its answer
    letter is stored."""
    vault = Vault(mongo_db, os.urandom(32), cache_seconds=0)
    key = await vault.new_subject([EMAIL])

    def fetch(subject_filter: str, from_sequence: int):
        return read_stream(nc, "SCHEDULING", subject_filter, from_sequence=from_sequence)

    async def no_open() -> list[str]:
        return []

    ctx = Context(
        store=JetStreamEventStore(nc, "/serambi/scheduling"),
        catalog=Catalog(fetch),
        bookings=queries.MongoBookingSource(mongo_db),
        letters=LetterStore(mongo_db, "test-secret", vault),
        render_letter=render,
        timers=NoTimers(),
        open_audiences=no_open,
        calendar=CALENDAR,
        policy=SlaPolicy(),
        rules=Rules(),
        now=lambda: NOW,
        vault=vault,
    )
    room, host = f"R{unique_id}", f"H{unique_id}"
    await resources.register_room(ctx, Room(room, "Ruang Rapat", 20, "Lt 2"), "admin")
    await resources.register_host(ctx, Host(host, "Ir. Budi", "Kabiro"), "admin")
    ctx.catalog.rooms = {room: ctx.catalog.rooms[room]}  # this test's room and host only
    ctx.catalog.hosts = {host: ctx.catalog.hosts[host]}

    async def frozen(*, force: bool = True) -> Catalog:
        return ctx.catalog

    ctx.catalog.refresh = frozen
    name = await vault.seal(key, "Yohanes Lim")
    code = f"AUD-{unique_id}"
    request = RequestSubmitted(
        tracking_code=code,
        channel=IntakeChannel.ONLINE,
        requester=Requester(
            name=name,
            position="Ketua",
            institution="Kadin Kubu Raya",
            institution_type=InstitutionType.OTHER_INSTITUTION,
            email=name,
        ),
        topic=await vault.seal(key, TOPIC),
        purpose=name,
        participants=3,
        proposed_dates=[date(2026, 2, 4)],
        submitted_at=NOW,
        answer_due_at=CALENDAR.add_working_days(NOW, 3),
        access_token_sha256="0" * 64,
    )
    await commands.open_request(ctx, request, f"cause-{code}")
    booked = await commands.place_automatically(ctx, code, f"cause-{code}")
    assert booked.status is Status.SCHEDULED and booked.letter is not None
    return ctx, code


def scheduling_api(ctx: Context, mongo_db) -> httpx.AsyncClient:
    app = FastAPI()
    app.include_router(letters.router)
    app.include_router(audiences.router)
    common.install_error_handlers(app)
    settings = ServiceSettings()
    runtime = SimpleNamespace(db=mongo_db, vault=ctx.vault)
    install(app, KitState(settings, runtime, TokenVerifier(settings)))  # type: ignore[arg-type]
    app.state.scheduling = ctx
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://scheduling")


async def test_an_answer_letter_is_stored_sealed_downloads_whole_and_is_gone_once_the_requester_is_erased(
    nc, mongo_db, unique_id
):
    ctx, code = await scheduled(nc, mongo_db, unique_id)
    key = await commands.requester_key_of(ctx, code)
    [raw] = await raw_letters(mongo_db)
    # what the database and its backups hold: no PDF, no inflatable page text, no topic
    assert b"%PDF" not in raw and TOPIC.encode() not in raw and "Sungai Kakap" not in text_of(raw)
    stored = await ctx.letters.get((await ctx.letters.collection.find_one({}))["_id"])
    assert "content" not in stored and stored["key"] == key  # sealed under the requester's key
    assert b"%PDF" not in bytes(stored["sealed"])

    async with scheduling_api(ctx, mongo_db) as api:
        public = await api.get(f"/api/v1/letters/{stored['_id']}")
        officer = await api.get(f"/api/v1/audiences/{code}/letter", headers=OFFICER)
        for answer in (public, officer):
            assert answer.status_code == 200, answer.text
            assert answer.content.startswith(b"%PDF") and f'perihal "{TOPIC}"' in text_of(answer.content)
            assert hashlib.sha256(answer.content).hexdigest() == stored["sha256"]  # the event's digest
            assert len(answer.content) == stored["size"]

        assert await ctx.vault.erase_person(EMAIL) == [key]
        public = await api.get(f"/api/v1/letters/{stored['_id']}")
        officer = await api.get(f"/api/v1/audiences/{code}/letter", headers=OFFICER)
    for answer in (public, officer):
        assert answer.status_code == 410 and answer.headers["cache-control"] == "no-store"
        assert answer.json()["error"] == "personal_data_erased"
        assert "erased with the requester's personal data" in answer.json()["detail"]


async def test_a_letter_retried_after_the_erasure_keeps_its_id_and_nothing_to_read(nc, mongo_db, unique_id):
    ctx, code = await scheduled(nc, mongo_db, unique_id)
    key = await commands.requester_key_of(ctx, code)
    stored = await ctx.letters.collection.find_one({})
    await ctx.vault.erase_subject(key)
    with_the_same_bytes = await ctx.letters.collection.find_one({"_id": stored["_id"]})
    assert with_the_same_bytes == stored  # the derived id is unchanged, nothing re-stored
    # a decision taken after the erasure: its letter's record only, 410 on reading
    later = await ctx.letters.put(code, b"%PDF-1.4 a later letter", NOW, key)
    record = await ctx.letters.get(later.document_id)
    assert later.document_id == ctx.letters.document_id(code, later.sha256)
    assert "sealed" not in record and "content" not in record and record["key"] == key
    for document_id in (stored["_id"], later.document_id):
        try:
            await ctx.letters.read(document_id)
        except LetterErased:
            continue
        raise AssertionError(f"{document_id} was read after the erasure")


async def test_a_letter_stored_in_clear_before_sealing_still_downloads_and_is_sealed_at_start_up(
    nc, mongo_db, unique_id
):
    ctx, code = await scheduled(nc, mongo_db, unique_id)
    key = await commands.requester_key_of(ctx, code)
    await ctx.letters.collection.delete_many({})
    older = render_older(code)
    legacy = {
        "_id": ctx.letters.document_id(code, hashlib.sha256(older).hexdigest()),
        "audience_id": code,
        "kind": "answer_letter",
        "media_type": "application/pdf",
        "sha256": hashlib.sha256(older).hexdigest(),
        "size": len(older),
        "content": older,
        "created_at": NOW,
    }
    unknown = {**legacy, "_id": "L" + "u" * 32, "audience_id": f"AUD-{unique_id}-elsewhere"}
    await ctx.letters.collection.insert_many([legacy, unknown])

    async with scheduling_api(ctx, mongo_db) as api:
        before = await api.get(f"/api/v1/letters/{legacy['_id']}")
        assert before.status_code == 200 and before.content == older  # the read path takes clear letters

        counts = await seal_stored_letters(
            ctx.letters, lambda audience: commands.requester_key_of(ctx, audience)
        )
        assert counts == {"sealed": 1, "erased": 0, "unknown": 1}
        sealed = await ctx.letters.get(legacy["_id"])
        assert "content" not in sealed and sealed["key"] == key and b"%PDF" not in bytes(sealed["sealed"])
        assert (await ctx.letters.get(unknown["_id"]))["key"] is None  # not looked up again
        assert await seal_stored_letters(
            ctx.letters, lambda audience: commands.requester_key_of(ctx, audience)
        ) == {"sealed": 0, "erased": 0, "unknown": 0}
        after = await api.get(f"/api/v1/letters/{legacy['_id']}")
        assert after.status_code == 200 and after.content == older

        # a clear letter whose requester was erased before the start-up: recorded, then 410
        await ctx.vault.erase_subject(key)
        late = {**legacy, "_id": "L" + "e" * 32}
        await ctx.letters.collection.insert_one(late)
        counts = await seal_stored_letters(
            ctx.letters, lambda audience: commands.requester_key_of(ctx, audience)
        )
        assert counts == {"sealed": 0, "erased": 1, "unknown": 0}
        for document_id in (legacy["_id"], late["_id"]):
            gone = await api.get(f"/api/v1/letters/{document_id}")
            assert gone.status_code == 410 and gone.json()["error"] == "personal_data_erased"
        # the one no requester was found for stays readable, in clear (docs/security.md)
        assert (await api.get(f"/api/v1/letters/{unknown['_id']}")).status_code == 200

        # the manual step of the erasure procedure (docs/security.md, "Erasure") leaves no clear bytes
        await ctx.letters.collection.update_many(
            {"content": {"$exists": True}, "key": {"$type": "string"}}, {"$unset": {"content": ""}}
        )
        assert (await api.get(f"/api/v1/letters/{late['_id']}")).status_code == 410
    held = [raw for raw in await raw_letters(mongo_db) if b"%PDF" in raw]
    assert held == [bson.encode(await ctx.letters.get(unknown["_id"]))]  # only the unknown one


async def test_a_letter_just_stored_is_served_without_a_database_read(
    nc, mongo_db, unique_id, mongo_client, monkeypatch
):
    ctx, _ = await scheduled(nc, mongo_db, unique_id)
    stored = await ctx.letters.collection.find_one({})
    namespace = f"{mongo_db.name}.letters"

    async def reads() -> int:
        totals = (await mongo_client.admin.command("top"))["totals"]
        return int(totals.get(namespace, {}).get("queries", {}).get("count", 0))

    before = await reads()
    async with scheduling_api(ctx, mongo_db) as api:
        first = await api.get(f"/api/v1/letters/{stored['_id']}")  # the notifier's fetch
    assert first.status_code == 200 and first.content.startswith(b"%PDF")
    assert await reads() == before
    monkeypatch.setattr(letters_adapter, "RECENT", recent_letters())  # another replica
    async with scheduling_api(ctx, mongo_db) as api:
        again = await api.get(f"/api/v1/letters/{stored['_id']}")
    assert again.content == first.content and await reads() == before + 1


async def test_a_sealed_letter_moved_to_another_id_or_altered_is_refused(
    nc, mongo_db, unique_id, monkeypatch
):
    ctx, _ = await scheduled(nc, mongo_db, unique_id)
    monkeypatch.setattr(
        letters_adapter, "RECENT", recent_letters()
    )  # what the database holds, not this process
    stored = await ctx.letters.collection.find_one({})
    sealed = bytes(stored["sealed"])
    altered = sealed[:40] + bytes([sealed[40] ^ 1]) + sealed[41:]
    await ctx.letters.collection.insert_one({**stored, "_id": "L" + "m" * 32})  # moved: another id
    await ctx.letters.collection.replace_one({"_id": stored["_id"]}, {**stored, "sealed": altered})
    for document_id in ("L" + "m" * 32, stored["_id"]):
        with pytest.raises(VaultError):
            await ctx.letters.read(document_id)


def render_older(code: str) -> bytes:
    """A letter as an earlier version stored it (in clear), naming the topic."""
    return render(
        LetterContent(
            kind="declined",
            reference=code,
            issued_at=NOW,
            institution="Kadin Kubu Raya",
            requester_position="Ketua",
            topic=TOPIC,
            submitted_at=NOW,
            participants=3,
            signatory="Kepala Biro Perekonomian",
            reason="pimpinan dinas luar",
        )
    )
