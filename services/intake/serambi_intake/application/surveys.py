"""The satisfaction survey's use cases: invite once per case, answer once per invitation, record
a paper questionnaire (the decisions and the figures are ``domain/survey.py``; the report reads
``adapters/queries.py``).

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
from datetime import datetime, timedelta
from typing import Any

from serambi_calendar import utc_now
from serambi_contracts import AggregateRef
from serambi_contracts.survey import (
    RespondentProfile,
    SurveyAnswered,
    SurveyChannel,
    SurveyInvited,
    SurveyService,
)
from serambi_kit.eventstore import EventStore, decide_and_append, deterministic_id, execute
from serambi_kit.logging import redact
from serambi_kit.pii import Vault
from serambi_kit.tracking_links import new_access_token

from ..domain import survey
from ..domain.survey import AlreadyAnsweredError, NoInvitationError, SurveyError
from .ports import SurveyRecords

__all__ = ["AlreadyAnsweredError", "NoInvitationError", "SurveyError"]  # the routes' errors
DEFAULT_MAX_AGE = timedelta(days=7)  # IntakeSettings.survey_max_age_days


MAX_SUGGESTION = 2000  # characters, counted after scrubbing (SurveyAnswered.suggestion)


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
    if (now or utc_now()) - ended_at > max_age:
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

    executed = await decide_and_append(
        store,
        ref,
        lambda history: [invitation] if survey.decide_invitation(history, invitation) else [],
        event_ids=lambda _: [event_id],
        cached=False,
    )
    # a replica racing with the same event id: JetStream drops it as a duplicate, silently
    recorded = bool(executed.new) and not executed.duplicate
    if not recorded:  # another replica's invitation holds its own token and key
        await vault.erase_subject(key)
    return recorded


async def invitation_by_token(records: SurveyRecords, vault: Vault, token: str) -> dict[str, Any] | None:
    return await records.invitation(token_hmac(vault, token))


async def answered(store: EventStore, response_id: str) -> bool:
    return bool((await store.load(response_ref(response_id))).payloads)


# -- answers ---------------------------------------------------------------------------------
async def answer_online(
    store: EventStore,
    records: SurveyRecords,
    vault: Vault,
    token: str,
    scores: dict[str, int],
    profile: RespondentProfile,
    suggestion: str | None,
    now: datetime,
) -> SurveyAnswered:
    invitation = await invitation_by_token(records, vault, token)
    if invitation is None:
        raise NoInvitationError("no survey with this token")
    response_id = response_id_for(vault, token)
    answer = survey.answer(
        response_id,
        SurveyService(invitation["service"]),
        SurveyChannel.ONLINE,
        scores,
        profile,
        scrub(suggestion),
        now,
    )
    await execute(store, response_ref(response_id), lambda history: survey.decide_answer(history, answer))
    return answer


async def answer_on_paper(
    store: EventStore,
    records: SurveyRecords,
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
    kept in intake's own paper entries (``SurveyRecords.record_paper``), not in the public answer."""
    response_id = "P" + uuid.uuid4().hex
    answer = survey.answer(response_id, service, SurveyChannel.PAPER, scores, profile, scrub(suggestion), now)
    await records.record_paper(response_id, officer, now)
    await execute(store, response_ref(response_id), lambda history: survey.decide_answer(history, answer))
    return answer
