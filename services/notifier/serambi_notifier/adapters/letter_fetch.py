"""Answer letters as attachments, fetched from their public link.

Scheduling keeps answer letters (PDF) and publishes, in AudienceScheduled / AudienceRescheduled /
AudienceDeclined, a reference: document id, media type, size and SHA-256. The document id is the
capability of scheduling's public link ``GET {letters_base_url}/{document_id}`` — the same link the
requester sees on the tracking page. The notifier fetches the letter through that public link,
exactly as the requester's browser would (it never reads scheduling's database), checks its size
and digest against the event, and attaches it. Every message also carries the link.

A letter that cannot be fetched yet (scheduling down, a 5xx) is a transient failure of the
delivery, retried with its backoff; after ``letter_fetch_attempts`` attempts the message goes
out with the link only. A letter whose digest does not match is never attached.
"""

from __future__ import annotations

import hashlib

import httpx
from serambi_contracts.intake import DocumentRef
from serambi_kit.logging import get_logger

from ..application.ports import LetterMismatchError, LetterUnavailableError

log = get_logger(__name__)
MAX_LETTER_BYTES = 10 * 1024 * 1024


class LetterFetcher:
    def __init__(self, base_url: str, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    def url(self, document_id: str) -> str:
        return f"{self.base_url}/{document_id}"

    async def fetch(self, ref: DocumentRef) -> bytes:
        try:
            response = await self.client.get(self.url(ref.document_id))
        except httpx.HTTPError as exc:
            raise LetterUnavailableError(f"letter {ref.document_id}: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise LetterUnavailableError(f"letter {ref.document_id}: HTTP {response.status_code}")
        content = response.content
        if len(content) > MAX_LETTER_BYTES or len(content) != ref.size:
            raise LetterMismatchError(f"letter {ref.document_id}: {len(content)} bytes, not {ref.size}")
        if hashlib.sha256(content).hexdigest() != ref.sha256:
            raise LetterMismatchError(f"letter {ref.document_id}: digest does not match the event")
        return content

    async def close(self) -> None:
        await self.client.aclose()
