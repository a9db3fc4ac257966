"""Uploaded files (intake's request documents, complaints' attachments): checked by content,
stored in GridFS.

Events reference a file by id, SHA-256 and media type — never embed it. A file is stored
``pending`` before its event is appended and ``attached`` after; a failed submission discards
its pending files at once, and :meth:`DocumentStore.sweep` removes any left pending by a crash.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gridfs import AsyncGridFSBucket
from pymongo.asynchronous.database import AsyncDatabase
from serambi_contracts.base import DocumentRef

PDF, PNG, JPEG = "application/pdf", "image/png", "image/jpeg"
_SIGNATURES = ((b"%PDF-", PDF), (b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG))
EXTENSIONS = {PDF: "pdf", PNG: "png", JPEG: "jpg"}
DOCUMENT_ID = r"^D[0-9a-f]{32}$"


class DocumentError(ValueError):
    """A file that is missing, too large or of a type we do not accept."""

    def __init__(self, field: str, rule: str, message: str, status: int) -> None:
        super().__init__(message)
        self.field, self.rule, self.status = field, rule, status


@dataclass(frozen=True, slots=True)
class Upload:
    field: str
    kind: str
    data: bytes


def sniff(data: bytes) -> str | None:
    """The media type from the content's magic bytes (not the name or the declared type)."""
    return next((media for magic, media in _SIGNATURES if data.startswith(magic)), None)


def check(upload: Upload, accepted: frozenset[str], max_bytes: int) -> str:
    """The upload's media type, or a DocumentError naming the field and the rule."""
    if not upload.data:
        raise DocumentError(upload.field, "missing", f"{upload.field}: the file is empty", 422)
    if len(upload.data) > max_bytes:
        raise DocumentError(upload.field, "too_large",
                            f"{upload.field}: larger than {max_bytes // 1_000_000} MB", 413)
    media = sniff(upload.data)
    if media not in accepted:
        names = ", ".join(sorted(accepted))
        raise DocumentError(upload.field, "unsupported_type",
                            f"{upload.field}: the content is not one of {names}", 415)
    return media


class DocumentStore:
    """A GridFS bucket of the service's database (``documents`` unless named)."""

    def __init__(self, db: AsyncDatabase, bucket: str = "documents") -> None:
        self.files = db[f"{bucket}.files"]
        self.bucket = AsyncGridFSBucket(db, bucket_name=bucket)

    async def put_pending(self, upload: Upload, media_type: str, owner: str) -> DocumentRef:
        document_id = "D" + uuid.uuid4().hex
        await self.bucket.upload_from_stream_with_id(
            document_id, f"{owner}-{upload.kind}", upload.data,
            metadata={"owner": owner, "kind": upload.kind, "media_type": media_type,
                      "status": "pending", "stored_at": datetime.now(UTC)},
        )
        return DocumentRef(document_id=document_id, kind=upload.kind, media_type=media_type,
                           sha256=hashlib.sha256(upload.data).hexdigest(), size=len(upload.data))

    async def discard(self, refs: list[DocumentRef]) -> None:
        for ref in refs:
            await self.bucket.delete(ref.document_id)

    async def pending(self, older_than: timedelta) -> list[tuple[str, str]]:
        """(document id, owner) of documents still pending after ``older_than``."""
        cutoff = datetime.now(UTC) - older_than
        cursor = self.files.find(
            {"metadata.status": "pending", "metadata.stored_at": {"$lt": cutoff}},
            {"_id": 1, "metadata.owner": 1},
        )
        return [(doc["_id"], doc["metadata"]["owner"]) async for doc in cursor]

    async def note_case(self, document_ids: list[str], case: str) -> None:
        """Record the case pending documents are for, before the append that references them:
        a sweep can then ask that case's events (which cannot lag) whether it does."""
        await self.files.update_many({"_id": {"$in": document_ids}}, {"$set": {"metadata.case": case}})

    async def case_of(self, document_id: str) -> str | None:
        """The case noted for a document (``note_case``), if any."""
        found = await self.files.find_one({"_id": document_id}, {"metadata.case": 1})
        return (found or {}).get("metadata", {}).get("case")

    async def mark_attached(self, document_ids: list[str]) -> None:
        await self.files.update_many(
            {"_id": {"$in": document_ids}}, {"$set": {"metadata.status": "attached"}}
        )

    async def delete(self, document_id: str) -> None:
        await self.bucket.delete(document_id)

    async def read(self, document_id: str) -> bytes:
        stream = await self.bucket.open_download_stream(document_id)
        return await stream.read()

    async def sweep(self, referenced: Callable[[str], Awaitable[bool]], older_than: timedelta) -> int:
        """Delete documents left pending by a submission that died half-way; those a case does
        reference (the process died after the append) are marked attached instead."""
        deleted = 0
        for document_id, _owner in await self.pending(older_than):
            if await referenced(document_id):
                await self.mark_attached([document_id])
            else:
                await self.delete(document_id)
                deleted += 1
        return deleted
