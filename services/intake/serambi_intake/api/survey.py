"""The satisfaction survey's API: the public questionnaire (by the invitation's token), the
desk's paper questionnaires and the supervisor's report."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator
from serambi_calendar import utc_now
from serambi_contracts.survey import (
    AgeBand,
    Education,
    Occupation,
    RespondentProfile,
    Sex,
    SurveyService,
)
from serambi_kit import tabular
from serambi_kit.auth import Officer, require_roles
from serambi_kit.bodylimit import ChecksFirstRoute, body_limit
from serambi_kit.ratelimit import rate_limited

from ..adapters import queries
from ..application import surveys
from ..domain import survey
from . import exports
from .deps import Ctx, Db

router = APIRouter(prefix="/api/v1", tags=["survey"], route_class=ChecksFirstRoute)
SurveyToken = Annotated[
    str, Header(alias="X-Survey-Token", min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")
]
Desk = Annotated[Officer, Depends(require_roles("desk", "admin"))]
Supervisor = Annotated[Officer, Depends(require_roles("supervisor", "admin"))]
ALREADY = "Survei untuk layanan ini sudah diisi. Setiap layanan hanya dapat dinilai satu kali. Terima kasih."
UNKNOWN = "Survei tidak ditemukan. Periksa kembali tautan dari email atau SMS Anda."
PERIOD = survey.PERIOD


def _error(code: int, field: str, rule: str, message: str) -> HTTPException:
    return HTTPException(code, {"errors": [{"field": field, "rule": rule, "message": message}]})


class ProfileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    age_band: AgeBand | None = None
    sex: Sex | None = None
    education: Education | None = None
    occupation: Occupation | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_absent(cls, value: Any) -> Any:
        return None if value == "" else value


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scores: dict[str, StrictInt] = Field(description="U1..U9, each the integer 1-4 (not true, not 4.0)")
    profile: ProfileIn = Field(default_factory=ProfileIn)
    suggestion: str | None = Field(
        default=None,
        description="saran, at most 2,000 characters once "
        "e-mail addresses, phone numbers and NIKs are removed",
    )

    @field_validator("suggestion")
    @classmethod
    def _scrubbed_then_counted(cls, value: str | None) -> str | None:
        cleaned = surveys.scrub(value)
        if cleaned is not None and len(cleaned) > surveys.MAX_SUGGESTION:
            raise ValueError(f"Saran paling banyak {surveys.MAX_SUGGESTION} karakter.")
        return cleaned

    @field_validator("scores")
    @classmethod
    def _nine_scores(cls, value: dict[str, int]) -> dict[str, int]:
        try:
            return survey.check_scores(value)
        except survey.InvalidAnswersError as exc:
            raise ValueError(str(exc)) from None


class PaperIn(AnswerIn):
    service: SurveyService = Field(description="the service the questionnaire rates")


class AnswerChoiceOut(BaseModel):
    score: int
    label: str


class ElementOut(BaseModel):
    code: str
    name: str
    question: str
    answers: list[AnswerChoiceOut]


class InstrumentOut(BaseModel):
    elements: list[ElementOut]


class SurveyOut(BaseModel):
    service: SurveyService
    answered: bool
    elements: list[ElementOut]
    message: str | None = Field(default=None, description="only once answered: it cannot be answered again")


class AnsweredOut(BaseModel):
    status: Literal["answered"]
    service: SurveyService


class PaperAnsweredOut(AnsweredOut):
    channel: Literal["paper"]


def instrument() -> list[dict[str, Any]]:
    return [
        {
            "code": e.code,
            "name": e.name,
            "question": e.question,
            "answers": [{"score": n, "label": label} for n, label in enumerate(e.answers, 1)],
        }
        for e in survey.ELEMENTS
    ]


@router.get("/survey/instrument", response_model=InstrumentOut)
async def get_instrument() -> dict[str, Any]:
    """The questionnaire: the nine elements, each with its four answers (PermenPANRB 14/2017)."""
    return {"elements": instrument()}


@router.get(
    "/survey",
    dependencies=[Depends(rate_limited("lookups"))],
    response_model=SurveyOut,
    response_model_exclude_unset=True,
)
async def get_survey(token: SurveyToken, intake: Ctx) -> dict[str, Any]:
    """The survey an invitation's token opens (header ``X-Survey-Token``): its service, whether
    it was answered, and the questionnaire."""
    invitation = await surveys.invitation_by_token(intake.surveys, intake.vault, token)
    if invitation is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, UNKNOWN)
    done = await surveys.answered(intake.store, surveys.response_id_for(intake.vault, token))
    return {
        "service": invitation["service"],
        "answered": done,
        "elements": instrument(),
        **({"message": ALREADY} if done else {}),
    }


@router.post(
    "/survey",
    status_code=status.HTTP_201_CREATED,
    response_model=AnsweredOut,
    dependencies=[Depends(rate_limited("submissions")), Depends(body_limit("max_survey_bytes"))],
    responses={
        404: {"description": "no survey with this token"},
        409: {"description": "this case's survey was answered already"},
    },
)
async def answer_survey(token: SurveyToken, body: AnswerIn, intake: Ctx) -> dict[str, Any]:
    """Answer the survey once (header ``X-Survey-Token``). Anonymous: the answer does not name
    the case or the person. A second answer is 409."""
    try:
        answer = await surveys.answer_online(
            intake.store,
            intake.surveys,
            intake.vault,
            token,
            body.scores,
            RespondentProfile(**body.profile.model_dump()),
            body.suggestion,
            utc_now(),
        )
    except surveys.NoInvitationError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, UNKNOWN) from None
    except surveys.AlreadyAnsweredError:
        raise _error(409, "token", "already_answered", ALREADY) from None
    return {"status": "answered", "service": answer.service.value}


@router.post(
    "/officer/survey/paper",
    status_code=status.HTTP_201_CREATED,
    response_model=PaperAnsweredOut,
    dependencies=[Depends(body_limit("max_survey_bytes"))],
)
async def record_paper(body: PaperIn, intake: Ctx, officer: Desk) -> dict[str, Any]:
    """Record a paper questionnaire (role desk) for ``service``: an answer of its own, never a
    case's online invitation. The officer who typed it is kept for audit, not in the answer."""
    answer = await surveys.answer_on_paper(
        intake.store,
        intake.surveys,
        body.service,
        officer.subject,
        body.scores,
        RespondentProfile(**body.profile.model_dump()),
        body.suggestion,
        utc_now(),
    )
    return {"status": "answered", "service": answer.service.value, "channel": "paper"}


class ElementFiguresOut(BaseModel):
    code: str
    name: str
    nrr: float | None
    weighted_nrr: float | None
    priority: bool


class SurveyReportOut(BaseModel):
    """The survey's figures as JSON (``domain/survey.py``); a withheld report (fewer respondents than
    ``min_respondents``) shows no figure that could be a person's own answers."""

    service: SurveyService
    period: str
    population: int
    population_basis: str
    sample_size: int = Field(description="Krejcie-Morgan's, for the population")
    respondents: int
    elements: list[ElementFiguresOut]
    ikm: float | None
    category: str | None
    category_label: str | None
    priorities: list[str]
    channels: dict[str, int]
    profile: dict[str, dict[str, int]]
    suggestions: list[str]
    min_respondents: int
    withheld: bool
    withheld_reason: str | None = Field(default=None, description="only in a withheld report")


# JSON (documented by the model, not filtered by it), CSV or XLSX
FILES = {
    200: {
        "model": SurveyReportOut,
        "content": {"application/json": {}, tabular.CSV_TYPE: {}, tabular.XLSX_TYPE: {}},
    }
}


@router.get("/officer/survey/report", response_model=None, responses=FILES)
async def survey_report(
    request: Request,
    db: Db,
    _: Supervisor,
    service: SurveyService,
    period: Annotated[str, Query(pattern=PERIOD, description="YYYY, YYYY-S1, YYYY-S2 or YYYY-MM")],
    format: Literal["json", "csv", "xlsx"] | None = Query(  # noqa: A002 - the parameter's public name
        None, description="json (default), csv or xlsx; without it, the Accept header decides"
    ),
    table: Literal["ringkasan", "unsur", "profil", "saran"] | None = Query(
        None, description="csv only: that one table as a plain CSV (default: every table, titled)"
    ),
) -> dict[str, Any] | Response:
    """The survey's figures for a service and a period (roles supervisor, admin): respondents,
    the Krejcie–Morgan sample size for the period's population (the cases invited in it), NRR
    per element with the lowest flagged as priorities, IKM and category, suggestions — as JSON,
    CSV or XLSX (``exports.survey_tables``; a withheld report's files withhold the same)."""
    fmt = tabular.negotiate(format, request.headers.get("accept"))
    tabular.only_for_csv(table, fmt)
    report = await queries.survey_report(db, service, period)
    if fmt == "json":
        return report
    return tabular.respond(exports.survey_tables(report), fmt, f"survei-{service.value}-{period}", only=table)
