"""A reply on the complaint's own channel that could not be delivered (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from serambi_contracts import Event
from serambi_contracts.base import Sealed
from serambi_contracts.complaints import ComplaintChannel, ComplaintReplyFailed, ReplyFailure, ReplyKind
from serambi_kit.eventids import deterministic_id

from .commands import UnknownComplaintError
from .state import fold


@dataclass(frozen=True, slots=True)
class ReplyFailed:
    tracking_code: str
    channel: ComplaintChannel
    reply: ReplyKind
    cause_event_id: str
    failed_at: datetime
    reason: ReplyFailure
    attempts: int
    error_code: int | None = None
    answer: Sealed | None = None


def decide_reply_failed(events: Sequence[Event], command: ReplyFailed) -> list[Event]:
    """Record the failure once per reply (its cause event), whatever the complaint's status."""
    if fold(events) is None:
        raise UnknownComplaintError(f"no complaint {command.tracking_code}")
    if any(
        isinstance(event, ComplaintReplyFailed) and event.cause_event_id == command.cause_event_id
        for event in events
    ):
        return []
    return [
        ComplaintReplyFailed(
            tracking_code=command.tracking_code,
            channel=command.channel,
            reply=command.reply,
            cause_event_id=command.cause_event_id,
            failed_at=command.failed_at,
            reason=command.reason,
            attempts=command.attempts,
            error_code=command.error_code,
            answer=command.answer,
        )
    ]


def reply_failed_event_id(command: ReplyFailed) -> str:
    """Deterministic, so two replicas reporting the same failure store it once."""
    return deterministic_id(command.tracking_code, command.cause_event_id, "reply-failed")
