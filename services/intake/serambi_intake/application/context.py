"""What intake's use cases work with, built once by the composition root (``main.py``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from serambi_kit.eventstore import EventStore
from serambi_kit.idempotency import IdempotencyKeys
from serambi_kit.pii import Vault
from serambi_kit.resends import LinkResends

from .ports import Documents, RequestViews, SurveyRecords, TrackingCodes


@dataclass(frozen=True, slots=True)
class Intake:
    store: EventStore
    vault: Vault
    documents: Documents
    requests: RequestViews
    surveys: SurveyRecords
    tracking_codes: TrackingCodes
    answer_due: Callable[[datetime], datetime]  # domain.deadlines.answer_due on the live calendar
    idempotency: IdempotencyKeys | None = None  # None: no Idempotency-Key is honoured
    link_resends: LinkResends = field(default_factory=LinkResends)
