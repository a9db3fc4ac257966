"""A requester's reason for withdrawing is their own words: sealed under their data key in
RequestWithdrawn, never in clear in a public event (issue 19, item 10)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from serambi_contracts.intake import DocumentRef, InstitutionType, IntakeChannel, RequestWithdrawn
from serambi_intake.application import requests
from serambi_intake.application.requests import request_ref
from serambi_intake.application.submission import RequesterDetails, seal_requester
from serambi_intake.domain import requests as domain
from serambi_kit.eventstore import execute
from serambi_kit.eventstore.memory import InMemoryEventStore
from serambi_kit.pii import Vault

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
WORDS = "Jadwal bentrok; hubungi Budi Santoso 081234567890"


async def test_the_withdrawal_reason_is_sealed_with_the_requester_and_erased_with_them(mongo_db):
    vault = Vault(mongo_db, os.urandom(32), cache_seconds=0)
    store = InMemoryEventStore()
    requester, _ = await seal_requester(
        vault,
        RequesterDetails(
            "Yohanes Lim", "Ketua", "Kadin", InstitutionType.OTHER_INSTITUTION, "yohanes@example.org", None
        ),
    )
    submit = domain.SubmitRequest(
        tracking_code="AUD-2026-000001",
        channel=IntakeChannel.ONLINE,
        requester=requester,
        topic=await vault.seal(requester.name.key, "Forum investasi"),
        purpose=await vault.seal(requester.name.key, "Audiensi."),
        participants=2,
        proposed_dates=(),
        documents=tuple(
            DocumentRef(document_id=f"D{i}", kind=kind, media_type="application/pdf", sha256="0" * 64, size=1)
            for i, kind in enumerate(("request_letter", "identity_document"))
        ),
        submitted_at=NOW,
        answer_due_at=NOW,
        access_token_sha256="a" * 64,
    )
    await execute(store, request_ref("AUD-2026-000001"), lambda history: domain.submit(history, submit))
    await requests.withdraw_request(store, vault, "AUD-2026-000001", NOW, WORDS)
    [_, withdrawn] = (await store.load(request_ref("AUD-2026-000001"))).payloads
    assert isinstance(withdrawn, RequestWithdrawn) and withdrawn.reason is None
    assert "Budi" not in withdrawn.model_dump_json() and "081234567890" not in withdrawn.model_dump_json()
    assert withdrawn.reason_sealed.key == requester.name.key
    assert await vault.reveal(withdrawn.reason_sealed) == WORDS
    await vault.erase_person("yohanes@example.org")
    assert await vault.reveal(withdrawn.reason_sealed) is None
