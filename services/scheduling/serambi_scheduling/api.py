"""Scheduling's HTTP API (officers)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from serambi_kit.auth import Officer, require_roles
from serambi_kit.http import runtime_of

from .projections import AUDIENCES

router = APIRouter(prefix="/api/v1", tags=["audiences"])
Scheduler = Annotated[Officer, Depends(require_roles("scheduler", "admin"))]


@router.get("/audiences/{audience_id}")
async def audience_details(audience_id: str, request: Request, _: Scheduler) -> dict[str, Any]:
    document = await runtime_of(request).db[AUDIENCES].find_one(
        {"_id": audience_id}, {"_applied": 0, "_sequence": 0}
    )
    if document is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no audience {audience_id}")
    document.pop("_id")
    return document
