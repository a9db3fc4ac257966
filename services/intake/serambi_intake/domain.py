"""Audience requests: pure decisions, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from serambi_contracts import Event
from serambi_contracts.intake import (
    IntakeChannel,
    Requester,
    RequestSubmitted,
    RequestWithdrawn,
)


class RequestError(Exception):
    """A command that the request's current state does not allow."""


class RequestExistsError(RequestError):
    """A request with this tracking code exists already."""


@dataclass(frozen=True, slots=True)
class SubmitRequest:
    tracking_code: str
    channel: IntakeChannel
    requester: Requester
    topic: str
    purpose: str
    participants: int
    proposed_dates: tuple[date, ...]
    submitted_at: datetime
    answer_due_at: datetime
    access_token_sha256: str


@dataclass(frozen=True, slots=True)
class WithdrawRequest:
    tracking_code: str
    withdrawn_at: datetime
    reason: str | None = None


def submit(history: Sequence[Event], command: SubmitRequest) -> list[Event]:
    if history:
        raise RequestExistsError(f"request {command.tracking_code} already exists")
    return [
        RequestSubmitted(
            tracking_code=command.tracking_code,
            channel=command.channel,
            requester=command.requester,
            topic=command.topic,
            purpose=command.purpose,
            participants=command.participants,
            proposed_dates=list(command.proposed_dates),
            submitted_at=command.submitted_at,
            answer_due_at=command.answer_due_at,
            access_token_sha256=command.access_token_sha256,
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
            reason=command.reason,
        )
    ]
