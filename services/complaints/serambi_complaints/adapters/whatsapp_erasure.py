"""After an erasure, the WhatsApp channel forgets the person's links.

Erasure deletes the complainant's data key (``serambi personal-data erase``, the admin API, or a
``--key`` repeat after a restore: none of them tells the complaints service), so what is sealed
is unreadable at once. The channel also keeps links of its own, in clear: the number's
conversation (``whatsapp_conversations``, by the number's keyed hash) names its current
complaint, each message's mapping (``whatsapp_messages``) names its complaint, and a reply
(``whatsapp_outbox``) names its complaint beside the sealed number. ``forget_erased`` follows
the vault's register of erasures (``data_key_erasures``: key id and ``erased_at``) every
``SERAMBI_WHATSAPP_ERASURE_SECONDS``, finds the complaints whose data key was erased (the read
model, by ``summary.key``) and, for each:

- the conversation that names it forgets it; the number keeps an erasure marker
  (``whatsapp.ERASED_NUMBERS``: the time shifted by a keyed offset, so it does not join the
  vault's register exactly, deleted after Meta's 7-day redelivery horizon), so a message sent
  before then and delivered again later stores nothing, and a later message opens a new
  complaint;
- its recorded messages keep their role ``erased`` and no tracking code (a redelivery is still
  recorded once); the mappings of messages not recorded yet go (a redelivery places the message
  again, by its time against the erasure);
- its replies keep only their id, kind, state ``erased`` and times (``whatsapp_replies.shred``).

Every round looks again at the erasures of the last ``OVERLAP`` before the previous round
started (idempotent), so a complaint the read model had not shown yet, or an erasure recorded by
a clock running a little behind, is not missed. Erasures from before the register are found
once per start (``backfill``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase
from serambi_kit.logging import get_logger
from serambi_kit.pii import Vault

from .projections import COMPLAINTS
from .whatsapp import CONVERSATIONS, MESSAGES, mark_erased
from .whatsapp_replies import OUTBOX, shred

log = get_logger(__name__)
CURSOR = "whatsapp_erasure_rounds"  # one document: when the last round started
OVERLAP = timedelta(hours=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class WhatsAppErasures:
    def __init__(self, db: Callable[[], AsyncDatabase], vault: Callable[[], Vault], now=None) -> None:
        self.db, self.vault = db, vault
        self.now = now or (lambda: datetime.now(UTC))

    async def create_indexes(self) -> None:
        """The links are looked up by tracking code."""
        db = self.db()
        for name in (CONVERSATIONS, MESSAGES, OUTBOX):
            await db[name].create_index("tracking_code", sparse=True)

    async def forget_erased(self) -> int:
        """One round; returns how many complaints had links forgotten in it."""
        db, started = self.db(), self.now()
        last = await db[CURSOR].find_one({"_id": "erasures"})
        since = _aware(last["started_at"]) - OVERLAP if last else EPOCH
        erased = dict(await self.vault().erasures_since(since))
        forgotten = 0
        if erased:
            found = db[COMPLAINTS].find(
                {"summary.key": {"$in": sorted(erased)}}, {"tracking_code": 1, "summary.key": 1}
            )
            for complaint in await found.to_list():
                erased_at = erased[complaint["summary"]["key"]]
                forgotten += await forget(db, self.vault(), complaint["_id"], erased_at)
        await db[CURSOR].update_one({"_id": "erasures"}, {"$set": {"started_at": started}}, upsert=True)
        if forgotten:
            log.info("whatsapp.erasures_forgotten", complaints=forgotten)
        return forgotten

    async def backfill(self) -> int:
        """Start-up (once, idempotent): complaints the channel still links whose data key is gone
        but not in the register — erased before ``data_key_erasures`` existed, so no round ever
        sees them — are forgotten the same way, at the vault's ``erased_at`` if it has one, else
        now (a later bound: a message sent before stays stored-nothing). Also moves the exact
        ``erased_at`` an earlier version kept on a conversation to the shifted marker. Only the
        linked complaints are looked at (the tracking codes left on the channel's collections),
        one vault look-up each. Returns how many complaints had links forgotten."""
        db, vault, now = self.db(), self.vault(), self.now()
        async for conversation in db[CONVERSATIONS].find({"erased_at": {"$exists": True}}):
            await mark_erased(db, vault, conversation["_id"], conversation["erased_at"])
            await db[CONVERSATIONS].update_one({"_id": conversation["_id"]}, {"$unset": {"erased_at": ""}})
        codes: set[str] = set()
        for name in (CONVERSATIONS, MESSAGES, OUTBOX):
            found = db[name].find({"tracking_code": {"$exists": True}}, {"tracking_code": 1})
            codes.update([document["tracking_code"] async for document in found])
        forgotten = 0
        complaints = db[COMPLAINTS].find({"_id": {"$in": sorted(codes)}}, {"summary.key": 1})
        async for complaint in complaints:
            key = (complaint.get("summary") or {}).get("key")
            if key is None or await vault.data_cipher(key) is not None:
                continue
            forgotten += await forget(db, vault, complaint["_id"], await vault.erased_at(key) or now)
        if forgotten:
            log.info("whatsapp.erasures_backfilled", complaints=forgotten)
        return forgotten


async def forget(db: AsyncDatabase, vault: Vault, code: str, erased_at: datetime) -> bool:
    """Forget the WhatsApp links of complaint ``code``, whose complainant was erased at
    ``erased_at`` (idempotent); whether there were any left."""
    async for conversation in db[CONVERSATIONS].find({"tracking_code": code}, {"_id": 1}):
        await mark_erased(db, vault, conversation["_id"], erased_at)  # before the link goes (a crash)
    conversations = await db[CONVERSATIONS].update_many(
        {"tracking_code": code}, {"$unset": {"tracking_code": "", "opened_at": "", "last_message_at": ""}}
    )
    messages = db[MESSAGES]
    unrecorded = await messages.delete_many({"tracking_code": code, "recorded": {"$ne": True}})
    recorded = await messages.update_many(
        {"tracking_code": code}, {"$set": {"role": "erased"}, "$unset": {"tracking_code": ""}}
    )
    replies = await shred(db[OUTBOX], {"tracking_code": code})
    return bool(
        conversations.modified_count or unrecorded.deleted_count or recorded.modified_count or replies
    )


def _aware(instant: datetime) -> datetime:
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)
