"""Intake's pure rules: requirements, document types, withdrawal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from serambi_contracts.base import Sealed
from serambi_contracts.intake import DocumentRef, InstitutionType, IntakeChannel, Requester, RequestWithdrawn
from serambi_intake.domain import requests as domain
from serambi_kit.documents import JPEG, PDF, PNG, DocumentError, Upload, check, sniff

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
SEALED = Sealed(key="k1", nonce="AAAAAAAAAAAAAAAA", data="AAAA")


def command(*kinds: str) -> domain.SubmitRequest:
    documents = tuple(
        DocumentRef(document_id=f"D{i}", kind=kind, media_type=PDF, sha256="0" * 64, size=1)
        for i, kind in enumerate(kinds)
    )
    requester = Requester(
        name=SEALED,
        position="Kabag",
        institution="Dinas",
        email=SEALED,
        institution_type=InstitutionType.LOCAL_GOVERNMENT,
    )
    return domain.SubmitRequest(
        tracking_code="AUD-2026-000001",
        channel=IntakeChannel.ONLINE,
        requester=requester,
        topic=SEALED,
        purpose=SEALED,
        participants=2,
        proposed_dates=(),
        documents=documents,
        submitted_at=NOW,
        answer_due_at=NOW,
        access_token_sha256="a" * 64,
    )


def test_a_complete_request_is_submitted_with_both_documents():
    [event] = domain.submit([], command("request_letter", "identity_document"))
    assert [d.kind for d in event.documents] == ["request_letter", "identity_document"]


@pytest.mark.parametrize(
    ("kinds", "missing"),
    [
        (("request_letter",), ["identity_document"]),
        ((), ["request_letter", "identity_document"]),
    ],
)
def test_an_incomplete_request_names_what_is_missing(kinds, missing):
    with pytest.raises(domain.IncompleteRequestError) as error:
        domain.submit([], command(*kinds))
    assert error.value.missing == missing


def test_a_tracking_code_cannot_be_submitted_twice():
    history = domain.submit([], command("request_letter", "identity_document"))
    with pytest.raises(domain.RequestExistsError):
        domain.submit(history, command("request_letter", "identity_document"))


def test_withdrawing_twice_changes_nothing():
    history = domain.submit([], command("request_letter", "identity_document"))
    withdraw = domain.WithdrawRequest("AUD-2026-000001", NOW)
    [withdrawn] = domain.withdraw(history, withdraw)
    assert isinstance(withdrawn, RequestWithdrawn)
    assert domain.withdraw([*history, withdrawn], withdraw) == []


@pytest.mark.parametrize(
    ("data", "media"),
    [
        (b"%PDF-1.7\n...", PDF),
        (b"\x89PNG\r\n\x1a\n....", PNG),
        (b"\xff\xd8\xff\xe1....", JPEG),
        (b"GIF89a....", None),
        (b"<html>", None),
        (b"", None),
    ],
)
def test_documents_are_typed_by_their_magic_bytes(data, media):
    assert sniff(data) == media


def test_a_document_check_names_the_field_and_the_rule():
    with pytest.raises(DocumentError) as error:
        check(Upload("identity_document", "identity_document", b"GIF89a"), frozenset({PNG}), 100)
    assert (error.value.field, error.value.rule, error.value.status) == (
        "identity_document",
        "unsupported_type",
        415,
    )
    with pytest.raises(DocumentError) as error:
        check(Upload("request_letter", "request_letter", b"%PDF-" + bytes(200)), frozenset({PDF}), 100)
    assert (error.value.rule, error.value.status) == ("too_large", 413)


def _asked_over(history: list, hours: list[float]) -> list[bool]:
    """Ask for the link again at each of ``hours`` after NOW: whether each was sent."""
    sent = []
    for hour in hours:
        new = domain.request_link(history, "AUD-2026-000001", NOW + timedelta(hours=hour))
        history = [*history, *new]
        sent.append(bool(new))
    return sent


def test_a_lost_link_is_sent_again_at_most_three_times_a_day():
    history = domain.submit([], command("request_letter", "identity_document"))
    quarter = 0.25
    sent = _asked_over(history, [0, quarter, 2 * quarter, 3 * quarter, 4 * quarter, 24.1])
    assert sent == [True, True, True, False, False, True]


def test_no_lost_link_is_sent_thirty_days_after_the_request_was_withdrawn():
    history = domain.submit([], command("request_letter", "identity_document"))
    history += domain.withdraw(history, domain.WithdrawRequest("AUD-2026-000001", NOW))
    assert _asked_over(history, [24 * 29, 24 * 30]) == [True, False]
