"""The working calendar as the services count it, and its revisions (role admin).

``GET /api/v1/calendar/working-days?year=`` lists the year's holidays, cuti bersama and changed
days from the live calendar (the override file plus every revision). ``POST`` records a revision —
a ``[[day]]`` entry made after the file: add, remove or move a day, with its decree — as
``WorkingDayRevised`` on ``scheduling.calendar.working-days``, then this replica reads it and
moves the open answer deadlines it changes (AudienceDeadlineMoved); the other replicas and the
other services read it within ``SERAMBI_CALENDAR_REFRESH_SECONDS`` (complaints moves its open
deadlines then: ComplaintDeadlineMoved).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel, Field, model_validator
from serambi_calendar import RevisionError, check_change
from serambi_contracts.scheduling import WorkingDayRevised
from serambi_kit.calendars import CALENDAR
from serambi_kit.eventstore import execute

from .common import Admin, Body, Scheduler, by

router = APIRouter(prefix="/api/v1/calendar/working-days", tags=["calendar"])
Year = Annotated[int, Query(ge=2000, le=2100)]


class RevisionBody(Body):
    action: Literal["add", "remove", "move"]
    day: date
    to: date | None = None
    holiday_name: str | None = Field(default=None, max_length=300)
    decree: str = Field(min_length=1, max_length=300)

    @model_validator(mode="after")
    def _within_reach(self) -> RevisionBody:
        this_year = datetime.now(UTC).year
        for value in filter(None, (self.day, self.to)):
            if not this_year - 1 <= value.year <= this_year + 2:
                raise ValueError(
                    f"{value} is outside the years a revision may change ({this_year - 1}-{this_year + 2})"
                )
        return self


class CalendarDayOut(BaseModel):
    date: date
    name: str
    source: Literal["package", "override"]
    reference: str
    non_working: bool = Field(description="false: a change made it a working day again")


class WorkingDaysOut(BaseModel):
    year: int
    revision: str = Field(description="the live calendar's revision")
    days: list[CalendarDayOut]
    revisions: list[WorkingDayRevised] = Field(description="the revisions that change a day of the year")


class RevisionOut(BaseModel):
    revision: int
    calendar_revision: str
    moved: int = Field(description="the open answer deadlines moved on this replica")
    revised: WorkingDayRevised


def _service(request: Request) -> Any:
    service = getattr(request.app.state, "scheduling_service", None)
    if service is None or service.context is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "scheduling is starting")
    return service


def _entry(day: Any) -> dict[str, Any]:
    return {
        "date": day.date.isoformat(),
        "name": day.name,
        "source": day.source,
        "reference": day.reference,
        "non_working": day.non_working,
    }


@router.get("", response_model=WorkingDaysOut)
async def working_days(request: Request, year: Year, _: Scheduler) -> dict[str, Any]:
    """The year's non-working days (and days a change made working again), with their source:
    ``package`` (the holidays package) or ``override`` (the file or a revision)."""
    service = _service(request)
    await service.revisions.refresh()
    calendar = service.calendar
    return {
        "year": year,
        "revision": calendar.revision,
        "days": [_entry(day) for day in calendar.days(year)],
        "revisions": [
            event.model_dump(mode="json")
            for event in service.revisions.events
            if year in (event.day.year, event.to.year if event.to else None)
        ],
    }


@router.post("", status_code=status.HTTP_201_CREATED, response_model=RevisionOut)
async def revise_calendar(request: Request, body: RevisionBody, officer: Admin) -> dict[str, Any]:
    """Record a revision and move the open answer deadlines it changes (on this replica now; the
    others and complaints within their refresh interval)."""
    service = _service(request)
    await service.revisions.refresh()
    try:
        check_change(service.calendar, body.action, body.day, body.holiday_name, body.decree, body.to)
    except RevisionError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            {"errors": [{"field": exc.field, "rule": exc.rule, "message": exc.message}]},
        ) from None

    def decide(history: list) -> list:
        return [
            WorkingDayRevised(
                revision=len(history) + 1,
                action=body.action,
                day=body.day,
                to=body.to,
                holiday_name=(body.holiday_name or "").strip() or None,
                decree=body.decree.strip(),
                revised_by=by(officer),
            )
        ]

    [event] = await execute(service.context.store, CALENDAR, decide)
    moved = await service.refresh_calendar()
    return {
        "revision": event.revision,
        "calendar_revision": service.calendar.revision,
        "moved": moved,
        "revised": event.model_dump(mode="json"),
    }
