"""The claims a replica holds on deliveries, their leases renewed until the outcome is written.

A claim's lease (``delivery_lease_seconds``) says how long other replicas keep off a delivery.
Its holder renews every claim it holds — waiting for a send slot, for an SMTP connection, or
being sent — every quarter lease, in one write for all of them. So a lease only runs out when
its holder stopped: it died, or it could not reach the database for a whole lease. How long a
relay takes to answer does not matter.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

from serambi_kit.logging import get_logger
from serambi_kit.tasks import cancel_and_wait, cancel_requested

from .ports import DeliveryLedger

log = get_logger(__name__)
RENEWALS_PER_LEASE = 4


class HeldClaims:
    def __init__(
        self, ledger: DeliveryLedger, owner: str, lease: float, clock: Callable[[], datetime]
    ) -> None:
        self.ledger, self.owner, self.lease, self.clock = ledger, owner, lease, clock
        self._held: dict[str, int] = {}  # delivery id → the attempt our claim is
        self._renewer: asyncio.Task | None = None

    def __contains__(self, delivery_id: str) -> bool:
        return delivery_id in self._held

    def hold(self, claimed: dict[str, Any]) -> None:
        if claimed["state"] != "sending":
            return
        self._held[claimed["_id"]] = claimed["attempts"]
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.create_task(self._renew(), name="notifier-lease-renewal")

    def release(self, claimed: dict[str, Any]) -> None:
        if self._held.get(claimed["_id"]) == claimed["attempts"]:
            del self._held[claimed["_id"]]

    async def _renew(self) -> None:
        while self._held and not cancel_requested():  # a cancellation the driver turned into an error
            await asyncio.sleep(self.lease / RENEWALS_PER_LEASE)
            held = list(self._held)
            try:
                holding = await self.ledger.renew(held, self.owner, self.clock(), self.lease)
            except Exception as exc:  # noqa: BLE001 — a database blip: the next round retries
                log.warning(
                    "notification.lease_renewal_failed", held=len(held), error=f"{type(exc).__name__}: {exc}"
                )
                continue
            if holding < len(held):  # outcomes written meanwhile, or claims taken over
                log.info("notification.leases_renewed", held=len(held), holding=holding)

    async def close(self) -> None:
        if self._renewer is not None:
            await cancel_and_wait(self._renewer)
            self._renewer = None
