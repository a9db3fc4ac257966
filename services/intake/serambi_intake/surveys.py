"""The satisfaction survey's use cases: invite once per case, answer once per invitation, record
a paper questionnaire, and the report's figures (the pure parts are in ``survey``).

Once per case: the invitation is the case's aggregate ``intake.survey.<case code>`` (a second
invitation finds it and records nothing). Once per invitation: the answer's aggregate
``intake.response.<id>`` takes its id from the token, keyed (HMAC under a key derived from the PII
master key, a purpose of its own, different from the invitation's ``token_hmac``), so a second
answer finds it taken — the event store's expected version decides, even for two answers at the
same instant. Nothing in the answer names the case, and intake keeps no copy of the token: linking
an answer to its case needs the token itself (the citizen's link) and the master key.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from serambi_calendar import WIB
from serambi_contracts import AggregateRef, Event
from serambi_contracts.survey import (
    RespondentProfile,
    SurveyAnswered,
    SurveyChannel,
    SurveyInvited,
    SurveyScores,
    SurveyService,
)
from serambi_kit.eventstore import EventStore, deterministic_id, execute, retry_on_conflict
from serambi_kit.logging import redact
from serambi_kit.pii import Vault
from serambi_kit.tracking_links import new_access_token

from . import survey
from .projections import REQUESTS, SURVEY_INVITATIONS_COLLECTION, SURVEY_RESPONSES_COLLECTION

PAPER_ENTRIES = "survey_paper_entries"  # who typed in which paper questionnaire (audit, intake only)
DEFAULT_MAX_AGE = timedelta(days=7)  # IntakeSettings.survey_max_age_days


MAX_SUGGESTION = 2000  # characters, counted after scrubbing (SurveyAnswered.suggestion)


class SurveyError(Exception):
    """A survey command the invitation's state does not allow."""


class AlreadyAnsweredError(SurveyError):
    """This invitation (this case) has its answer already."""


class NoInvitationError(SurveyError):
    """No invitation for this token or case."""


def invitation_ref(case_code: str) -> AggregateRef:
    return AggregateRef("intake", "survey", case_code)


def response_ref(response_id: str) -> AggregateRef:
    return AggregateRef("intake", "response", response_id)


def token_hmac(vault: Vault, token: str) -> str:
    """The invitation's fingerprint of its token (``SurveyInvited.token_hmac``)."""
    return vault.keyed_digest("survey-token", token)


def response_id_for(vault: Vault, token: str) -> str:
    """The answer's id for an invitation's token: keyed (a link holder cannot compute it), not
    the invitation's fingerprint, nor derivable from the case code."""
    return "R" + vault.keyed_digest("survey-response", token)[:40]


def scrub(text: str | None) -> str | None:
    """A suggestion without e-mail addresses, phone numbers and NIKs (names cannot be found
    by pattern: the form asks not to write them)."""
    if text is None:
        return None
    cleaned = redact(text.replace("\r\n", "\n").strip())
    return cleaned or None


# -- invitations -----------------------------------------------------------------------------
def decide_invitation(history: Sequence[Event], invitation: SurveyInvited) -> list[Event]:
    return [] if history else [invitation]  # once per case, whatever is redelivered


async def invite(
    store: EventStore,
    vault: Vault,
    service: SurveyService,
    case_code: str,
    ended_at: datetime,
    *,
    now: datetime | None = None,
    max_age: timedelta = DEFAULT_MAX_AGE,
    found_with: Sequence[str] = (),
) -> bool:
    """Invite the case's citizen to the survey, once. True if this call recorded it.

    ``ended_at`` is the case's own ending (the audience's ``held_at``, the complaint's
    ``closed_at``): the invitation's time and so its period. An ending older than ``max_age``
    (before ``now``) is not invited: a consumer deployed for the first time reads its stream from
    the start, and years of past cases must not be sent a survey.

    The token is sealed under a data key of its own, found with ``found_with`` (the case's
    person's data keys): erasing that person (``Vault.erase_person``) shreds the token too."""
    if (now or now_utc()) - ended_at > max_age:
        return False
    ref = invitation_ref(case_code)
    if (await store.load(ref)).payloads:
        return False
    token = new_access_token()
    key = await vault.new_subject(found_with=found_with)
    invitation = SurveyInvited(
        case_code=case_code,
        service=service,
        invited_at=ended_at,
        token_hmac=token_hmac(vault, token),
        token=await vault.seal(key, token),
    )
    event_id = deterministic_id("survey-invited", case_code)

    async def attempt() -> bool:
        history = await store.load(ref)
        if not decide_invitation(history.payloads, invitation):
            return False
        appended = await store.append(
            ref,
            [invitation],
            expected_sequence=history.last_sequence,
            expected_version=history.version,
            event_ids=[event_id],
        )
        # a replica racing with the same event id: JetStream drops it as a duplicate, silently
        return not appended.duplicate

    recorded = await retry_on_conflict(attempt)
    if not recorded:  # another replica's invitation holds its own token and key
        await vault.erase_subject(key)
    return recorded


def _sealed_keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        if {"key", "nonce", "data"} <= value.keys() and isinstance(value["key"], str):
            return {value["key"]}
        return set().union(*(_sealed_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_sealed_keys(v) for v in value))
    return set()


async def request_subject_keys(db: AsyncDatabase, tracking_code: str) -> list[str]:
    """The data keys of a request's requester (what their erasure shreds), from the request view."""
    doc = await db[REQUESTS].find_one({"_id": tracking_code}, {"requester": 1, "identity_number": 1})
    return sorted(_sealed_keys(doc or {}))


async def invitation_by_token(db: AsyncDatabase, vault: Vault, token: str) -> dict[str, Any] | None:
    return await db[SURVEY_INVITATIONS_COLLECTION].find_one({"token_hmac": token_hmac(vault, token)})


async def answered(store: EventStore, response_id: str) -> bool:
    return bool((await store.load(response_ref(response_id))).payloads)


# -- answers ---------------------------------------------------------------------------------
def decide_answer(history: Sequence[Event], answer: SurveyAnswered) -> list[Event]:
    if history:
        raise AlreadyAnsweredError(f"response {answer.response_id} exists already")
    return [answer]


def build_answer(
    response_id: str,
    service: SurveyService,
    channel: SurveyChannel,
    scores: dict[str, int],
    profile: RespondentProfile,
    suggestion: str | None,
    now: datetime,
) -> SurveyAnswered:
    checked = survey.check_scores(scores)
    return SurveyAnswered(
        response_id=response_id,
        service=service,
        channel=channel,
        answered_on=now.astimezone(WIB).date(),
        scores=SurveyScores(**{code.lower(): value for code, value in checked.items()}),
        profile=profile,
        suggestion=scrub(suggestion),
    )


async def answer_online(
    store: EventStore,
    db: AsyncDatabase,
    vault: Vault,
    token: str,
    scores: dict[str, int],
    profile: RespondentProfile,
    suggestion: str | None,
    now: datetime,
) -> SurveyAnswered:
    invitation = await invitation_by_token(db, vault, token)
    if invitation is None:
        raise NoInvitationError("no survey with this token")
    response_id = response_id_for(vault, token)
    answer = build_answer(
        response_id,
        SurveyService(invitation["service"]),
        SurveyChannel.ONLINE,
        scores,
        profile,
        suggestion,
        now,
    )
    await execute(store, response_ref(response_id), lambda history: decide_answer(history, answer))
    return answer


async def answer_on_paper(
    store: EventStore,
    db: AsyncDatabase,
    service: SurveyService,
    officer: str,
    scores: dict[str, int],
    profile: RespondentProfile,
    suggestion: str | None,
    now: datetime,
) -> SurveyAnswered:
    """A paper questionnaire typed in at the desk, for ``service``: it stands alone (a random id)
    and never takes a case's online invitation, so the desk can neither answer nor block a
    citizen's survey, nor learn whether one answered. Who typed it (``officer``, the subject) is
    kept in intake's own ``survey_paper_entries``, not in the public answer."""
    response_id = "P" + uuid.uuid4().hex
    answer = build_answer(response_id, service, SurveyChannel.PAPER, scores, profile, suggestion, now)
    await db[PAPER_ENTRIES].insert_one({"_id": response_id, "officer": officer, "recorded_at": now})
    await execute(store, response_ref(response_id), lambda history: decide_answer(history, answer))
    return answer


# -- the report ------------------------------------------------------------------------------
async def report(db: AsyncDatabase, service: SurveyService, period: str) -> dict[str, Any]:
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


def now_utc() -> datetime:
    return datetime.now(UTC)
