"""SP4N-LAPOR! import: complaints LAPOR! disposed to the bureau, recorded once each.

Imports are idempotent: the LAPOR! id is the key (``lapor_imports`` maps it to the tracking
code before the complaint is recorded; a retry finds the mapping and records the complaint only
if it is not in the event store yet). One item that cannot be read or recorded becomes a dead
letter with the reason and the import moves on (see ``lapor_letters``). Attachments are fetched,
typed and stored sealed (``lapor_attachments``).
"""

from __future__ import annotations

from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from serambi_calendar import WIB
from serambi_contracts.complaints import ComplaintChannel
from serambi_kit.documents import DocumentStore
from serambi_kit.eventstore import EventStore
from serambi_kit.logging import get_logger
from serambi_kit.outages import is_outage
from serambi_kit.phones import phone_identifier
from serambi_kit.pii import Vault

from .. import domain
from ..application import commands
from ..application.ports import LaporComplaint, LaporGateway, LaporUnreadable
from ..domain import Rules
from . import lapor_attachments, lapor_letters

log = get_logger(__name__)
IMPORTS = "lapor_imports"
META = "meta"


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
