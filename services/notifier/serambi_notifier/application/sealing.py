"""What the ledger keeps of a citizen's words and address: sealed under their data key, so
erasing the person erases them; an officer's kept with addresses masked."""

from __future__ import annotations

from typing import Any

from serambi_contracts.notifier import RecipientKind
from serambi_kit.logging import redact
from serambi_kit.pii import Vault, VaultError

from ..domain.deliveries import Planned


async def stored_detail(vault: Vault, subject_key: str | None, text: str | None) -> dict[str, Any] | None:
    """A provider's words (a bounce may quote the address or number) as the ledger keeps
    them: sealed with the citizen's data key — erasing the person erases them — or, for an
    officer, with addresses, numbers and NIKs masked. None once the citizen was erased."""
    if not text:
        return None
    if subject_key:
        try:
            return {"sealed": (await vault.seal(subject_key, text[:1000])).model_dump()}
        except VaultError:  # the person was erased meanwhile: nothing of theirs is kept
            return None
    return {"text": redact(text)[:300]}


async def sealed_recipient(vault: Vault, planned: Planned) -> dict[str, Any] | None:
    """A citizen's masked address as the ledger keeps it — sealed under their data key, so the
    delivery log shows it to supervisors while the person exists and never after an erasure
    (None: an officer, whose masked address is kept as it is, or a citizen already erased)."""
    if (
        planned.recipient_kind is not RecipientKind.CITIZEN
        or not planned.subject_key
        or planned.address is None
    ):
        return None
    try:
        return (await vault.seal(planned.subject_key, planned.recipient_masked)).model_dump()
    except VaultError:  # erased meanwhile: nothing of theirs is kept
        return None
