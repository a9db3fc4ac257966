"""Personal data sealed per data subject, unreadable once the subject is erased."""

from __future__ import annotations

import os

import pytest
from serambi_contracts.base import Sealed
from serambi_kit.pii import Vault, VaultError, mask_email, mask_name, mask_phone

MASTER = os.urandom(32)


@pytest.fixture
def vault(mongo_db) -> Vault:
    return Vault(mongo_db, MASTER, cache_seconds=0)


async def test_a_sealed_value_reveals_to_its_clear_text_and_does_not_contain_it(vault):
    key = await vault.new_subject(["budi@example.go.id"])
    sealed = await vault.seal(key, "budi@example.go.id")
    assert "budi" not in sealed.model_dump_json()
    assert await vault.reveal(sealed) == "budi@example.go.id"
    assert await vault.reveal(sealed.model_dump()) == "budi@example.go.id"


@pytest.mark.parametrize("character", ["\U0001f600", "\u201c", "\u4e2d", "\U00020000"])
async def test_the_longest_text_seals_in_any_unicode(vault, character):
    key = await vault.new_subject()
    text = character * 5000  # 4-byte emoji and CJK extension B, 3-byte curly quotes and Chinese
    sealed = await vault.seal(key, text)
    assert await vault.reveal(Sealed.model_validate_json(sealed.model_dump_json())) == text


async def test_erasing_a_person_by_email_makes_every_value_of_theirs_unreadable(vault):
    first = await vault.new_subject(["Budi@Example.go.id", "+6281234567890"])
    second = await vault.new_subject(["budi@example.go.id"])
    other = await vault.new_subject(["siti@example.go.id"])
    values = [await vault.seal(k, "secret") for k in (first, second, other)]
    erased = await vault.erase_person("budi@example.go.id")
    assert sorted(erased) == sorted([first, second])
    assert [await vault.reveal(v) for v in values] == [None, None, "secret"]


async def test_the_lookup_index_holds_keyed_hashes_not_identifiers(vault, mongo_db):
    await vault.new_subject(["+6281234567890"])
    document = await mongo_db.data_keys.find_one()
    assert "6281234567890" not in str(document)


async def test_a_tampered_value_is_refused(vault):
    key = await vault.new_subject()
    sealed = await vault.seal(key, "Budi Santoso")
    forged = sealed.model_copy(update={"data": sealed.data[:-4] + "AAAA"})
    with pytest.raises(VaultError, match="tampered"):
        await vault.reveal(forged)


async def test_another_master_key_cannot_open_the_data_keys(vault, mongo_db):
    key = await vault.new_subject()
    sealed = await vault.seal(key, "x")
    with pytest.raises(VaultError, match="master key"):
        await Vault(mongo_db, os.urandom(32), cache_seconds=0).reveal(sealed)


def test_masks_keep_enough_to_recognise_and_nothing_more():
    assert mask_email("budi.santoso@example.go.id") == "b***@example.go.id"
    assert mask_phone("+6281234567890") == "+6281******890"
    assert mask_name("Budi Santoso") == "B*** S***"
