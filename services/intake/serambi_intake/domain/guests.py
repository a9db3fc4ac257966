"""The guest book (buku tamu): a walk-in guest's registration, and who may export guests' names.

Names are masked unless the export asks for them in clear by a role that keeps the guest book:
the desk, which records the guests, and admin — the view recorded first as a
PersonalDataAccessed audit event. The scheduler, who may see a requester's contact to arrange
an audience, has no need of a month of guests' names, and a supervisor exports the guest book
with names masked too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from serambi_contracts import Event
from serambi_contracts.base import Sealed
from serambi_contracts.intake import GuestRegistered

#: The roles that may export guests' names in clear (audited).
CLEAR_NAME_ROLES = frozenset({"desk", "admin"})


def period(day: date | None, month: str | None) -> tuple[str, str, str]:
    """(first day, day after the last, label) as ISO day strings for ``day`` or ``month``."""
    if day is not None:
        return day.isoformat(), date.fromordinal(day.toordinal() + 1).isoformat(), day.isoformat()
    assert month is not None
    year, number = int(month[:4]), int(month[5:])
    after = date(year + number // 12, number % 12 + 1, 1)
    return f"{month}-01", after.isoformat(), month


@dataclass(frozen=True, slots=True)
class RegisterGuest:
    guest_id: str
    name: Sealed  # sealed under the guest's data key
    institution: str
    purpose: str
    arrived_at: datetime
    recorded_by: str
    request_tracking_code: str | None = None


def register(history: Sequence[Event], command: RegisterGuest) -> list[Event]:
    if history:
        return []  # a retried registration changes nothing
    return [
        GuestRegistered(
            guest_id=command.guest_id,
            guest_name=command.name,
            institution=command.institution,
            purpose=command.purpose,
            arrived_at=command.arrived_at,
            recorded_by=command.recorded_by,
            request_tracking_code=command.request_tracking_code,
        )
    ]
