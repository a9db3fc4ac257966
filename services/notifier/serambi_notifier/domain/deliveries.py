"""What planning decides for one event: a delivery per recipient and channel (:class:`Planned`),
with the recipient (:class:`Person`) and, if it cannot be sent, why."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from serambi_contracts.notifier import Channel, FailureCategory, RecipientKind

ERASED = "recipient erased"


@dataclass(frozen=True, slots=True)
class Person:
    kind: RecipientKind
    role: str
    name: str | None
    email: str | None
    phone: str | None
    erased: bool = False  # a citizen whose personal data was erased (crypto-shredded)
    key: str = ""  # stable identity for an erased person's delivery id


@dataclass(frozen=True)
class Planned:
    delivery_id: str
    notice: str
    channel: Channel
    recipient_kind: RecipientKind
    recipient_role: str
    address: str | None  # clear, in memory only
    recipient_masked: str
    recipient_hash: str
    language: str
    case_id: str | None
    attach: tuple[str, ...]
    context: dict[str, Any] = field(repr=False)
    problem: str | None = None
    not_before: datetime | None = None
    subject_key: str | None = None  # a citizen's data key: their delivery's errors are sealed with it

    def __repr__(self) -> str:  # never the clear address
        return f"Planned({self.delivery_id}, {self.notice}, {self.channel}, {self.recipient_masked})"

    @property
    def problem_category(self) -> FailureCategory | None:
        """What may be shown and published of ``problem`` (its text may quote the address)."""
        if self.problem is None:
            return None
        return FailureCategory.RECIPIENT_ERASED if self.problem == ERASED else FailureCategory.INVALID_ADDRESS
