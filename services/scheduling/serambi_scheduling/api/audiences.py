"""Officer routes (role scheduler, or admin): audience details and decisions, queue, calendars."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from serambi_contracts.intake import DocumentRef
from serambi_kit.http import runtime_of
from serambi_kit.pagination import Page, PageRequest, page_query

from ..adapters import queries
from ..application import commands
from ..application.commands import SlotChoice
from ..application.placement import audience_ref
from ..domain.audience import audience_of
from ..domain.time import wib_day
from .common import (
    AudienceId,
    AudienceSummaryOut,
    Body,
    Ctx,
    Instant,
    PublicText,
    ResourceId,
    Scheduler,
    Text,
    by,
    summary,
)
from .letters import LETTER, letter_response

router = APIRouter(prefix="/api/v1", tags=["audiences"])
MAX_CALENDAR_DAYS = 62


class SlotBody(Body):
    room_id: ResourceId
    host_id: ResourceId
    starts_at: Instant
    ends_at: Instant | None = None

    def choice(self) -> SlotChoice:
        return SlotChoice(self.room_id, self.host_id, self.starts_at, self.ends_at)


class RescheduleBody(SlotBody):
    reason: PublicText  # in the new answer letter, in clear in AudienceRescheduled


class DeclineBody(Body):
    reason: PublicText  # in the answer letter, in clear in AudienceDeclined


class ReasonBody(Body):
    reason: Text  # sealed under the requester's key in AudienceCancelled


class HeldBody(Body):
    held_at: Instant | None = None
    notes: str | None = Field(default=None, max_length=2000)  # AudienceHeld's own limit


class NoShowBody(Body):
    notes: str | None = Field(default=None, max_length=2000)


class _Document(BaseModel):
    """A read-model document: the keys below where it has them (instants in WIB), and any other
    key as stored."""

    model_config = ConfigDict(extra="allow")


class BookedSlotOut(_Document):
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    room_id: str | None = None
    room: str | None = None
    host_id: str | None = None
    host: str | None = None
    location: str | None = None
    booking_id: str | None = None


class SlaStateOut(_Document):
    warned_percent: int | None = None
    warned_at: datetime | None = None
    breached_at: datetime | None = None


class StepOut(_Document):
    """A timeline entry: its step and time, and the step's own details."""

    step: str
    at: datetime
    by: str | None = None
    reason: str | None = Field(default=None, description="in clear; null once the requester was erased")
    percent: int | None = None
    previous_starts_at: datetime | None = None
    previous_due_at: datetime | None = None
    due_at: datetime | None = None
    calendar_revision: str | None = None
    reminder: str | None = None
    starts_at: datetime | None = None


class AudienceOut(_Document):
    """The audiences read model's document; the sealed texts in clear (null once erased)."""

    audience_id: str | None = None
    request_tracking_code: str | None = None
    status: str | None = None
    topic: str | None = None
    institution: str | None = None
    institution_type: str | None = None
    requester_position: str | None = None
    participants: int | None = None
    proposed_dates: list[date] | None = None
    submitted_at: datetime | None = None
    answer_due_at: datetime | None = None
    received_at: datetime | None = None
    channel: str | None = None
    answered: bool | None = None
    schedule: BookedSlotOut | None = None
    answer_letter: DocumentRef | None = None
    referral_reason: str | None = None
    decline_reason: str | None = None
    held_at: datetime | None = None
    notes: str | None = None
    cancel_reason: str | None = None
    withdrawn: bool | None = None
    sla: SlaStateOut | None = None
    timeline: list[StepOut] | None = None


class QueuedAudienceOut(AudienceOut):
    queue: Literal["pending", "at_risk", "breached"]


class QueueOut(Page[QueuedAudienceOut]):
    """The items without their timelines."""

    view: Literal["pending", "at_risk", "breached"]
    count: int = Field(description="the items on this page (``total``: on every page)")


class BookingOut(_Document):
    """A booking of a room or host, with its audience's topic, institution and status
    (``pending`` while the audience does not hold it yet)."""

    resource: str
    resource_id: str
    day: date
    booking_id: str
    audience_id: str
    starts_at: datetime
    ends_at: datetime
    topic: str | None
    institution: str | None
    audience_status: str | None


class RoomCalendarOut(BaseModel):
    room_id: str
    from_: date = Field(alias="from")
    to: date
    bookings: list[BookingOut]


class HostCalendarOut(BaseModel):
    host_id: str
    from_: date = Field(alias="from")
    to: date
    bookings: list[BookingOut]


class DayCalendarOut(BaseModel):
    day: date
    bookings: list[BookingOut]


@router.get("/audiences/{audience_id}", response_model=AudienceOut, response_model_exclude_unset=True)
async def audience_details(audience_id: AudienceId, request: Request, _: Scheduler) -> dict[str, Any]:
    runtime = runtime_of(request)
    document = await queries.audience_details(runtime.db, runtime.vault, audience_id)
    if document is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no audience {audience_id}")
    return document


@router.get("/audiences/{audience_id}/letter", response_class=Response, responses=LETTER)
async def audience_letter(audience_id: AudienceId, ctx: Ctx, request: Request, _: Scheduler) -> Response:
    """The audience's latest answer letter (PDF); 410 once the requester was erased."""
    state = audience_of((await ctx.store.load(audience_ref(audience_id))).payloads)
    if state is None or state.letter is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"audience {audience_id} has no answer letter")
    return await letter_response(request, state.letter.document_id)


@router.post("/audiences/{audience_id}/confirm", response_model=AudienceSummaryOut)
async def confirm(audience_id: AudienceId, ctx: Ctx, officer: Scheduler) -> dict[str, Any]:
    """Confirm the held proposal: the audience is scheduled at the proposed slot."""
    return summary(await commands.confirm(ctx, audience_id, by(officer)))


@router.post("/audiences/{audience_id}/slot", response_model=AudienceSummaryOut)
async def choose_slot(
    audience_id: AudienceId, body: SlotBody, ctx: Ctx, officer: Scheduler
) -> dict[str, Any]:
    """Schedule an undecided audience at another slot than proposed (or when none was)."""
    return summary(await commands.choose_slot(ctx, audience_id, body.choice(), by(officer)))


@router.post("/audiences/{audience_id}/reschedule", response_model=AudienceSummaryOut)
async def reschedule(
    audience_id: AudienceId, body: RescheduleBody, ctx: Ctx, officer: Scheduler
) -> dict[str, Any]:
    choice = body.choice()
    return summary(await commands.reschedule(ctx, audience_id, choice, body.reason, by(officer)))


@router.post("/audiences/{audience_id}/decline", response_model=AudienceSummaryOut)
async def decline(audience_id: AudienceId, body: DeclineBody, ctx: Ctx, officer: Scheduler) -> dict[str, Any]:
    return summary(await commands.decline(ctx, audience_id, body.reason, by(officer)))


@router.post("/audiences/{audience_id}/held", response_model=AudienceSummaryOut)
async def mark_held(audience_id: AudienceId, body: HeldBody, ctx: Ctx, officer: Scheduler) -> dict[str, Any]:
    return summary(await commands.mark_held(ctx, audience_id, by(officer), body.held_at, body.notes))


@router.post("/audiences/{audience_id}/no-show", response_model=AudienceSummaryOut)
async def mark_no_show(
    audience_id: AudienceId, body: NoShowBody, ctx: Ctx, officer: Scheduler
) -> dict[str, Any]:
    """The requester did not come (once the slot has started): AudienceNoShow, a final outcome."""
    return summary(await commands.mark_no_show(ctx, audience_id, by(officer), body.notes))


@router.post("/audiences/{audience_id}/cancel", response_model=AudienceSummaryOut)
async def cancel(audience_id: AudienceId, body: ReasonBody, ctx: Ctx, officer: Scheduler) -> dict[str, Any]:
    return summary(await commands.cancel(ctx, audience_id, body.reason, by(officer)))


@router.get("/queue", response_model=QueueOut, response_model_exclude_unset=True)
async def officer_queue(
    request: Request,
    _: Scheduler,
    pages: Annotated[PageRequest, Depends(page_query(default=200, maximum=200))],
    view: Literal["pending", "at_risk", "breached"] = "pending",
) -> dict[str, Any]:
    """Undecided audiences: all (pending), those past a warning (at_risk), past the deadline;
    the most urgent first, a page at a time."""
    runtime = runtime_of(request)
    found = await queries.officer_queue(runtime.db, runtime.vault, view, pages)
    return {**found, "view": view, "count": len(found["items"])}


def _range(day_from: date | None, day_to: date | None) -> tuple[date, date]:
    first = day_from or wib_day(datetime.now(UTC))
    last = day_to or first
    if last < first or (last - first) > timedelta(days=MAX_CALENDAR_DAYS):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            f"from..to must be ordered and at most {MAX_CALENDAR_DAYS} days apart",
        )
    return first, last


@router.get("/calendar/rooms/{room_id}", response_model=RoomCalendarOut)
async def room_calendar(
    room_id: str,
    request: Request,
    _: Scheduler,
    day_from: date | None = Query(None, alias="from"),
    day_to: date | None = Query(None, alias="to"),
) -> dict[str, Any]:
    first, last = _range(day_from, day_to)
    runtime = runtime_of(request)
    rows = await queries.calendar(runtime.db, runtime.vault, first, last, "room", room_id)
    return {"room_id": room_id, "from": first.isoformat(), "to": last.isoformat(), "bookings": rows}


@router.get("/calendar/hosts/{host_id}", response_model=HostCalendarOut)
async def host_calendar(
    host_id: str,
    request: Request,
    _: Scheduler,
    day_from: date | None = Query(None, alias="from"),
    day_to: date | None = Query(None, alias="to"),
) -> dict[str, Any]:
    first, last = _range(day_from, day_to)
    runtime = runtime_of(request)
    rows = await queries.calendar(runtime.db, runtime.vault, first, last, "host", host_id)
    return {"host_id": host_id, "from": first.isoformat(), "to": last.isoformat(), "bookings": rows}


@router.get("/calendar/days/{day}", response_model=DayCalendarOut)
async def day_calendar(day: date, request: Request, _: Scheduler) -> dict[str, Any]:
    runtime = runtime_of(request)
    rows = await queries.calendar(runtime.db, runtime.vault, day, day)
    return {"day": day.isoformat(), "bookings": rows}
