"""Reports (roles supervisor, admin): the audience report of a month as JSON, CSV or XLSX
(``format=`` or ``Accept``; ``reports.py``). The console draws its own charts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from serambi_kit import tabular
from serambi_kit.auth import Officer, require_roles

from .. import reports
from ..domain.time import wib
from .common import Ctx

router = APIRouter(prefix="/api/v1", tags=["reports"])
Reporter = Annotated[Officer, Depends(require_roles("supervisor", "admin"))]
Month = Annotated[str, Query(pattern=r"^(19|20|21)\d\d-(0[1-9]|1[0-2])$", description="YYYY-MM (WIB)")]
FILES = {200: {"content": {"application/json": {}, tabular.CSV_TYPE: {}, tabular.XLSX_TYPE: {}}}}


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
    report = await reports.monthly(request.app.state.runtime.db, month, datetime.now(UTC), ctx.calendar)
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
