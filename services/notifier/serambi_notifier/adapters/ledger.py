"""The delivery ledger: one document per delivery, recorded before sending and after.

``deliveries`` in the notifier's database, ``_id`` = the delivery id (uuid5 of cause event id,
channel and the recipient's keyed hash), so recording an intent twice — a redelivered event, a
restart, another replica — finds the same document.

States::

    (recorded) ──────────┐            ┌─> sent
    held ──┐             ├─> sending ─┼─> retry ─> sending …
    retry ─┴─ (claim) ───┘   (lease)  └─> failed
    (a planning problem — erased recipient, malformed address — is recorded as failed at once)

A new delivery is inserted already claimed (``sending``, with a lease) by the replica that
planned it: recording the intent and claiming it is one write, and a duplicate key tells a
replica that someone else recorded it first. ``claim`` moves a due delivery (retry, held, an
expired lease) to ``sending`` in one conditional update, so of two replicas only one sends.
The holder ``renew``s the leases of what it holds while it waits and sends, ``fence``s the claim
(still its own, same attempt) right before handing the message over, and writes the outcome
under the same condition. The fence is a write only when the claim is older than a quarter
lease (the renewal interval): a fresher claim cannot have been taken over without the clock
skew the renewals already rule out (docs/notifier.md). A ``sending`` delivery whose lease ran
out therefore belongs to a process that died (or lost the database for a whole lease): it is
claimed again and, unless its stream already holds its event, resent (the residual window, see
docs/notifier.md). Final states carry ``event_published``: the NotificationSent/Failed event is
appended first and the outcome written with ``event_published`` true in the same write; if the
append failed, the outcome is written unpublished and the dispatch loop appends it
(idempotently) until it is marked.

Stored: never a clear address, no message body. An officer's delivery keeps their address
masked and its keyed hash (``recipient_masked``, ``recipient_hash``: configuration, searchable).
A citizen's keeps nothing derived from the address outside the vault's reach: ``subject_key``
(their data key, by which the delivery log finds them through the vault while the key exists)
and the masked address sealed under that key (``recipient_sealed``), so erasing the person cuts
the log off from them (docs/notifier.md, "Delivery log"). Why a delivery failed
or waits is kept twice: its category in clear (``reason`` / ``last_error``: what the delivery
log shows and NotificationFailed publishes) and the provider's own words — a bounce often quotes
the address or number — in ``detail``: sealed with the citizen's data key (erasing the person
erases it), or for an officer with addresses and numbers masked.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError
from serambi_contracts.notifier import FailureCategory, RecipientKind, failure_category
from serambi_kit.writebatch import WriteBatch

from ..application.ports import FINAL_STATES, TAKEN_OVER, Cause
from ..domain.deliveries import Planned
from .projections import CASES, case_id

DELIVERIES = "deliveries"
MIGRATIONS = "notifier_migrations"
#: ``last_error`` of a delivery waiting for its retry (TransientDeliveryError's categories)
RETRY_CATEGORIES = ("deferred", "unreachable", "compose")
DUE_STATES = ("held", "retry")
DUPLICATE_KEY = 11000
RECEIPT_RANK = {"queued": 1, "sent": 2, "delivered": 3, "failed": 3}
#: what a citizen's delivery no longer keeps (see ``forget_citizen_contacts``)
CITIZEN_CONTACT_FIELDS = ("recipient_hash", "recipient_masked")
#: deliveries an older replica may still record during a rolling upgrade are swept at the next
#: start-up: those created this long before the previous sweep, and since
SWEEP_OVERLAP = timedelta(days=1)
#: how long a sent outcome waits for others to share its write (docs/performance.md)
OUTCOME_WINDOW = 0.05


class Ledger:
    def __init__(self, db: Any) -> None:
        self._db = db
        self._outcomes = WriteBatch(lambda: self.collection, window=OUTCOME_WINDOW)

    @property
    def collection(self):
        db: AsyncDatabase = self._db() if callable(self._db) else self._db
        return db[DELIVERIES]

    async def ensure_indexes(self) -> None:
        c = self.collection
        await c.create_index([("state", ASCENDING), ("next_attempt_at", ASCENDING)])
        await c.create_index([("lease_until", ASCENDING)])
        await c.create_index([("event_published", ASCENDING), ("state", ASCENDING)])
        await c.create_index([("provider_message_ids", ASCENDING)])
        await c.create_index([("case_id", ASCENDING), ("created_at", DESCENDING)])
        await c.create_index([("recipient_hash", ASCENDING)])
        await c.create_index([("subject_key", ASCENDING)])
        await c.create_index([("created_at", DESCENDING)])
        await self.categorise_old_reasons()
        await self.forget_citizen_contacts()

    async def categorise_old_reasons(self) -> int:
        """Once per database: a ledger written before failures were categorised holds the
        providers' words in clear in ``reason`` and ``last_error``; they are replaced by their
        categories (the words are dropped: they were never sealed). Returns how many changed."""
        db = self._db() if callable(self._db) else self._db
        done = db[MIGRATIONS]
        if await done.find_one({"_id": "reason-categories"}):
            return 0
        categories = {category.value for category in FailureCategory}
        changed = 0
        async for document in self.collection.find({}, {"reason": 1, "last_error": 1}):
            update = {}
            if document.get("reason") and document["reason"] not in categories:
                update["reason"] = failure_category(document["reason"]).value
            if document.get("last_error") and document["last_error"] not in RETRY_CATEGORIES:
                update["last_error"] = "deferred"
            if update:
                await self.collection.update_one({"_id": document["_id"]}, {"$set": update})
                changed += 1
        await done.update_one(
            {"_id": "reason-categories"}, {"$set": {"changed": changed, "at": datetime.now(UTC)}}, upsert=True
        )
        return changed

    async def forget_citizen_contacts(self) -> int:
        """Citizens' deliveries written before erasure reached the delivery log kept the vault's
        lookup hash of the address and the masked address in clear, which outlived an erasure
        and let a search by e-mail or phone still find the person's cases. They are removed
        (``$unset``) — once over the whole ledger, then at each start-up over what was recorded
        since the previous sweep (less ``SWEEP_OVERLAP``: an older replica still writing them
        during a rolling upgrade); running it again changes nothing. A delivery recorded before
        the ledger kept ``subject_key`` gets it from the notifier's case (its contact's key), so
        it can still be found through the vault while the person is not erased. Returns how
        many deliveries changed."""
        db = self._db() if callable(self._db) else self._db
        done = db[MIGRATIONS]
        now = datetime.now(UTC)
        previous = await done.find_one({"_id": "citizen-contacts"})
        kept = {"$or": [{name: {"$exists": True}} for name in CITIZEN_CONTACT_FIELDS]}
        query: dict[str, Any] = {"recipient_kind": RecipientKind.CITIZEN.value, **kept}
        if previous:
            query["created_at"] = {"$gte": previous["at"].replace(tzinfo=UTC) - SWEEP_OVERLAP}
        async for document in self.collection.find({**query, "subject_key": None}, {"case_id": 1}):
            if key := await self._case_subject(db, document):
                await self.collection.update_one({"_id": document["_id"]}, {"$set": {"subject_key": key}})
        result = await self.collection.update_many(
            query, {"$unset": dict.fromkeys(CITIZEN_CONTACT_FIELDS, "")}
        )
        changed = result.modified_count
        await done.update_one(
            {"_id": "citizen-contacts"}, {"$set": {"at": now}, "$inc": {"changed": changed}}, upsert=True
        )
        return changed

    @staticmethod
    async def _case_subject(db: Any, delivery: dict[str, Any]) -> str | None:
        """The data key of the citizen of a delivery's case (as the planner takes it)."""
        if not delivery.get("case_id"):
            return None
        for kind in ("request", "complaint"):
            case = await db[CASES].find_one({"_id": case_id(kind, delivery["case_id"])}, {"contact": 1})
            sealed = [value for value in ((case or {}).get("contact") or {}).values() if value]
            if sealed:
                return sealed[0].get("key")
        return None

    async def record(
        self,
        plans: list[Planned],
        cause: Cause,
        now: datetime,
        owner: str,
        lease: float,
        details: dict[str, Any] | None = None,
        recipients: dict[str, dict[str, Any]] | None = None,
    ) -> dict[str, dict[str, Any] | None]:
        """Record every planned delivery of a cause in one write: an intent already claimed by
        ``owner`` (state ``sending`` with a lease), ``held`` for quiet hours, or ``failed`` for a
        planning problem (``details``: its stored words, by delivery id). ``recipients``: a
        citizen's masked address sealed under their data key, by delivery id. Returns, per
        delivery id, the document inserted — or None where the delivery was already recorded (a
        redelivered event, another replica)."""
        details, recipients = details or {}, recipients or {}
        documents = [
            self._document(
                p, cause, now, owner, lease, details.get(p.delivery_id), recipients.get(p.delivery_id)
            )
            for p in plans
        ]
        if not documents:
            return {}
        inserted: dict[str, dict[str, Any] | None] = {d["_id"]: d for d in documents}
        try:
            await self.collection.insert_many(documents, ordered=False)
        except BulkWriteError as exc:
            for error in exc.details.get("writeErrors", []):
                if error.get("code") != DUPLICATE_KEY:
                    raise
                inserted[documents[error["index"]]["_id"]] = None
        return inserted

    @staticmethod
    def _document(
        planned: Planned,
        cause: Cause,
        now: datetime,
        owner: str,
        lease: float,
        detail: dict[str, Any] | None = None,
        sealed_recipient: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        document: dict[str, Any] = {
            "_id": planned.delivery_id,
            "cause": cause.document(),
            "cause_type": cause.name,
            "case_id": planned.case_id,
            "notice": planned.notice,
            "channel": planned.channel.value,
            "recipient_kind": planned.recipient_kind.value,
            "recipient_role": planned.recipient_role,
            "subject_key": planned.subject_key,
            "language": planned.language,
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
            "next_attempt_at": now,
            "event_published": False,
            "receipt_status": None,
            "receipt_rank": 0,
            "provider_message_ids": [],
        }
        if planned.recipient_kind is RecipientKind.OFFICER:  # their configured address
            document.update(recipient_masked=planned.recipient_masked, recipient_hash=planned.recipient_hash)
        elif sealed_recipient:  # a citizen's: only under their key, gone with it
            document["recipient_sealed"] = sealed_recipient
        if planned.problem_category:
            document.update(
                state="failed", reason=planned.problem_category.value, detail=detail, failed_at=now
            )
        elif planned.not_before and planned.not_before > now:
            document.update(state="held", next_attempt_at=planned.not_before, held_until=planned.not_before)
        else:  # recorded as claimed by its planner: the intent and the claim in one write
            document.update(
                state="sending", attempts=1, claimed_by=owner, lease_until=now + timedelta(seconds=lease)
            )
        return document

    async def get(self, delivery_id: str) -> dict[str, Any] | None:
        return await self.collection.find_one({"_id": delivery_id})

    async def claim(self, delivery_id: str, now: datetime, owner: str, lease: float) -> dict[str, Any] | None:
        """Reserve a due delivery for sending (atomic). None if it is not due or someone has it.

        A delivery still ``sending`` after its lease ran out is claimed again and counted in
        ``lease_expiries``: its sender died between claiming and recording the outcome.
        """
        reserve = {
            "state": "sending",
            "lease_until": now + timedelta(seconds=lease),
            "claimed_by": owner,
            "updated_at": now,
        }
        claimed = await self.collection.find_one_and_update(
            {"_id": delivery_id, "state": {"$in": list(DUE_STATES)}, "next_attempt_at": {"$lte": now}},
            {"$set": reserve, "$inc": {"attempts": 1}},
            return_document=ReturnDocument.AFTER,
        )
        if claimed is None:
            claimed = await self.collection.find_one_and_update(
                {"_id": delivery_id, "state": "sending", "lease_until": {"$lt": now}},
                {"$set": reserve, "$inc": {"attempts": 1, "lease_expiries": 1}},
                return_document=ReturnDocument.AFTER,
            )
            if claimed is not None:  # not stored: its holder may have appended the event
                claimed[TAKEN_OVER] = True
        return claimed

    async def renew(self, delivery_ids: list[str], owner: str, now: datetime, lease: float) -> int:
        """Extend the leases of deliveries ``owner`` still holds; returns how many it holds."""
        if not delivery_ids:
            return 0
        result = await self.collection.update_many(
            {"_id": {"$in": delivery_ids}, "state": "sending", "claimed_by": owner},
            {"$set": {"lease_until": now + timedelta(seconds=lease)}},
        )
        return result.matched_count

    async def fence(self, claimed: dict[str, Any], now: datetime, lease: float) -> bool:
        """Right before handing a message over: True if the claim is still ours (same owner and
        attempt — nobody claimed it since), and then its lease starts afresh now."""
        result = await self.collection.update_one(
            {
                "_id": claimed["_id"],
                "state": "sending",
                "claimed_by": claimed["claimed_by"],
                "attempts": claimed["attempts"],
            },
            {"$set": {"lease_until": now + timedelta(seconds=lease), "send_started_at": now}},
        )
        return result.matched_count == 1

    @staticmethod
    def _held(claimed: dict[str, Any]) -> dict[str, Any]:
        """The delivery, as long as we still hold the claim (same owner and attempt)."""
        return {
            "_id": claimed["_id"],
            "state": "sending",
            "claimed_by": claimed["claimed_by"],
            "attempts": claimed["attempts"],
        }

    async def _finish(self, claimed: dict[str, Any], update: dict[str, Any]) -> bool:
        """Write an outcome if we still hold the claim."""
        result = await self.collection.update_one(self._held(claimed), update)
        return result.modified_count == 1

    async def sent(
        self,
        claimed: dict[str, Any],
        now: datetime,
        provider: str,
        message_ids: list[str],
        status: str,
        published: bool = False,
    ) -> None:
        """``published``: its NotificationSent is already appended (the usual order: event,
        then this one write), so the outbox has nothing left to do for it.

        Written through the outcome batch: the sent outcomes of the next ``OUTCOME_WINDOW``
        seconds go to the server as one command (``serambi_kit.writebatch``). This returns once
        the write is acknowledged, as an ``update_one`` would; a claim lost meanwhile (another
        replica took the delivery over) matches nothing, as before."""
        await self._outcomes.write(
            UpdateOne(
                self._held(claimed),
                {
                    "$set": {
                        "event_published": published,
                        "state": "sent",
                        "sent_at": now,
                        "updated_at": now,
                        "provider": provider,
                        "provider_message_ids": message_ids,
                        "provider_status": status,
                        "lease_until": None,
                    }
                },
            )
        )

    async def flush(self) -> None:
        """Write the outcomes still waiting in the batch (shutdown)."""
        await self._outcomes.flush()

    async def retry(
        self,
        claimed: dict[str, Any],
        now: datetime,
        category: str,
        at: datetime,
        detail: dict[str, Any] | None = None,
    ) -> bool:
        """Wait until ``at``; ``category`` is the error's (``RETRY_CATEGORIES``), ``detail``
        its words as stored (sealed, or masked for an officer)."""
        return await self._finish(
            claimed,
            {
                "$set": {
                    "state": "retry",
                    "next_attempt_at": at,
                    "last_error": category,
                    "detail": detail,
                    "updated_at": now,
                    "lease_until": None,
                }
            },
        )

    async def hold(self, claimed: dict[str, Any], now: datetime, until: datetime) -> bool:
        """Back to waiting until ``until`` (quiet hours); the claim does not count as an attempt."""
        return await self._finish(
            claimed,
            {
                "$set": {
                    "state": "held",
                    "next_attempt_at": until,
                    "held_until": until,
                    "updated_at": now,
                    "lease_until": None,
                },
                "$inc": {"attempts": -1},
            },
        )

    async def failed(
        self,
        claimed: dict[str, Any],
        now: datetime,
        category: str,
        detail: dict[str, Any] | None = None,
        published: bool = False,
    ) -> bool:
        """Failed for good: ``category`` a :class:`FailureCategory`, ``detail`` the words as stored
        (None keeps what the last retry stored); ``published`` as for ``sent``."""
        update: dict[str, Any] = {
            "event_published": published,
            "state": "failed",
            "reason": str(category),
            "failed_at": now,
            "updated_at": now,
            "lease_until": None,
        }
        if detail is not None:
            update["detail"] = detail
        return await self._finish(claimed, {"$set": update})

    async def published(self, delivery_id: str) -> None:
        await self.collection.update_one({"_id": delivery_id}, {"$set": {"event_published": True}})

    async def final(self, delivery_id: str) -> dict[str, Any] | None:
        """The delivery if it is final and its event still to be appended."""
        return await self.collection.find_one(
            {"_id": delivery_id, "state": {"$in": list(FINAL_STATES)}, "event_published": False}
        )

    async def due(self, now: datetime, limit: int = 100) -> list[dict[str, Any]]:
        """Deliveries to attempt now, and final ones whose event is still to be appended."""
        found: dict[str, dict[str, Any]] = {}
        for query in (  # one query per index: a server may scan the collection for an $or
            {"state": {"$in": list(DUE_STATES)}, "next_attempt_at": {"$lte": now}},
            {"state": "sending", "lease_until": {"$lt": now}},
            {"event_published": False, "state": {"$in": list(FINAL_STATES)}},
        ):
            cursor = self.collection.find(query, {"_id": 1, "state": 1}).limit(limit - len(found))
            found |= {document["_id"]: document async for document in cursor}
            if len(found) >= limit:
                break
        return list(found.values())

    async def _advance(self, match: dict[str, Any], status: str, now: datetime) -> bool:
        rank = RECEIPT_RANK[status]
        result = await self.collection.update_one(
            {**match, "receipt_rank": {"$lt": rank}},
            {"$set": {"receipt_status": status, "receipt_rank": rank, "receipt_at": now}},
        )
        return result.modified_count == 1

    async def apply_receipt(self, message_id: str, status: str, now: datetime) -> str:
        """Move a delivery's receipt status forward: ``applied``, ``ignored`` (a duplicate or
        an older status) or ``unknown``. ``message_id`` is our client id (of a part: ``<id>-n``)
        or the provider's."""
        base = message_id.rsplit("-", 1)[0] if message_id.count("-") == 5 else message_id
        matches = [{"_id": i} for i in dict.fromkeys((message_id, base))]
        matches.append({"provider_message_ids": message_id})
        for match in matches:  # one indexed lookup each: a server may scan for an $or
            if await self._advance(match, status, now):
                return "applied"
        for match in matches:
            if await self.collection.find_one(match, {"_id": 1}):
                return "ignored"
        return "unknown"
