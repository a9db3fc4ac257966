"""Documents sealed with their data subject's key, on SecantusDB: no plaintext in the stored
chunks, unreadable once the subject is erased, tamper-evident, and clear documents stored
before sealing still readable."""

from __future__ import annotations

import io
import os
import tempfile
import tracemalloc

import pytest
from serambi_kit.documents import PDF, SEGMENT, DocumentErased, DocumentStore, Upload, check, sniff
from serambi_kit.pii import Vault, VaultError

MARKER = b"NIK 3171015505880003 KTP SCAN MARKER"


@pytest.fixture
async def vault(mongo_db) -> Vault:
    return Vault(mongo_db, os.urandom(32), cache_seconds=0)


@pytest.fixture
async def store(mongo_db, vault) -> DocumentStore:
    return DocumentStore(mongo_db, "documents", vault=vault)


def pdf(size: int) -> bytes:
    body = b"%PDF-1.4\n" + MARKER
    return body + bytes(range(256)) * ((size - len(body)) // 256 + 1)


async def raw_chunks(mongo_db, document_id: str) -> bytes:
    chunks = mongo_db["documents.chunks"].find({"files_id": document_id}).sort("n", 1)
    return b"".join([bytes(chunk["data"]) async for chunk in chunks])


@pytest.mark.parametrize("size", [40, SEGMENT, SEGMENT + 1, 3 * SEGMENT, 1_000_000])
async def test_a_document_reads_back_whole_while_its_stored_chunks_hold_no_plaintext(
    mongo_db, vault, store, size
):
    content = pdf(size)[:size] if size >= 64 else b"%PDF-1.4\n" + MARKER
    ref = await store.put_pending(Upload("f", "request_letter", content), PDF, "s", await vault.new_subject())
    assert await store.read(ref.document_id) == content
    assert ref.size == len(content)
    raw = await raw_chunks(mongo_db, ref.document_id)
    assert MARKER not in raw and b"%PDF" not in raw
    assert len(raw) == len(content) + 16 * -(-len(content) // SEGMENT)  # one tag per segment


async def test_an_upload_spooled_to_a_file_is_stored_and_read_back_in_segments(vault, store):
    content = pdf(2_500_000)
    with tempfile.TemporaryFile() as spooled:
        spooled.write(content)
        upload = Upload("attachments.0", "attachment", spooled)
        assert check(upload, frozenset({PDF}), 10_000_000) == PDF
        ref = await store.put_pending(upload, PDF, "s", await vault.new_subject())
    blocks = [block async for block in await store.open(ref.document_id)]
    assert b"".join(blocks) == content and max(map(len, blocks)) == SEGMENT


async def test_an_erased_subjects_document_cannot_be_read(mongo_db, vault, store):
    key = await vault.new_subject(["dewi@example.id"])
    ref = await store.put_pending(Upload("f", "identity_document", pdf(5000)), PDF, "s", key)
    other = await store.put_pending(
        Upload("f", "identity_document", pdf(300)), PDF, "t", await vault.new_subject()
    )
    assert await vault.erase_person("dewi@example.id") == [key]
    with pytest.raises(DocumentErased):
        await store.open(ref.document_id)
    assert MARKER not in await raw_chunks(mongo_db, ref.document_id)  # what a backup would hold
    assert (await store.read(other.document_id)).startswith(b"%PDF")


async def test_a_tampered_or_moved_segment_is_refused(mongo_db, vault, store):
    key = await vault.new_subject()
    ref = await store.put_pending(Upload("f", "k", pdf(3 * SEGMENT)), PDF, "s", key)
    chunk = await mongo_db["documents.chunks"].find_one({"files_id": ref.document_id, "n": 0})
    flipped = bytearray(chunk["data"])
    flipped[10] ^= 1
    await mongo_db["documents.chunks"].update_one({"_id": chunk["_id"]}, {"$set": {"data": bytes(flipped)}})
    with pytest.raises(VaultError):
        await store.read(ref.document_id)


async def test_a_clear_document_stored_before_sealing_is_still_read(mongo_db, store):
    await store.bucket.upload_from_stream_with_id(
        "D" + "1" * 32,
        "old",
        b"%PDF-1.3 legacy" + MARKER,
        metadata={"owner": "s", "kind": "request_letter", "media_type": PDF, "status": "attached"},
    )
    assert await store.read("D" + "1" * 32) == b"%PDF-1.3 legacy" + MARKER


async def test_an_erased_key_cannot_seal_a_new_document(vault, store):
    key = await vault.new_subject()
    await vault.erase_subject(key)
    with pytest.raises(VaultError):
        await store.put_pending(Upload("f", "k", pdf(100)), PDF, "s", key)


@pytest.mark.parametrize(
    ("head", "media"),
    [
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom\x00\x00", "audio/mp4"),
        (b"\x00\x00\x00\x1cftypmp42\x00\x00\x00\x00isomM4A \x00\x00", "audio/mp4"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00isommp42", None),  # an MP4 video
        (b"OggS\x00\x02" + bytes(20), "audio/ogg"),
        (b"ID3\x03\x00", None),
    ],
)
def test_audio_notes_are_typed_by_their_magic_bytes(head, media):
    assert sniff(head) == media


async def test_storing_a_10_mb_document_holds_about_a_megabyte_of_it_in_memory(mongo_db, vault, store):
    """pymongo's GridIn kept a whole file's chunks (and their BSON) in memory until it closed:
    16 uploads of 2 x 10 MB took intake from 111 to 434 MiB (issue 19, docs/performance.md)."""
    content = pdf(10_000_000)
    key = await vault.new_subject()
    with tempfile.TemporaryFile() as spooled:
        spooled.write(content)
        tracemalloc.start()
        try:
            ref = await store.put_pending(Upload("f", "request_letter", spooled), PDF, "s", key)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 2_000_000, f"{peak:,} bytes allocated at the peak while storing 10 MB"
    assert await store.read(ref.document_id) == content
    stored = await mongo_db["documents.files"].find_one({"_id": ref.document_id})
    assert stored["length"] == len(await raw_chunks(mongo_db, ref.document_id))


async def test_a_file_that_fails_half_way_leaves_neither_its_files_document_nor_chunks(
    mongo_db, vault, store
):
    class Failing(io.BytesIO):
        def read(self, size: int = -1) -> bytes:
            if self.tell() >= 6 * SEGMENT:
                raise OSError("the spool file went away")
            return super().read(size)

    with pytest.raises(OSError, match="went away"):
        await store.put_pending(
            Upload("f", "k", Failing(pdf(20 * SEGMENT))), PDF, "gone", await vault.new_subject()
        )
    assert await mongo_db["documents.files"].count_documents({"metadata.owner": "gone"}) == 0
    files = [doc["_id"] async for doc in mongo_db["documents.files"].find({}, {"_id": 1})]
    assert await mongo_db["documents.chunks"].count_documents({"files_id": {"$nin": files}}) == 0


async def test_a_forms_small_files_cost_two_writes_and_read_back_whole(mongo_db, vault, store):
    """Every files document in one insert, the chunks of all the files in one more (issue 21):
    a file is read by its files document and its chunks' files_id and n, not by write order."""
    key = await vault.new_subject()
    await store.put_pending(Upload("w", "warm", pdf(100)), PDF, "warm", key)  # the indexes, once
    writes: list[str] = []

    class Counted:
        def __init__(self, collection, name):
            self.collection, self.name = collection, name

        def __getattr__(self, attribute):
            return getattr(self.collection, attribute)

        async def insert_many(self, documents, *args, **kwargs):
            writes.append(self.name)
            return await self.collection.insert_many(documents, *args, **kwargs)

    store.files, store.chunks = Counted(store.files, "files"), Counted(store.chunks, "chunks")
    letter, identity = pdf(3000), pdf(SEGMENT + 5)
    refs = await store.put_all_pending(
        [(Upload("a", "request_letter", letter), PDF), (Upload("b", "identity", identity), PDF)], "form", key
    )
    assert writes == ["files", "chunks"]
    assert [await store.read(ref.document_id) for ref in refs] == [letter, identity]
    assert [ref.size for ref in refs] == [len(letter), len(identity)]


async def test_a_second_file_that_fails_removes_the_first_too(mongo_db, vault, store):
    class Failing(io.BytesIO):
        def read(self, size: int = -1) -> bytes:
            if self.tell() >= 2 * SEGMENT:
                raise OSError("the spool file went away")
            return super().read(size)

    with pytest.raises(OSError, match="went away"):
        await store.put_all_pending(
            [(Upload("a", "k", pdf(9 * SEGMENT)), PDF), (Upload("b", "k", Failing(pdf(20 * SEGMENT))), PDF)],
            "both-gone",
            await vault.new_subject(),
        )
    assert await mongo_db["documents.files"].count_documents({"metadata.owner": "both-gone"}) == 0
    files = [doc["_id"] async for doc in mongo_db["documents.files"].find({}, {"_id": 1})]
    assert await mongo_db["documents.chunks"].count_documents({"files_id": {"$nin": files}}) == 0
