"""Personal data at rest: envelope encryption with a key per data subject (crypto-shredding).

Each data subject (a requester or complainant of one case) gets a random 256-bit data key, kept
in the vault — MongoDB database ``serambi_vault``, collection ``data_keys`` — wrapped with the
master key (``SERAMBI_PII_MASTER_KEY``, from the environment or a KMS-fed secret). Events and
read models hold only :class:`~serambi_contracts.base.Sealed` values. Erasing a subject deletes
its key; from then on every copy of its data, replays included, is unreadable.

Keyed hashes (HMAC-SHA256 with a key derived from the master key) of the subject's email, phone
and NIK are kept beside the key so a person can be found for erasure without storing them.
Processes cache unwrapped keys for ``cache_seconds`` (default 60): an erasure is complete in
every process within that time. The cache holds at most ``cache_size`` keys (default 10,000; the
least recently used goes first), so a process that reads many people's data — a rebuild, the
notifier over a year of cases — keeps a bounded number of unwrapped keys in memory.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from serambi_contracts.base import Sealed

from .mongo import Database

KEYS = "data_keys"
ERASURES = "data_key_erasures"  # key id → when it was erased (random ids, no personal data)
DEFAULT_CACHE_SIZE = 10_000


class VaultError(Exception):
    """The vault is misconfigured or a sealed value was tampered with."""


class SubjectErased(VaultError):
    """Nothing can be sealed for this data subject: their key was erased (or never existed)."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_master_key(text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as exc:
        raise VaultError("SERAMBI_PII_MASTER_KEY: not base64") from exc
    if len(key) != 32:
        raise VaultError("SERAMBI_PII_MASTER_KEY: must encode exactly 32 bytes")
    return key


class Vault:
    def __init__(
        self,
        db: Database,
        master_key: bytes,
        cache_seconds: float = 60.0,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        self.keys = db[KEYS]
        self._db = db
        self._wrap = AESGCM(master_key)
        self._lookup_key = hmac.new(master_key, b"serambi-pii-lookup", hashlib.sha256).digest()
        # key id → (cipher, expiry), least recently used first
        self._cache: OrderedDict[str, tuple[AESGCM, float]] = OrderedDict()
        self.cache_seconds = cache_seconds
        self.cache_size = cache_size

    def _remember(self, key_id: str, cipher: AESGCM) -> None:
        if self.cache_size <= 0 or self.cache_seconds <= 0:
            return
        self._cache[key_id] = (cipher, time.monotonic() + self.cache_seconds)
        self._cache.move_to_end(key_id)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    @property
    def cached_keys(self) -> int:
        """How many unwrapped data keys this process holds in memory now."""
        return len(self._cache)

    def lookup_hash(self, identifier: str) -> str:
        """Keyed hash of an email, phone (E.164) or NIK, normalised to lower case."""
        normalised = identifier.strip().lower().encode()
        return hmac.new(self._lookup_key, normalised, hashlib.sha256).hexdigest()

    def keyed_digest(self, purpose: str, value: str) -> str:
        """HMAC-SHA-256 of ``value`` as it is (not normalised) for ``purpose``, under a key
        derived from the master key: a secret's public fingerprint that someone holding the
        secret cannot compute (a survey token's, in the survey's public event)."""
        message = purpose.encode() + b"\0" + value.encode()
        return hmac.new(self._lookup_key, message, hashlib.sha256).hexdigest()

    async def new_subject(
        self, identifiers: Iterable[str | None] = (), found_with: Iterable[str] = ()
    ) -> str:
        """Create a data key for a new data subject; ``identifiers`` make it findable for erasure.
        ``found_with``: key ids of the same person's other data (e.g. the request a guest came
        for): whatever finds those finds this one too (their keyed hashes are copied; nothing
        is revealed)."""
        key_id = "k" + uuid.uuid4().hex
        data_key = AESGCM.generate_key(256)
        nonce = os.urandom(12)
        lookup = {self.lookup_hash(i) for i in identifiers if i}
        for other in found_with:
            document = await self.keys.find_one({"_id": other}, {"lookup": 1})
            lookup.update((document or {}).get("lookup", ()))
        await self.keys.insert_one(
            {
                "_id": key_id,
                "wrapped": nonce + self._wrap.encrypt(nonce, data_key, key_id.encode()),
                "lookup": sorted(lookup),
                "created_at": datetime.now(UTC),
            }
        )
        self._remember(key_id, AESGCM(data_key))
        return key_id

    async def _cipher(self, key_id: str) -> AESGCM | None:
        cached = self._cache.get(key_id)
        if cached and cached[1] > time.monotonic():
            self._cache.move_to_end(key_id)
            return cached[0]
        self._cache.pop(key_id, None)
        document = await self.keys.find_one({"_id": key_id})
        if document is None:
            self._cache.pop(key_id, None)
            return None
        wrapped = bytes(document["wrapped"])
        try:
            data_key = self._wrap.decrypt(wrapped[:12], wrapped[12:], key_id.encode())
        except Exception as exc:  # noqa: BLE001 — InvalidTag: wrong master key or tampering
            raise VaultError(f"data key {key_id} cannot be unwrapped with this master key") from exc
        cipher = AESGCM(data_key)
        self._remember(key_id, cipher)
        return cipher

    async def data_cipher(self, key_id: str) -> AESGCM | None:
        """The subject's data key as a cipher (documents are sealed with it), None once erased."""
        return await self._cipher(key_id)

    async def seal(self, key_id: str, value: str) -> Sealed:
        cipher = await self._cipher(key_id)
        if cipher is None:
            raise SubjectErased(f"no data key {key_id} (erased?)")
        nonce = os.urandom(12)
        return Sealed(
            key=key_id, nonce=_b64(nonce), data=_b64(cipher.encrypt(nonce, value.encode(), key_id.encode()))
        )

    async def reveal(self, sealed: Sealed | dict[str, Any] | None) -> str | None:
        """The clear value, or None when absent or its subject was erased."""
        if sealed is None:
            return None
        if isinstance(sealed, dict):
            sealed = Sealed.model_validate(sealed)
        cipher = await self._cipher(sealed.key)
        if cipher is None:
            return None
        try:
            return cipher.decrypt(_unb64(sealed.nonce), _unb64(sealed.data), sealed.key.encode()).decode()
        except Exception as exc:  # noqa: BLE001 — InvalidTag
            raise VaultError(f"sealed value under {sealed.key} was tampered with") from exc

    async def seal_bytes(self, key_id: str, data: bytes, associated: bytes) -> bytes:
        """A small document (whole in memory: an answer letter) sealed under the subject's key:
        a random 96-bit nonce, then the AES-256-GCM ciphertext and tag. ``associated`` (the
        document's id) binds it to its place: :meth:`open_bytes` needs the same. Raises
        :class:`SubjectErased` when the subject's key is gone. Large files are sealed in
        segments instead (``serambi_kit.documents``)."""
        cipher = await self._cipher(key_id)
        if cipher is None:
            raise SubjectErased(f"no data key {key_id} (erased?)")
        nonce = os.urandom(12)
        return nonce + cipher.encrypt(nonce, data, key_id.encode() + b"\x00" + associated)

    async def open_bytes(self, key_id: str, sealed: bytes, associated: bytes) -> bytes | None:
        """What :meth:`seal_bytes` sealed, or None once the subject was erased."""
        cipher = await self._cipher(key_id)
        if cipher is None:
            return None
        try:
            return cipher.decrypt(sealed[:12], sealed[12:], key_id.encode() + b"\x00" + associated)
        except Exception as exc:  # noqa: BLE001 — InvalidTag
            raise VaultError(f"a document sealed under {key_id} was tampered with or moved") from exc

    async def erase_subject(self, key_id: str) -> bool:
        """Delete the subject's key; the first erasure's time is kept (``erased_at``)."""
        await self._db[ERASURES].update_one(
            {"_id": key_id}, {"$setOnInsert": {"erased_at": datetime.now(UTC)}}, upsert=True
        )
        deleted = (await self.keys.delete_one({"_id": key_id})).deleted_count == 1
        self._cache.pop(key_id, None)  # after the delete: a read meanwhile may have cached it again
        return deleted

    async def erased_at(self, key_id: str) -> datetime | None:
        """When the subject's key was erased (None: not erased, or erased before this was kept)."""
        found = await self._db[ERASURES].find_one({"_id": key_id})
        at = found.get("erased_at") if found else None
        return at if at is None or at.tzinfo else at.replace(tzinfo=UTC)

    async def erasures_since(self, since: datetime) -> list[tuple[str, datetime]]:
        """The (key id, ``erased_at``) of the erasures recorded at or after ``since``, oldest
        first: a service that keeps links of its own to a subject's data (not sealed, e.g. a
        channel's conversation state) follows them to forget those links."""
        found = self._db[ERASURES].find({"erased_at": {"$gte": since}}).sort("erased_at", 1)
        return [
            (
                doc["_id"],
                doc["erased_at"] if doc["erased_at"].tzinfo else doc["erased_at"].replace(tzinfo=UTC),
            )
            async for doc in found
        ]

    async def subjects_of(self, identifier: str) -> list[str]:
        """The key ids of every data subject an email, phone or NIK finds (nothing is erased)."""
        digest = self.lookup_hash(identifier)
        return [doc["_id"] async for doc in self.keys.find({"lookup": digest}, {"_id": 1})]

    async def erase_person(self, identifier: str) -> list[str]:
        """Erase every data subject found by an email, phone or NIK. Returns the erased key ids."""
        key_ids = await self.subjects_of(identifier)
        for key_id in key_ids:
            await self.erase_subject(key_id)
        return key_ids


async def reveal_text(vault: Vault, value: Sealed | dict[str, Any] | str | None) -> str | None:
    """A data subject's free text as events and read models hold it: sealed (revealed; None once
    the subject was erased), or a clear ``str`` that an event version before sealing recorded
    (returned as it is: it was published so). None when absent."""
    if value is None or isinstance(value, str):
        return value
    return await vault.reveal(value)


def mask_email(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None if email is None else "***"
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return None
    return phone[:5] + "*" * max(len(phone) - 8, 0) + phone[-3:]


def mask_name(name: str | None) -> str | None:
    if not name:
        return None
    return " ".join(part[:1] + "***" for part in name.split())
