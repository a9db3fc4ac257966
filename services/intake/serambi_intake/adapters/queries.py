"""Reads of intake's read models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from serambi_contracts.survey import SurveyChannel, SurveyService
from serambi_kit.pagination import PageRequest
from serambi_kit.pii import Vault, mask_email, mask_name, mask_phone, reveal_text
from serambi_kit.tracking_links import token_matches

from ..domain import survey
from .projections import GUESTS, ORDER, REQUESTS, SURVEY_INVITATIONS_COLLECTION, SURVEY_RESPONSES_COLLECTION

STATUSES = ("submitted", "in_review", "scheduled", "declined", "held", "no_show", "cancelled", "withdrawn")


def status_of(document: dict[str, Any]) -> str:
    """Withdrawal by the requester wins; otherwise scheduling's latest word; else submitted."""
    if document.get("withdrawn_at"):
        return "withdrawn"
    return document.get("audience_status") or "submitted"


def answer_due_of(document: dict[str, Any]) -> datetime:
    """The answer deadline: scheduling's, once a calendar revision moved it; else the request's."""
    return document.get("audience_answer_due_at") or document["answer_due_at"]


def status_query(status: str) -> dict[str, Any]:
    if status == "withdrawn":
        return {"withdrawn_at": {"$type": "date"}}
    not_withdrawn = {"withdrawn_at": {"$not": {"$type": "date"}}}
    if status == "submitted":
        return {**not_withdrawn, "audience_status": None}
    return {**not_withdrawn, "audience_status": status}


def _letter_url(letters_base: str, document_id: str | None) -> str | None:
    return f"{letters_base.rstrip('/')}/api/v1/letters/{document_id}" if document_id else None


async def tracking_view(
    db: AsyncDatabase, vault: Vault, tracking_code: str, token: str, letters_base: str
) -> dict[str, Any] | None:
    """The public view of one request, or None when the code is unknown or the token wrong.
    It holds nothing personal: no names, addresses, numbers or documents."""
    document = await db[REQUESTS].find_one({"_id": tracking_code})
    expected = (document or {}).get("access_token_sha256")
    if not token_matches(expected, token):
        return None
    if await vault.reveal(document["requester"]["name"]) is None:
        return None  # the requester was erased: their link answers like an unknown one
    timeline = []
    for entry in sorted(document["timeline"], key=lambda item: (item["at"], item.get(ORDER, ""))):
        entry = dict(entry)
        entry.pop(ORDER, None)  # the projection's tie-breaker, not the requester's business
        if "letter" in entry:
            entry["letter"] = _letter_url(letters_base, entry["letter"])
        sealed_reason = entry.pop("reason_sealed", None)
        if sealed_reason:  # an officer's reason for cancelling, sealed under the requester's key
            entry["reason"] = await reveal_text(vault, sealed_reason)
        timeline.append(entry)
    return {
        "tracking_code": document["tracking_code"],
        "status": status_of(document),
        "institution": document["institution"],
        "topic": await reveal_text(vault, document["topic"]),
        "submitted_at": document["submitted_at"],
        "answer_due_at": answer_due_of(document),
        "schedule": document.get("schedule"),
        "timeline": timeline,
    }


@dataclass(frozen=True, slots=True)
class RequestFilter:
    status: str | None = None
    institution: str | None = None
    submitted_from: datetime | None = None
    submitted_to: datetime | None = None

    def query(self) -> dict[str, Any]:
        query: dict[str, Any] = {"submitted_at": {"$type": "date"}}
        if self.status:
            query.update(status_query(self.status))
        if self.institution:
            query["institution"] = self.institution
        if self.submitted_from or self.submitted_to:
            query["submitted_at"] = {
                key: value
                for key, value in (("$gte", self.submitted_from), ("$lt", self.submitted_to))
                if value is not None
            }
        return query


async def officer_list(
    db: AsyncDatabase, vault: Vault, where: RequestFilter, paging: PageRequest
) -> dict[str, Any]:
    """A page of requests, newest first, with the requester's contact masked."""
    collection = db[REQUESTS]
    query = where.query()
    total = await collection.count_documents(query)
    cursor = collection.find(query).sort("submitted_at", -1).skip(paging.skip).limit(paging.size)
    items = []
    async for document in cursor:
        requester = document["requester"]
        items.append(
            {
                "tracking_code": document["tracking_code"],
                "status": status_of(document),
                "channel": document["channel"],
                "institution": document["institution"],
                "institution_type": document["institution_type"],
                "topic": await reveal_text(vault, document["topic"]),  # None once erased
                "participants": document["participants"],
                "submitted_at": document["submitted_at"],
                "answer_due_at": answer_due_of(document),
                "schedule": document.get("schedule"),
                "requester": {
                    "name": mask_name(await vault.reveal(requester["name"])),
                    "position": requester["position"],
                    "email": mask_email(await vault.reveal(requester.get("email"))),
                    "phone": mask_phone(await vault.reveal(requester.get("phone"))),
                },
                "documents": [
                    {k: d[k] for k in ("document_id", "kind", "media_type", "size")}
                    for d in document.get("documents", [])
                ],
            }
        )
    return paging.answer(items, total)


async def requester_contact(db: AsyncDatabase, vault: Vault, tracking_code: str) -> dict[str, Any] | None:
    """The requester's contact in clear (None values once erased); None if no such request."""
    document = await db[REQUESTS].find_one({"_id": tracking_code, "requester": {"$exists": True}})
    if document is None:
        return None
    requester = document["requester"]
    return {field: await vault.reveal(requester.get(field)) for field in ("name", "email", "phone")}


async def guest_book(db: AsyncDatabase, vault: Vault, day: date) -> list[dict[str, Any]]:
    """The guests of one day (WIB), in arrival order, names masked."""
    guests = []
    async for guest in db[GUESTS].find({"day": day.isoformat()}).sort("arrived_at", 1):
        guests.append(
            {
                "guest_id": guest["guest_id"],
                "name": mask_name(await vault.reveal(guest["name"])),
                "institution": guest["institution"],
                "purpose": guest["purpose"],
                "arrived_at": guest["arrived_at"],
                "recorded_by": guest["recorded_by"],
                "request_tracking_code": guest.get("request_tracking_code"),
            }
        )
    return guests


async def survey_report(db: AsyncDatabase, service: SurveyService, period: str) -> dict[str, Any]:
    """The figures of one service and period (``YYYY``, ``YYYY-S1``/``S2``, ``YYYY-MM``).

    The population is the number of cases invited in the period (one invitation per ended case:
    audiences held, complaints closed); the sample size is Krejcie–Morgan's for it."""
    months = survey.months_of(period)
    where = {"service": service.value, "month": {"$in": months}}
    population = await db[SURVEY_INVITATIONS_COLLECTION].count_documents(where)
    responses = [doc async for doc in db[SURVEY_RESPONSES_COLLECTION].find(where).sort("answered_on", 1)]
    figures = survey.compute(doc["scores"] for doc in responses)
    profile: dict[str, dict[str, int]] = {}
    for doc in responses:
        for field, value in (doc.get("profile") or {}).items():
            if value:
                profile.setdefault(field, {})
                profile[field][value] = profile[field].get(value, 0) + 1
    shown = {
        "service": service.value,
        "period": period,
        "population": population,
        "population_basis": "cases invited in the period (audiences held, complaints closed)",
        "sample_size": survey.sample_size(population),
        **survey.figures_json(figures),
        "channels": {
            channel.value: sum(1 for d in responses if d.get("channel") == channel.value)
            for channel in SurveyChannel
        },
        "profile": profile,
        # the texts alone, in alphabetical order: neither a day nor the order of answering,
        # which could point a reader to the case answered that day
        "suggestions": sorted(doc["suggestion"] for doc in responses if doc.get("suggestion")),
        "min_respondents": survey.MIN_RESPONDENTS,
        "withheld": False,
    }
    if 0 < figures.respondents < survey.MIN_RESPONDENTS:
        return survey.withheld(shown)
    return shown
