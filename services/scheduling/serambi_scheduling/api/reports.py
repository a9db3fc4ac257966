"""Reports (roles supervisor, admin): the audience report of a month as JSON, CSV or XLSX
(``format=`` or ``Accept``; ``reports.py``). The console draws its own charts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from serambi_kit import tabular
from serambi_kit.auth import Officer, require_roles
from serambi_kit.http import runtime_of

from ..adapters import reports
from ..domain.time import wib
from .common import Ctx

router = APIRouter(prefix="/api/v1", tags=["reports"])
Reporter = Annotated[Officer, Depends(require_roles("supervisor", "admin"))]
Month = Annotated[str, Query(pattern=r"^(19|20|21)\d\d-(0[1-9]|1[0-2])$", description="YYYY-MM (WIB)")]


class LateAudienceOut(BaseModel):
    code: str
    channel: str
    submitted_at: datetime
    answer_due_at: datetime
    answered_at: datetime | None = Field(description="null: unanswered, past its deadline")


class AudienceReportLabelsOut(BaseModel):
    channels: dict[str, str]
    outcomes: dict[str, str]


class AudienceReportOut(BaseModel):
    """The month's audience report as JSON (instants in WIB); ``reports.py`` tells each figure."""

    month: str
    submitted: int
    answered: int
    due: int
    on_time: int
    breached: int
    open_past_due: int
    on_time_rate: float | None = Field(description="on_time / due; null when none is due")
    channels: dict[str, int]
    outcomes: dict[str, int]
    late: list[LateAudienceOut]
    median_answer_working_hours: float | None
    median_answer_working_days: float | None
    labels: AudienceReportLabelsOut = Field(description="the channels' and outcomes' Indonesian names")


# JSON (documented by the model, not filtered by it), CSV or XLSX
FILES = {
    200: {
        "model": AudienceReportOut,
        "content": {"application/json": {}, tabular.CSV_TYPE: {}, tabular.XLSX_TYPE: {}},
    }
}


@router.get("/reports/audiences", response_model=None, responses=FILES)
async def audience_report(
    request: Request,
    _: Reporter,
    ctx: Ctx,
    month: Month,
    format: Literal["json", "csv", "xlsx"] | None = Query(  # noqa: A002 - the parameter's public name
        None, description="json (default), csv or xlsx; without it, the Accept header decides"
    ),
    table: Literal["ringkasan", "kanal", "hasil", "terlambat"] | None = Query(
        None, description="csv only: that one table as a plain CSV (default: every table, titled)"
    ),
) -> dict[str, Any] | Response:
    """Audiences requested in the month: per channel, answered within the 3-working-day
    deadline (the late ones listed), outcomes, the median working time to answer."""
    report = await reports.monthly(runtime_of(request).db, month, datetime.now(UTC), ctx.calendar)
    fmt = tabular.negotiate(format, request.headers.get("accept"))
    tabular.only_for_csv(table, fmt)
    if fmt == "json":  # the late ones' instants in WIB, as the other officer routes show them
        return {
            **report,
            "late": [
                {key: wib(value) if isinstance(value, datetime) else value for key, value in row.items()}
                for row in report["late"]
            ],
        }
    return tabular.respond(reports.tables(report), fmt, f"audiensi-{month}", only=table)
