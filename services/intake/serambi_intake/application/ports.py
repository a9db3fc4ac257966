"""What intake's use cases work through besides the event store and the vault: the document
store, the read models they consult and the tracking-code counter — small interfaces, so tests
can run the use cases on other implementations (``adapters/`` holds MongoDB's)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from serambi_contracts.intake import DocumentRef
from serambi_kit.documents import Upload


class Documents(Protocol):
    """A request's documents: pending until its request is stored (``serambi_kit.documents``)."""

    async def put_pending(self, upload: Upload, media_type: str, owner: str, key: str) -> DocumentRef: ...

    async def discard(self, refs: list[DocumentRef]) -> None: ...

    async def mark_attached(self, document_ids: list[str]) -> None: ...

    async def sweep(self, referenced: Callable[[str], Awaitable[bool]], older_than: timedelta) -> int: ...

    def open(self, document_id: str) -> Awaitable[AsyncIterator[bytes]]: ...


class RequestViews(Protocol):
    """What the use cases read from the requests' read model."""

    async def requester_key(self, tracking_code: str) -> str | None:
        """The data key of the request's requester (None: no such request, or none known)."""
        ...

    async def subject_keys(self, tracking_code: str) -> list[str]:
        """Every data key of the request's requester (what their erasure shreds)."""
        ...

    async def references(self, document_id: str) -> bool:
        """Whether a stored request references the document."""
        ...


class SurveyRecords(Protocol):
    """The survey's invitations (read model) and the desk's paper entries (audit)."""

    async def invitation(self, token_hmac: str) -> dict[str, Any] | None: ...

    async def record_paper(self, response_id: str, officer: str, recorded_at: datetime) -> None: ...


class TrackingCodes(Protocol):
    async def __call__(self, year: int) -> str:
        """The next tracking code of ``year`` (``AUD-<year>-<n>``)."""
        ...
