"""Audit events: an officer saw personal data in clear (UU 27/2022 accountability)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from .base import AggregateId, Event, ShortText


class PersonalDataAccessed(Event):
    """An officer was shown a data subject's personal data in clear. Appended by the service
    that revealed it, to ``<context>.access.<case id>``; it names the fields, never their values."""

    context: ClassVar[str] = "audit"
    case_id: AggregateId
    officer: ShortText
    roles: list[ShortText] = Field(max_length=10)
    fields: list[ShortText] = Field(min_length=1, max_length=10)
    purpose: ShortText
    accessed_at: datetime
