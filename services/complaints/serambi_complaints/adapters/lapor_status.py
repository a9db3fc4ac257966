"""SP4N-LAPOR! status: each step of an imported complaint reported back, through an outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from serambi_contracts.complaints import (
    ComplaintAnswered,
    ComplaintAssigned,
    ComplaintChannel,
    ComplaintClassified,
    ComplaintClosed,
    ComplaintReopened,
)
from serambi_kit.eventstore import RecordedEvent
from serambi_kit.logging import get_logger
from serambi_kit.tasks import raise_if_cancel_requested

from ..application import commands
from ..application.ports import LaporGateway

log = get_logger(__name__)
OUTBOX = "lapor_outbox"
CLAIM = timedelta(seconds=60)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
