"""Erasing a person (UU 27/2022), as ``serambi personal-data erase`` and the admin API do it.

A person is found by any of their identifiers — email, phone (any written form, see
``phones.phone_identifier``), NIK — or by data-subject key ids an earlier erasure recorded (to
repeat it after a vault backup is restored). Erasing deletes those keys (``Vault``): every sealed
copy of the person's data becomes unreadable.
"""

from __future__ import annotations

from collections.abc import Iterable

from .phones import phone_identifier
from .pii import Vault

#: An erasure's register entry (``PersonalDataErased.reference``): the number of the request in
#: the bureau's erasure register, e.g. ``REG-PDP/2026/014`` — never free text, since the event is
#: mirrored to the integration bus and kept for ever (a name or a reason typed there could never
#: be erased). The API, the console form and the tests use this one rule.
REFERENCE = r"^[A-Za-z0-9./_-]{1,40}$"
REFERENCE_RULE = "a register number: 1 to 40 letters, digits and . / _ - (no spaces), e.g. REG-PDP/2026/014"


def identifiers(email: str | None = None, phone: str | None = None, nik: str | None = None) -> list[str]:
    """The identifiers as Serambi hashes them (a phone in its kept form), the empty ones left out."""
    return [value for value in (email, nik, phone_identifier(phone)) if value]


async def subjects(vault: Vault, found_by: Iterable[str], key_ids: Iterable[str] = ()) -> list[str]:
    """The key ids the identifiers find, with the given ones, sorted (nothing is erased)."""
    found = set(key_ids)
    for identifier in found_by:
        found.update(await vault.subjects_of(identifier))
    return sorted(found)


async def erase_keys(vault: Vault, key_ids: Iterable[str]) -> list[str]:
    """Delete these data-subject keys; returns those that existed."""
    return [key_id for key_id in key_ids if await vault.erase_subject(key_id)]


async def erase(vault: Vault, found_by: Iterable[str], key_ids: Iterable[str] = ()) -> list[str]:
    """Erase everyone the identifiers find and the given keys; returns the key ids erased."""
    return await erase_keys(vault, await subjects(vault, found_by, key_ids))
