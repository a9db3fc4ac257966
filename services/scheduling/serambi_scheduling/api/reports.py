"""Reports (roles supervisor, admin): the audience answers' on-time rate for a month."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from serambi_kit.auth import Officer, require_roles

from .. import reports

router = APIRouter(prefix="/api/v1", tags=["reports"])
Reporter = Annotated[Officer, Depends(require_roles("supervisor", "admin"))]


@router.get("/reports/audiences")
async def audience_report(
    request: Request, _: Reporter,
    month: str = Query(pattern=r"^(19|20|21)\d\d-(0[1-9]|1[0-2])$", description="YYYY-MM (WIB)"),
) -> dict[str, Any]:
    """Audiences requested in the month: answered, answered by the 3-working-day deadline, rate."""
    return await reports.monthly(request.app.state.runtime.db, month, datetime.now(UTC))
