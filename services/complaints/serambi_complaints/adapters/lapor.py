"""SP4N-LAPOR! gateway: the port (``LaporGateway``) and its HTTP adapter.

``HttpLaporGateway`` talks to the real service. LAPOR!'s API is documented only to registered
institutions, so the HTTP adapter follows the shape described in docs/complaints.md (bearer
token, JSON) and keeps every path and field mapping in one place to adapt once the bureau
receives the official documentation. It is not tested against the real service. The import
(``lapor_import``) and the status push-back (``lapor_status``) work through the port; the tests
use an in-memory fake of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, BinaryIO

import httpx
from serambi_contracts.complaints import Disclosure

from ..application.ports import LaporComplaint, LaporError, LaporUnreadable
from . import lapor_attachments, lapor_letters


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
