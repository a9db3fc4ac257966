"""SP4N-LAPOR! port: import complaints from LAPOR! and push their status back.

``LaporGateway`` is the port; ``FakeLaporGateway`` keeps everything in memory (tests, demos);
``HttpLaporGateway`` talks to the real service. LAPOR!'s API is documented only to registered
institutions, so the HTTP adapter follows the shape described in docs/complaints.md (bearer
token, JSON) and keeps every path and field mapping in one place to adapt once the bureau
receives the official documentation. It is not tested against the real service.

Imports are idempotent: the LAPOR! id is the key (``lapor_imports`` maps it to the tracking
code before the complaint is recorded; a retry finds the mapping and records the complaint only
if it is not in the event store yet). One item that cannot be read or recorded becomes a dead
letter with the reason and the import moves on (see ``lapor_letters``). Attachments are fetched,
typed and stored sealed (``lapor_attachments``).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO, Protocol

import httpx
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from serambi_calendar import WIB
from serambi_contracts.complaints import (
    ComplaintAnswered,
    ComplaintAssigned,
    ComplaintChannel,
    ComplaintClassified,
    ComplaintClosed,
    ComplaintReopened,
    Disclosure,
)
from serambi_kit.documents import DocumentStore
from serambi_kit.eventstore import EventStore, RecordedEvent
from serambi_kit.logging import get_logger
from serambi_kit.outages import is_outage
from serambi_kit.phones import phone_identifier
from serambi_kit.pii import Vault
from serambi_kit.tasks import raise_if_cancel_requested

from .. import domain
from ..application import commands
from ..domain import Rules
from . import lapor_attachments, lapor_letters

log = get_logger(__name__)
IMPORTS = "lapor_imports"
OUTBOX = "lapor_outbox"
CLAIM = timedelta(seconds=60)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
META = "meta"


class LaporError(Exception):
    """LAPOR! refused a request or answered something we cannot read."""


@dataclass(frozen=True, slots=True)
class LaporComplaint:
    """A complaint as LAPOR! gives it (already mapped from its JSON)."""

    lapor_id: str
    received_at: datetime
    title: str
    description: str
    disclosure: Disclosure = Disclosure.NAMED
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    attachments: tuple[str, ...] = ()  # LAPOR!'s references (URLs) of the files, in order


@dataclass(frozen=True, slots=True)
class LaporUnreadable:
    """An item of LAPOR!'s list that could not be mapped: dead-lettered, the others go on."""

    reason: str
    lapor_id: str | None = None


class LaporGateway(Protocol):
    async def fetch_new(self, since: datetime | None) -> Sequence[LaporComplaint | LaporUnreadable]:
        """Complaints LAPOR! disposed to the bureau since ``since`` (all when None); an item
        that cannot be mapped comes as ``LaporUnreadable`` (the list as a whole must be read)."""
        ...

    async def push_status(self, lapor_id: str, status: str, message: str | None, at: datetime) -> None:
        """Report a follow-up (tindak lanjut) of the complaint to LAPOR!."""
        ...

    async def fetch_attachment(self, reference: str, max_bytes: int) -> BinaryIO:
        """One attachment's content as a seekable file (at most ``max_bytes + 1`` bytes of it)."""
        ...


@dataclass
class FakeLaporGateway:
    """In memory: ``inbox`` is what LAPOR! would hand out (``files`` its attachments by
    reference), ``pushed`` what we reported back."""

    inbox: list[LaporComplaint] = field(default_factory=list)
    pushed: list[dict[str, Any]] = field(default_factory=list)
    fail_pushes: int = 0  # fail this many pushes first (to test retries)
    files: dict[str, bytes] = field(default_factory=dict)

    async def fetch_attachment(self, reference: str, max_bytes: int) -> BinaryIO:
        if reference not in self.files:
            raise LaporError(f"no attachment {reference} (fake)")
        return io.BytesIO(self.files[reference][: max_bytes + 1])

    async def fetch_new(self, since: datetime | None) -> Sequence[LaporComplaint]:
        return [c for c in self.inbox if since is None or c.received_at >= since]

    async def push_status(self, lapor_id: str, status: str, message: str | None, at: datetime) -> None:
        if self.fail_pushes > 0:
            self.fail_pushes -= 1
            raise LaporError("LAPOR! is unavailable (fake)")
        self.pushed.append({"lapor_id": lapor_id, "status": status, "message": message, "at": at})


class HttpLaporGateway:
    """LAPOR! over HTTPS with the institution's API token. Paths and field names below are the
    assumed mapping (docs/complaints.md, "SP4N-LAPOR!"); adjust them here only."""

    LIST_PATH = "/complaints"
    STATUS_PATH = "/complaints/{lapor_id}/followups"

    def __init__(
        self,
        base_url: str,
        token: str,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.client = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            transport=transport,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )

    async def fetch_new(self, since: datetime | None) -> Sequence[LaporComplaint | LaporUnreadable]:
        params = {"since": since.astimezone(UTC).isoformat()} if since else {}
        response = await self.client.get(self.LIST_PATH, params=params)
        if response.status_code != 200:
            raise LaporError(f"LAPOR! list: HTTP {response.status_code}")
        try:
            items = response.json()["data"]
            if not isinstance(items, list):
                raise TypeError("data is not a list")
        except (KeyError, TypeError, ValueError) as exc:
            raise LaporError(f"LAPOR! list: unexpected response ({type(exc).__name__}: {exc})") from exc
        return [self._parse_or_reject(item) for item in items]

    @classmethod
    def _parse_or_reject(cls, item: Any) -> LaporComplaint | LaporUnreadable:
        try:
            return cls._parse(item)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            lapor_id = item.get("tracking_id") if isinstance(item, dict) else None
            return LaporUnreadable(
                lapor_letters.reason(exc, "unreadable LAPOR! item"),
                None if lapor_id is None else str(lapor_id),
            )

    @staticmethod
    def _parse(item: dict[str, Any]) -> LaporComplaint:
        disclosure = Disclosure.NAMED
        if item.get("is_secret"):
            disclosure = Disclosure.CONFIDENTIAL
        elif item.get("is_anonymous"):
            disclosure = Disclosure.ANONYMOUS
        reporter = item.get("reporter") or {}
        received_at = datetime.fromisoformat(item["created_at"])
        if received_at.tzinfo is None:
            raise ValueError(f"created_at {item['created_at']!r} has no UTC offset")
        return LaporComplaint(
            lapor_id=str(item["tracking_id"]),
            received_at=received_at,
            title=str(item["title"])[:300],
            description=str(item["content"])[:5000],
            disclosure=disclosure,
            name=reporter.get("name"),
            email=reporter.get("email"),
            phone=reporter.get("phone"),
            attachments=tuple(str(a["url"]) for a in item.get("attachments") or ()),
        )

    async def fetch_attachment(self, reference: str, max_bytes: int) -> BinaryIO:
        return await lapor_attachments.download(self.client, reference, max_bytes)

    async def push_status(self, lapor_id: str, status: str, message: str | None, at: datetime) -> None:
        body = {"status": status, "content": message or "", "created_at": at.astimezone(UTC).isoformat()}
        response = await self.client.post(self.STATUS_PATH.format(lapor_id=lapor_id), json=body)
        if response.status_code not in (200, 201, 204):
            raise LaporError(f"LAPOR! follow-up for {lapor_id}: HTTP {response.status_code}")

    async def close(self) -> None:
        await self.client.aclose()


async def import_one(
    store: EventStore,
    db: AsyncDatabase,
    vault: Vault,
    rules: Rules,
    item: LaporComplaint,
    now: datetime,
    gateway: LaporGateway | None = None,
    documents: DocumentStore | None = None,
    max_attachment_bytes: int = 10_000_000,
) -> str | None:
    """Record one LAPOR! complaint once, with its attachments fetched from ``gateway``. Returns
    its tracking code if recorded now."""
    imports = db[IMPORTS]
    mapping = await imports.find_one({"_id": item.lapor_id})
    if mapping is None:
        code = await commands.next_tracking_code(db, "ADU", now.astimezone(WIB).year)
        try:
            await imports.insert_one({"_id": item.lapor_id, "tracking_code": code, "at": now})
        except DuplicateKeyError:  # another replica or run got there first: use its code
            mapping = await imports.find_one({"_id": item.lapor_id})
    if mapping is not None:
        code = mapping["tracking_code"]
    new = commands.NewComplaint(
        channel=ComplaintChannel.SP4N_LAPOR,
        received_at=min(item.received_at, now),
        disclosure=item.disclosure,
        summary=item.title,
        description=item.description,
        # LAPOR! writes numbers as the citizen typed them: kept (sealed) and hashed as Serambi
        # writes them, so the notifier can use them and erasure by phone finds them
        name=item.name,
        email=item.email,
        phone=phone_identifier(item.phone),
        recorded_by="sp4n-lapor",
        external_ref=item.lapor_id,
    )
    uploads = await lapor_attachments.fetch(gateway, item, max_attachment_bytes) if item.attachments else []
    try:
        await commands.receive(
            store, db, vault, rules, new, now, tracking_code=code, documents=documents, uploads=uploads
        )
    except domain.ComplaintExistsError:
        return None
    finally:
        for upload, _ in uploads:
            upload.data.close()
    log.info("lapor.imported", tracking_code=code, lapor_id=item.lapor_id)
    return code


async def import_new(
    gateway: LaporGateway,
    store: EventStore,
    db: AsyncDatabase,
    vault: Vault,
    rules: Rules,
    now: datetime,
    documents: DocumentStore | None = None,
    max_attachment_bytes: int = 10_000_000,
) -> list[str]:
    """Fetch what LAPOR! has since the last import and record it; returns the new codes.

    An item that cannot be read or recorded becomes a dead letter with the reason (once: a
    dead-lettered item is not tried again) and the cursor moves past it; an outage of MongoDB or
    NATS stops the round instead, to resume from the cursor next time."""
    cursor = await db[META].find_one({"_id": "lapor"}) or {}
    fetched = await gateway.fetch_new(cursor.get("since"))
    for unreadable in (item for item in fetched if isinstance(item, LaporUnreadable)):
        await lapor_letters.record(db, unreadable.lapor_id, unreadable.reason)
    items = sorted((item for item in fetched if isinstance(item, LaporComplaint)), key=lapor_letters.when)
    recorded = []
    for item in items:
        if not await lapor_letters.exists(db, item.lapor_id):
            try:
                if code := await import_one(
                    store, db, vault, rules, item, now, gateway, documents, max_attachment_bytes
                ):
                    recorded.append(code)
            except Exception as exc:
                if is_outage(exc):
                    raise
                await lapor_letters.record(db, item.lapor_id, lapor_letters.reason(exc), item.received_at)
        await db[META].update_one({"_id": "lapor"}, {"$set": {"since": item.received_at}}, upsert=True)
    return recorded


PUSHED = {
    ComplaintClassified: "verified",
    ComplaintAssigned: "in_progress",
    ComplaintAnswered: "answered",
    ComplaintClosed: "closed",
    ComplaintReopened: "reopened",
}


class StatusPusher:
    """Reports each step of an imported complaint back to LAPOR! through an outbox.

    The consumer (``complaints-lapor-status``) only records what to push (``lapor_outbox``, one
    entry per event, idempotent), so LAPOR! being down never blocks or dead-letters events.
    ``push_pending`` (after each recorded step and every ``lapor_push_seconds``) pushes the
    entries of each complaint in order, claiming each one so replicas do not push it twice, and
    stops at a complaint's first failure until the next round. A crash between a push and its
    record may repeat that one push (at least once).
    """

    def __init__(self, gateway: LaporGateway, store, db, vault, now=None) -> None:
        self.gateway, self.store, self.db, self.vault = gateway, store, db, vault
        self.now = now or (lambda: datetime.now(UTC))

    async def on_event(self, recorded: RecordedEvent) -> None:
        status = PUSHED.get(type(recorded.event))
        if status is None:
            return
        state = await commands.load(self.store(), recorded.ref.id)
        if state.channel is not ComplaintChannel.SP4N_LAPOR or not state.external_ref:
            return
        answer = recorded.event.answer.model_dump() if isinstance(recorded.event, ComplaintAnswered) else None
        await self.db()[OUTBOX].update_one(
            {"_id": recorded.envelope.id},
            {
                "$setOnInsert": {
                    "tracking_code": state.tracking_code,
                    "lapor_id": state.external_ref,
                    "status": status,
                    "answer": answer,
                    "at": recorded.envelope.time,
                    "version": recorded.version,
                    "pushed": False,
                    "claimed_until": EPOCH,
                }
            },
            upsert=True,
        )

    async def push_pending(self) -> int:
        """Push what is due, in order per complaint. Returns how many were pushed."""
        outbox, pushed, blocked = self.db()[OUTBOX], 0, set()
        cursor = outbox.find({"pushed": False}).sort([("tracking_code", 1), ("version", 1)]).limit(500)
        async for entry in cursor:
            code = entry["tracking_code"]
            if code in blocked:
                continue
            now = self.now()
            claimed = await outbox.find_one_and_update(
                {"_id": entry["_id"], "pushed": False, "claimed_until": {"$lt": now}},
                {"$set": {"claimed_until": now + CLAIM}},
            )
            if claimed is None:  # another replica is pushing it: keep this complaint's order
                blocked.add(code)
                continue
            try:
                message = await self.vault().reveal(entry.get("answer"))
                await self.gateway.push_status(entry["lapor_id"], entry["status"], message, entry["at"])
            except Exception as exc:  # noqa: BLE001 — retried next round, in order
                raise_if_cancel_requested(exc)  # the service is stopping: not a failed push
                blocked.add(code)
                await outbox.update_one(
                    {"_id": entry["_id"]},
                    {
                        "$set": {"claimed_until": EPOCH, "last_error": f"{type(exc).__name__}: {exc}"[:500]},
                        "$inc": {"attempts": 1},
                    },
                )
                log.warning("lapor.push_failed", tracking_code=code, status=entry["status"], error=repr(exc))
                continue
            await outbox.update_one({"_id": entry["_id"]}, {"$set": {"pushed": True, "pushed_at": now}})
            log.info("lapor.pushed", tracking_code=code, status=entry["status"])
            pushed += 1
        return pushed
