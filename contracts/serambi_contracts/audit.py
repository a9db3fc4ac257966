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


class PersonalDataErased(Event):
    """An administrator erased a person's personal data (UU 27/2022): the data-subject keys their
    identifiers found were deleted (crypto-shredding). Appended by the service that received the
    request, to ``<context>.erasure.<erasure id>``, before the keys are deleted. It names which
    kinds of identifier were given, never their values; the key ids are random and are recorded
    so the erasure can be repeated after a vault backup is restored."""

    context: ClassVar[str] = "audit"
    erasure_id: AggregateId
    officer: ShortText
    roles: list[ShortText] = Field(max_length=10)
    identifiers: list[ShortText] = Field(min_length=1, max_length=10, description="email, phone, nik, key")
    reference: ShortText = Field(description="the bureau's erasure register entry (not personal data)")
    key_ids: list[AggregateId] = Field(max_length=1000)
    requested_at: datetime
