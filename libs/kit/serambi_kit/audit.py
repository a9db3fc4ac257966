"""Recording that an officer saw personal data in clear (docs/security.md)."""

from __future__ import annotations

from datetime import UTC, datetime

from serambi_contracts import AggregateRef
from serambi_contracts.audit import PersonalDataAccessed

from .auth import Officer
from .eventstore import EventStore, execute


async def record_access(
    store: EventStore, context: str, case_id: str, officer: Officer, fields: list[str], purpose: str
) -> None:
    """Append PersonalDataAccessed to ``<context>.access.<case_id>`` before the data is shown."""
    event = PersonalDataAccessed(
        case_id=case_id,
        officer=officer.subject,
        roles=sorted(officer.roles),
        fields=fields,
        purpose=purpose,
        accessed_at=datetime.now(UTC),
    )
    await execute(store, AggregateRef(context, "access", case_id), lambda _history: [event])
