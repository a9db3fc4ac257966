"""Uploaded files (intake's request documents, complaints' attachments): checked by content,
sealed with their data subject's key, stored in GridFS.

Events reference a file by id, SHA-256 and media type — never embed it. A file is stored
``pending`` before its event is appended and ``attached`` after; a failed submission discards
its pending files at once, and :meth:`DocumentStore.sweep` removes any left pending by a crash.

Sealing (crypto-shredding, like every personal field): the content is encrypted in segments of
64 KiB with AES-256-GCM under the data subject's key from the vault (``serambi_kit.pii``). The
nonce of segment *i* is a random 7-byte prefix of the file, *i* (4 bytes) and a last-segment
flag, and the file's id is the associated data, so segments cannot be reordered, cut off or
moved to another file. ``metadata.sealed`` holds the key id, the prefix and the segment size;
once the key is erased the file (backups included) is unreadable and :meth:`open` raises
:class:`DocumentErased`. A file stored before sealing has no ``metadata.sealed`` and is read
as it is.

Files are written and read a segment at a time, never whole in memory. The writer is ours, not
pymongo's ``GridIn``: that one keeps a file's chunks in a list until 48 MB (a whole 10 MB
document, then its BSON copy) before one ``insert_many``, which made 16 concurrent uploads cost
intake 300 MB (docs/performance.md). Ours writes the GridFS layout itself — the ``files``
documents of a form's files first, in one write (``pending``, so a crash half-way leaves nothing
the sweep cannot find), then chunks of four sealed segments, ``CHUNKS_PER_INSERT`` at a time,
across the files — and reads back through pymongo's bucket like any GridFS file.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

from bson import Int64
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from gridfs import AsyncGridFSBucket
from gridfs.asynchronous.grid_file import AsyncGridOut
from pymongo import UpdateMany
from serambi_contracts.base import DocumentRef

from .mongo import Database
from .pii import Vault, VaultError
from .writebatch import WriteBatch

PDF, PNG, JPEG = "application/pdf", "image/png", "image/jpeg"
M4A, OGG = "audio/mp4", "audio/ogg"
_SIGNATURES = ((b"%PDF-", PDF), (b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG), (b"OggS", OGG))
_M4A_BRANDS = (b"M4A ", b"M4B ")
EXTENSIONS = {PDF: "pdf", PNG: "png", JPEG: "jpg", M4A: "m4a", OGG: "ogg"}
DOCUMENT_ID = r"^D[0-9a-f]{32}$"
SEGMENT = 64 * 1024  # plaintext bytes per sealed segment
_TAG = 16  # AES-GCM tag after each segment
CHUNK = 4 * (SEGMENT + _TAG)  # a GridFS chunk: four sealed segments (256 KiB and their tags)
CHUNKS_PER_INSERT = 2  # at most 512 KiB of a file's chunks in memory while it is stored
MARK_WINDOW = 0.05  # seconds a mark waits for others to share its write


class DocumentError(ValueError):
    """A file that is missing, too large or of a type we do not accept."""

    def __init__(self, field: str, rule: str, message: str, status: int) -> None:
        super().__init__(message)
        self.field, self.rule, self.status = field, rule, status


class DocumentErased(Exception):
    """The document's data subject was erased: its content can no longer be read (410 Gone)."""


@dataclass(frozen=True, slots=True)
class Upload:
    """A file to store: ``data`` as bytes (small, e.g. fetched) or a seekable binary file (an
    upload spooled to disk by the multipart parser), which is read a segment at a time."""

    field: str
    kind: str
    data: bytes | BinaryIO

    def _file(self) -> BinaryIO:
        if isinstance(self.data, bytes | bytearray):
            return io.BytesIO(self.data)
        self.data.seek(0)
        return self.data

    def segments(self, size: int = SEGMENT) -> Iterator[bytes]:
        file = self._file()
        while block := file.read(size):
            yield block

    def head(self, size: int = 64) -> bytes:
        return self._file().read(size)

    def size(self) -> int:
        if isinstance(self.data, bytes | bytearray):
            return len(self.data)
        return self.data.seek(0, io.SEEK_END)

    def sha256(self) -> str:
        digest = hashlib.sha256()
        for block in self.segments():
            digest.update(block)
        return digest.hexdigest()


def _is_m4a(data: bytes) -> bool:
    """An MP4 audio file: an ``ftyp`` box whose major or a compatible brand is M4A/M4B."""
    if data[4:8] != b"ftyp":
        return False
    end = min(int.from_bytes(data[:4], "big"), len(data))
    brands = [data[8:12]] + [data[i : i + 4] for i in range(16, end - 3, 4)]
    return any(brand in _M4A_BRANDS for brand in brands)


def sniff(data: bytes) -> str | None:
    """The media type from the content's magic bytes (not the name or the declared type)."""
    if _is_m4a(data):
        return M4A
    return next((media for magic, media in _SIGNATURES if data.startswith(magic)), None)


def check(upload: Upload, accepted: frozenset[str], max_bytes: int) -> str:
    """The upload's media type, or a DocumentError naming the field and the rule."""
    size = upload.size()
    if not size:
        raise DocumentError(upload.field, "missing", f"{upload.field}: the file is empty", 422)
    if size > max_bytes:
        raise DocumentError(
            upload.field, "too_large", f"{upload.field}: larger than {max_bytes // 1_000_000} MB", 413
        )
    media = sniff(upload.head())
    if media not in accepted:
        names = ", ".join(sorted(accepted))
        raise DocumentError(
            upload.field, "unsupported_type", f"{upload.field}: the content is not one of {names}", 415
        )
    return media


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


class DocumentStore:
    """A GridFS bucket of the service's database (``documents`` unless named), sealing with
    keys of ``vault``."""

    def __init__(self, db: Database, bucket: str = "documents", *, vault: Vault) -> None:
        self.files = db[f"{bucket}.files"]
        self.chunks = db[f"{bucket}.chunks"]
        self.bucket = AsyncGridFSBucket(db, bucket_name=bucket)
        self.vault = vault
        self._indexed = False
        self._marks = WriteBatch(lambda: self.files, window=MARK_WINDOW)

    async def put_pending(self, upload: Upload, media_type: str, owner: str, key: str) -> DocumentRef:
        """Store ``upload`` sealed with the data subject ``key`` (``put_all_pending`` of one)."""
        [ref] = await self.put_all_pending([(upload, media_type)], owner, key)
        return ref

    async def put_all_pending(
        self, uploads: Sequence[tuple[Upload, str]], owner: str, key: str
    ) -> list[DocumentRef]:
        """Store the ``uploads`` (each with its checked media type) sealed with the data subject
        ``key``, segment by segment: at most ``CHUNKS_PER_INSERT`` chunks in memory at once.

        Two writes for a form's small files, whatever their number: every ``files`` document
        (``pending``) in one ``insert_many`` before any chunk, then the chunks of all the files
        through one batch — ``CHUNKS_PER_INSERT`` at a time, the last batch holding the tail of
        one file and the head of the next. A file is read by its ``files`` document and its
        chunks' ``files_id`` and ``n``, never by the order they were written in."""
        if not uploads:
            return []
        cipher = await self.vault.data_cipher(key)
        if cipher is None:
            raise VaultError(f"no data key {key} (erased?)")
        await self.create_indexes()
        files: list[dict[str, Any]] = []
        plains: list[int] = []
        for upload, media_type in uploads:
            plain = upload.size()
            plains.append(plain)
            length = plain + max(1, -(-plain // SEGMENT)) * _TAG  # what the sealed segments take
            files.append(
                {
                    "_id": "D" + uuid.uuid4().hex,
                    "filename": f"{owner}-{upload.kind}",
                    "chunkSize": CHUNK,
                    "length": Int64(length),
                    "uploadDate": datetime.now(UTC),
                    "metadata": {
                        "owner": owner,
                        "kind": upload.kind,
                        "media_type": media_type,
                        "status": "pending",
                        "stored_at": datetime.now(UTC),
                        "sealed": {"key": key, "nonce": os.urandom(7), "segment": SEGMENT},
                    },
                }
            )
        await self.files.insert_many(files)
        batch: list[dict[str, Any]] = []

        async def flush(final: bool) -> None:
            if batch and (final or len(batch) >= CHUNKS_PER_INSERT):
                await self.chunks.insert_many(batch)
                batch.clear()

        refs: list[DocumentRef] = []
        try:
            for (upload, media_type), file, plain in zip(uploads, files, plains, strict=True):
                document_id, prefix = file["_id"], file["metadata"]["sealed"]["nonce"]
                digest, size, aad = hashlib.sha256(), 0, document_id.encode()
                sealed, number = bytearray(), 0
                segments = upload.segments(SEGMENT)
                current, index = next(segments, b""), 0
                while True:
                    following = next(segments, None)
                    digest.update(current)
                    size += len(current)
                    sealed += cipher.encrypt(_nonce(prefix, index, following is None), current, aad)
                    while len(sealed) >= CHUNK or (following is None and sealed):
                        batch.append({"files_id": document_id, "n": number, "data": bytes(sealed[:CHUNK])})
                        del sealed[:CHUNK]
                        number += 1
                        await flush(final=False)
                    if following is None:
                        break
                    current, index = following, index + 1
                if size != plain:
                    raise ValueError(f"{upload.field}: the file changed while it was stored")
                refs.append(
                    DocumentRef(
                        document_id=document_id,
                        kind=upload.kind,
                        media_type=media_type,
                        sha256=digest.hexdigest(),
                        size=size,
                    )
                )
            await flush(final=True)
        except BaseException:
            for file in files:  # the files documents and the chunks written
                with contextlib.suppress(Exception):  # else left pending: the sweep removes it
                    await self.bucket.delete(file["_id"])
            raise
        return refs

    async def create_indexes(self) -> None:
        """GridFS's own indexes (as pymongo's writer makes them), once per store: a service
        creates them before its consumers start (``Runtime.before_consuming``); the call on the
        first write is then a no-op, and covers a store used without a runtime."""
        if not self._indexed:
            await self.chunks.create_index([("files_id", 1), ("n", 1)], unique=True)
            await self.files.create_index([("filename", 1), ("uploadDate", 1)])
            self._indexed = True

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
        if not document_ids:  # no write for a case without files
            return
        await self.files.update_many({"_id": {"$in": document_ids}}, {"$set": {"metadata.case": case}})

    async def case_of(self, document_id: str) -> str | None:
        """The case noted for a document (``note_case``), if any."""
        found = await self.files.find_one({"_id": document_id}, {"metadata.case": 1})
        case: str | None = (found or {}).get("metadata", {}).get("case")
        return case

    async def mark_attached(self, document_ids: list[str]) -> None:
        """Marks of submissions finishing within ``MARK_WINDOW`` of each other share one write
        (``serambi_kit.writebatch``); this returns once this one is written."""
        if not document_ids:  # a complaint without attachments: nothing to mark, no write
            return
        await self._marks.write(
            UpdateMany({"_id": {"$in": document_ids}}, {"$set": {"metadata.status": "attached"}})
        )

    async def delete(self, document_id: str) -> None:
        await self.bucket.delete(document_id)

    async def open(self, document_id: str) -> AsyncIterator[bytes]:
        """The document's content, a segment at a time. Raises :class:`DocumentErased` (before
        any byte) when its data subject was erased, ``gridfs.NoFile`` when there is no such file."""
        stored = await self.bucket.open_download_stream(document_id)
        sealed = (stored.metadata or {}).get("sealed")
        if sealed is None:  # stored in clear, before documents were sealed
            return self._clear(stored)
        cipher = await self.vault.data_cipher(sealed["key"])
        if cipher is None:
            raise DocumentErased(document_id)
        return self._unsealed(stored, cipher, bytes(sealed["nonce"]), int(sealed["segment"]))

    @staticmethod
    async def _clear(stored: AsyncGridOut) -> AsyncIterator[bytes]:
        while block := await stored.read(SEGMENT):
            yield block

    @staticmethod
    async def _unsealed(
        stored: AsyncGridOut, cipher: AESGCM, prefix: bytes, segment: int
    ) -> AsyncIterator[bytes]:
        block, aad = segment + _TAG, str(stored._id).encode()
        count = max(1, -(-stored.length // block))
        for index in range(count):
            sealed = await stored.read(block)
            try:
                yield cipher.decrypt(_nonce(prefix, index, index == count - 1), sealed, aad)
            except InvalidTag as exc:
                raise VaultError(f"document {stored._id} was tampered with or cut off") from exc

    async def read(self, document_id: str) -> bytes:
        """The whole content (small files, tests); downloads stream :meth:`open` instead."""
        return b"".join([block async for block in await self.open(document_id)])

    async def sweep(self, referenced: Callable[[str], Awaitable[bool]], older_than: timedelta) -> int:
        """Delete documents left pending by a submission that died half-way; those a case does
        reference (the process died after the append) are marked attached instead."""
        deleted, attached = 0, []
        for document_id, _owner in await self.pending(older_than):
            if await referenced(document_id):
                attached.append(document_id)
            else:
                await self.delete(document_id)
                deleted += 1
        await self.mark_attached(attached)  # one write (and one window) for all of them
        return deleted
