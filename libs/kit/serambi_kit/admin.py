"""Admin-only HTTP routes a service shares with the ``serambi`` command: its dead letters (every
service, ``dead_letters_router``) and erasing a person's personal data (``erasure_router``, on
the one service that takes the requests: intake).

They use the same code as ``serambi dead-letters`` (``DeadLetters``) and ``serambi personal-data
erase`` (``erasure``). The admin console (``/petugas/admin/``) calls them with the officer's
relayed token; the role is ``admin``.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field
from serambi_contracts import AggregateRef, Event
from serambi_contracts.audit import PersonalDataErased

from . import erasure
from .auth import Officer, require_roles
from .deadletters import DeadLetters, not_redrivable
from .eventstore import execute
from .logging import get_logger
from .pagination import Page, PageRequest, page_query
from .problems import problem
from .state import kit_state, service_runtime

log = get_logger(__name__)
Admin = Annotated[Officer, Depends(require_roles("admin"))]
STATUSES = ("open", "redrive", "redriving", "redriven")


def _letter(document: dict[str, Any]) -> dict[str, Any]:
    """A record as the API shows it: without the payload (the command line's ``--json`` has it)."""
    headers = document.get("headers") or {}
    return {
        "id": document["_id"],
        "consumer": document.get("consumer"),
        "stream": document.get("stream"),
        "subject": document.get("subject"),
        "sequence": document.get("sequence"),
        "type": headers.get("ce-type"),
        "deliveries": document.get("deliveries"),
        "reason": document.get("reason"),
        "status": document.get("status"),
        "recorded_at": _utc(document.get("recorded_at")),
        "redrives": document.get("redrives", 0),
        "redrive_requested_at": _utc(document.get("redrive_requested_at")),
        "payload_bytes": len(document.get("payload") or b""),
        "redrivable": not_redrivable(document) is None,
        "not_redrivable": not_redrivable(document),  # why not, and what to do instead
    }


def _utc(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def _cursor(text: str | None) -> tuple[datetime, str] | None:
    """``<recorded_at ISO>|<id>`` of the last record of the previous page."""
    if not text:
        return None
    at, _, letter_id = text.partition("|")
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or not letter_id:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            {
                "errors": [
                    {
                        "field": "before",
                        "rule": "cursor",
                        "message": "before: the next_before of a previous page",
                    }
                ]
            },
        )
    return moment.astimezone(UTC), letter_id


class DeadLetterOut(BaseModel):
    """A dead letter, without its payload."""

    id: str
    consumer: str | None
    stream: str | None
    subject: str | None
    sequence: int | None
    type: str | None = Field(description="the event's CloudEvents type")
    deliveries: int | None
    reason: str | None
    status: str | None
    recorded_at: str | None = Field(description="ISO 8601, UTC")
    redrives: int
    redrive_requested_at: str | None = Field(description="ISO 8601, UTC")
    payload_bytes: int
    redrivable: bool
    not_redrivable: str | None = Field(description="why a redrive cannot take it, and what to do instead")


class DeadLetterPageOut(Page[DeadLetterOut]):
    service: str
    status: str | None
    next_before: str | None = Field(
        description="the ``before`` of the records after this page (a cursor that stays put while "
        "new records arrive); null on the last page"
    )


class RedriveOut(BaseModel):
    id: str
    status: Literal["redrive"]


def dead_letters_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1/admin/dead-letters", tags=["admin"])

    @router.get("", response_model=DeadLetterPageOut)
    async def list_dead_letters(
        request: Request,
        _: Admin,
        pages: Annotated[PageRequest, Depends(page_query(default=25, maximum=100))],
        status_: Annotated[Literal[STATUSES] | None, Query(alias="status")] = "open",  # type: ignore[valid-type]
        before: Annotated[
            str | None,
            Query(max_length=300, description="a previous page's ``next_before``: page on from there"),
        ] = None,
    ) -> dict[str, Any]:
        """This service's dead letters, newest first, ``page`` by ``page`` (``total`` counts them
        all); ``status`` open (default), redrive, redriving or redriven. ``before`` (a page's
        ``next_before``) starts the pages after that page's last record, so that records recorded
        in between do not shift them."""
        letters = DeadLetters(service_runtime(request).db)
        found = await letters.list(status_, limit=pages.size + 1, before=_cursor(before), skip=pages.skip)
        shown = found[: pages.size]
        last = shown[-1] if shown and len(found) > pages.size else None
        return pages.answer(
            [_letter(d) for d in shown],
            await letters.count(status_),
            service=kit_state(request).settings.service,
            status=status_,
            next_before=f"{_utc(last['recorded_at'])}|{last['_id']}" if last else None,
        )

    @router.post(
        "/{letter_id:path}/redrive",
        response_model=RedriveOut,
        responses={
            409: {"description": "not open, or not redrivable (``errors[0].rule`` ``not_redrivable``)"}
        },
    )
    async def redrive_dead_letter(
        request: Request,
        officer: Admin,
        letter_id: Annotated[str, Path(min_length=1, max_length=300)],
    ) -> Any:
        """Mark an open record for the running service to handle again (``serambi dead-letters
        redrive --id``): 404 without such a record; 409 when it is not open, or when a redrive
        cannot take it (an item not read from a stream: ``errors[0].rule`` ``not_redrivable``,
        the message saying what to do instead)."""
        letters = DeadLetters(service_runtime(request).db)
        if await letters.mark_for_redrive(letter_id) == 0:
            current = await letters.collection.find_one({"_id": letter_id}, {"payload": 0})
            if current is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"no dead letter {letter_id}")
            if (why := not_redrivable(current)) is not None:
                return problem(
                    status.HTTP_409_CONFLICT,
                    "not_redrivable",
                    why,
                    errors=[{"field": "id", "rule": "not_redrivable", "message": why}],
                )
            raise HTTPException(
                status.HTTP_409_CONFLICT, f"dead letter {letter_id} is {current.get('status')}, not open"
            )
        log.info("deadletter.redrive_requested", letter=letter_id, officer=officer.subject)
        return {"id": letter_id, "status": "redrive"}

    return router


NIK = r"^[0-9]{16}$"
EMAIL = r"^[^@\s]{1,64}@[^@\s]{1,253}$"
PHONE = r"^\+?[0-9 ().-]{6,32}$"


class ErasureBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str | None = Field(default=None, max_length=254, pattern=EMAIL)
    phone: str | None = Field(default=None, max_length=32, pattern=PHONE)
    nik: str | None = Field(default=None, pattern=NIK)
    key_ids: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,128}$")]] = Field(
        default_factory=list,
        max_length=100,
        description="data-subject keys an earlier erasure recorded (to repeat it after a restore)",
    )
    reference: str = Field(
        pattern=erasure.REFERENCE,
        description="the bureau's erasure register entry for this request: "
        + erasure.REFERENCE_RULE
        + " (it is kept in PersonalDataErased for ever)",
    )


class ErasureOut(BaseModel):
    erasure_id: str
    key_ids: list[str]
    erased_now: int = Field(description="the keys deleted by this call")
    identifiers: list[str] = Field(description="the kinds of identifier given: email, phone, nik, key")
    reference: str
    requested_at: str = Field(description="ISO 8601, UTC")
    repeated: bool = Field(description="true: the same Idempotency-Key's erasure, done again")


def erasure_router(context: str) -> APIRouter:
    """``POST /api/v1/admin/personal-data/erase``: PersonalDataErased is appended to
    ``<context>.erasure.<id>`` (who, which kinds of identifier, the register entry, the key ids)
    before the keys are deleted; with the same ``Idempotency-Key`` a repeat answers the recorded
    erasure and deletes its keys again (harmless), so a retry after a failure finishes it."""
    router = APIRouter(prefix="/api/v1/admin/personal-data", tags=["admin"])

    @router.post("/erase", response_model=ErasureOut)
    async def erase_person(
        request: Request,
        body: ErasureBody,
        officer: Admin,
        idempotency_key: Annotated[
            str | None, Header(alias="Idempotency-Key", min_length=8, max_length=128)
        ] = None,
    ) -> dict[str, Any]:
        kinds = [kind for kind in ("email", "phone", "nik") if getattr(body, kind)]
        kinds += ["key"] if body.key_ids else []
        if not kinds:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_ENTITY,
                {
                    "errors": [
                        {
                            "field": "email",
                            "rule": "identifier_required",
                            "message": "give an email, a phone number, a NIK or key ids",
                        }
                    ]
                },
            )
        runtime = service_runtime(request)
        erasure_id = (
            "e" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
            if idempotency_key
            else "e" + uuid.uuid4().hex
        )
        ref = AggregateRef(context, "erasure", erasure_id)
        key_ids = await erasure.subjects(
            runtime.vault, erasure.identifiers(body.email, body.phone, body.nik), body.key_ids
        )
        event = PersonalDataErased(
            erasure_id=erasure_id,
            officer=officer.subject[:300],
            roles=sorted(officer.roles),
            identifiers=kinds,
            reference=body.reference,
            key_ids=key_ids,
            requested_at=datetime.now(UTC),
        )

        def decide(history: list[Event]) -> list[Event]:
            return [] if history else [event]

        appended = await execute(runtime.store, ref, decide)
        if not appended:  # a repeat: the erasure recorded first is the one done (again)
            recorded = (await runtime.store.load(ref)).payloads[0]
            if not isinstance(recorded, PersonalDataErased):
                raise TypeError(f"{ref}: {type(recorded).__name__}, not PersonalDataErased")
            key_ids, event = recorded.key_ids, recorded
        erased = await erasure.erase_keys(runtime.vault, key_ids)
        log.info(
            "personal_data.erased",
            erasure=erasure_id,
            officer=officer.subject,
            identifiers=kinds,
            keys=len(key_ids),
            repeated=not appended,
        )
        return {
            "erasure_id": erasure_id,
            "key_ids": key_ids,
            "erased_now": len(erased),
            "identifiers": event.identifiers,
            "reference": event.reference,
            "requested_at": event.requested_at.isoformat(),
            "repeated": not appended,
        }

    return router
