"""What the routers share: the context, roles, bodies' building blocks and error responses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Path, Request, status
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field
from serambi_contracts.intake import DocumentRef
from serambi_kit.auth import Officer, require_roles
from serambi_kit.logging import redact
from serambi_kit.problems import problem

from ..application.context import Context
from ..domain.audience import Audience, Status
from ..domain.errors import (
    AudienceDayError,
    NotFoundError,
    ResourceExistsError,
    SlotRuleError,
    SlotTakenError,
    StateError,
)
from ..domain.time import wib

Scheduler = Annotated[Officer, Depends(require_roles("scheduler", "admin"))]
Admin = Annotated[Officer, Depends(require_roles("admin"))]
ResourceId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
AudienceId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,128}$")]
Text = Annotated[str, Field(min_length=1, max_length=300)]


def _nothing_personal(text: str) -> str:
    if redact(text) != text:
        raise ValueError(
            "must not hold an e-mail address, a phone number or a NIK: this reason "
            "is printed in the answer letter and published with the case in clear"
        )
    return text


#: A decline or reschedule reason: the bureau's answer, printed in the answer letter and kept in
#: clear in its event (docs/security.md, "Free text in public events"), so nothing shaped like a
#: contact or an ID number is accepted in it.
PublicText = Annotated[Text, AfterValidator(_nothing_personal)]
Instant = AwareDatetime


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScheduleOut(BaseModel):
    """Where and when (instants in WIB)."""

    starts_at: datetime
    ends_at: datetime
    room_id: str
    room: str
    host_id: str
    host: str
    location: str


class LetterOut(DocumentRef):
    url: str = Field(description="the letter's link: GET /api/v1/letters/{document_id}")


class AudienceSummaryOut(BaseModel):
    """An audience after a decision: its status, schedule and latest answer letter."""

    audience_id: str
    status: Status
    schedule: ScheduleOut | None
    answer_letter: LetterOut | None


def context(request: Request) -> Context:
    ctx = getattr(request.app.state, "scheduling", None)
    if ctx is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "scheduling is starting")
    return ctx


Ctx = Annotated[Context, Depends(context)]


def by(officer: Officer) -> str:
    return officer.subject[:300]


def summary(state: Audience) -> dict[str, Any]:
    p = state.placement
    return {
        "audience_id": state.audience_id,
        "status": state.status.value,
        "schedule": None
        if p is None
        else {
            "starts_at": wib(p.starts_at).isoformat(),
            "ends_at": wib(p.ends_at).isoformat(),
            "room_id": p.room_id,
            "room": p.room,
            "host_id": p.host_id,
            "host": p.host,
            "location": p.location,
        },
        "answer_letter": None
        if state.letter is None
        else {
            **state.letter.model_dump(mode="json"),
            "url": f"/api/v1/letters/{state.letter.document_id}",
        },
    }


def _json(status_code: int, error: str, detail: str, **extra: Any) -> JSONResponse:
    return problem(status_code, error, detail, **extra)


def install_error_handlers(app: FastAPI) -> None:
    async def slot_rule(_: Request, exc: SlotRuleError) -> JSONResponse:
        return _json(422, "slot_refused", exc.message, rule=exc.rule)

    async def slot_taken(_: Request, exc: SlotTakenError) -> JSONResponse:
        return _json(409, "slot_taken", exc.message, rule=exc.rule)

    async def wrong_state(_: Request, exc: StateError) -> JSONResponse:
        return _json(409, "wrong_state", str(exc))

    async def too_early(_: Request, exc: AudienceDayError) -> JSONResponse:
        return _json(409, "too_early", exc.message, rule=exc.rule, day=str(exc.day))

    async def exists(_: Request, exc: ResourceExistsError) -> JSONResponse:
        return _json(409, "exists", str(exc))

    async def not_found(_: Request, exc: NotFoundError) -> JSONResponse:
        return _json(404, "not_found", str(exc))

    app.add_exception_handler(SlotRuleError, slot_rule)
    app.add_exception_handler(SlotTakenError, slot_taken)
    app.add_exception_handler(StateError, wrong_state)
    app.add_exception_handler(AudienceDayError, too_early)
    app.add_exception_handler(ResourceExistsError, exists)
    app.add_exception_handler(NotFoundError, not_found)
