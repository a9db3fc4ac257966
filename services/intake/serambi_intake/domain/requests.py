"""Audience requests: submit, withdraw, send the tracking link again. Pure decisions, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from serambi_contracts import Event
from serambi_contracts.base import Sealed
from serambi_contracts.intake import (
    DocumentRef,
    IntakeChannel,
    Requester,
    RequestLinkRequested,
    RequestSubmitted,
    RequestWithdrawn,
)
from serambi_kit.resends import LinkResends

REQUIRED_DOCUMENTS = ("request_letter", "identity_document")


class RequestError(Exception):
    """A command that the request's current state does not allow."""


class RequestExistsError(RequestError):
    """A request with this tracking code exists already."""


class IncompleteRequestError(RequestError):
    """A requirement of the service standard is missing."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(f"incomplete request: missing {', '.join(missing)}")
        self.missing = missing


@dataclass(frozen=True, slots=True)
class SubmitRequest:
    tracking_code: str
    channel: IntakeChannel
    requester: Requester
    topic: Sealed  # the requester's own words, sealed under their data key
    purpose: Sealed
    participants: int
    proposed_dates: tuple[date, ...]
    documents: tuple[DocumentRef, ...]
    submitted_at: datetime
    answer_due_at: datetime
    access_token_sha256: str
    received_at: datetime | None = None
    identity_number: Sealed | None = None
    recorded_by: str | None = None
    access_token: Sealed | None = None  # the token itself, sealed for the notifier's link

    def with_code(self, tracking_code: str) -> SubmitRequest:
        return replace(self, tracking_code=tracking_code)


@dataclass(frozen=True, slots=True)
class WithdrawRequest:
    tracking_code: str
    withdrawn_at: datetime
    reason: Sealed | None = None  # the requester's words, sealed under their data key


def missing_documents(kinds: Sequence[str]) -> list[str]:
    return [kind for kind in REQUIRED_DOCUMENTS if kind not in kinds]


def submit(history: Sequence[Event], command: SubmitRequest) -> list[Event]:
    if history:
        raise RequestExistsError(f"request {command.tracking_code} already exists")
    missing = missing_documents([document.kind for document in command.documents])
    if missing:
        raise IncompleteRequestError(missing)
    return [
        RequestSubmitted(
            tracking_code=command.tracking_code,
            channel=command.channel,
            requester=command.requester,
            topic=command.topic,
            purpose=command.purpose,
            participants=command.participants,
            proposed_dates=list(command.proposed_dates),
            documents=list(command.documents),
            submitted_at=command.submitted_at,
            answer_due_at=command.answer_due_at,
            received_at=command.received_at,
            identity_number=command.identity_number,
            recorded_by=command.recorded_by,
            access_token_sha256=command.access_token_sha256,
            access_token=command.access_token,
        )
    ]


def withdraw(history: Sequence[Event], command: WithdrawRequest) -> list[Event]:
    if not history:
        raise RequestError(f"request {command.tracking_code} does not exist")
    if any(isinstance(event, RequestWithdrawn) for event in history):
        return []  # withdrawing twice changes nothing
    return [
        RequestWithdrawn(
            tracking_code=command.tracking_code,
            withdrawn_at=command.withdrawn_at,
            reason_sealed=command.reason,
        )
    ]


def request_link(
    history: Sequence[Event],
    tracking_code: str,
    now: datetime,
    policy: LinkResends = LinkResends(),
) -> list[Event]:
    """Send the tracking link again: nothing for an unknown request, nor when ``policy`` refuses
    (too soon, too often today, withdrawn long ago); the caller answers the same either way."""
    if not history:
        return []
    asked = [event.requested_at for event in history if isinstance(event, RequestLinkRequested)]
    withdrawn = [event.withdrawn_at for event in history if isinstance(event, RequestWithdrawn)]
    if not policy.allow(asked, withdrawn[0] if withdrawn else None, now):
        return []
    return [RequestLinkRequested(tracking_code=tracking_code, requested_at=now)]
