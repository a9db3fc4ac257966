"""The vault's cache of unwrapped data keys is bounded (issue 19, item 10): least recently used
keys go first, and a key that left the cache is unwrapped again from the vault."""

from __future__ import annotations

import os
from typing import Any

from serambi_kit.pii import Vault
from serambi_kit.settings import ServiceSettings


class Keys:
    """The ``data_keys`` collection, in memory, counting reads."""

    def __init__(self) -> None:
        self.documents: dict[str, dict[str, Any]] = {}
        self.reads = 0

    async def insert_one(self, document: dict[str, Any]) -> None:
        self.documents[document["_id"]] = document

    async def find_one(self, query: dict[str, Any]) -> dict[str, Any] | None:
        self.reads += 1
        return self.documents.get(query["_id"])


def vault(size: int) -> tuple[Vault, Keys]:
    keys = Keys()
    return Vault({"data_keys": keys}, os.urandom(32), cache_seconds=60, cache_size=size), keys


async def test_the_key_cache_never_holds_more_than_its_size():
    bounded, _ = vault(size=3)
    for _ in range(50):
        await bounded.new_subject()
    assert bounded.cached_keys == 3


async def test_the_least_recently_used_key_leaves_first_and_is_read_again_when_needed():
    bounded, keys = vault(size=2)
    first, second = await bounded.new_subject(), await bounded.new_subject()
    sealed = await bounded.seal(first, "Siti")  # first is now the most recently used
    third = await bounded.new_subject()  # second leaves the cache
    reads = keys.reads
    assert await bounded.reveal(sealed) == "Siti"
    assert keys.reads == reads  # first was kept
    await bounded.seal(second, "Budi")
    assert keys.reads == reads + 1  # second was read from the vault again
    assert bounded.cached_keys == 2 and third


async def test_a_cache_size_of_zero_keeps_no_key():
    uncached, keys = vault(size=0)
    key = await uncached.new_subject()
    await uncached.seal(key, "x")
    await uncached.seal(key, "y")
    assert uncached.cached_keys == 0 and keys.reads == 2


def test_the_cache_size_is_a_setting_with_a_bounded_default():
    assert ServiceSettings(_env_file=None).pii_key_cache_size == 10_000
    assert ServiceSettings(_env_file=None, pii_key_cache_size=50).pii_key_cache_size == 50
