"""What the routes are given: the officer, the runtime (settings, vault, event store) and the
delivery ledger — the one place that reads them off the application."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from serambi_kit.auth import Officer, require_roles
from serambi_kit.http import runtime_of
from serambi_kit.runtime import Runtime

from ..adapters.ledger import Ledger

OFFICERS = ("desk", "scheduler", "complaint_officer", "complaint_team", "supervisor", "admin")


def ledger_of(request: Request) -> Ledger:
    found: Ledger = request.app.state.ledger
    return found


OfficerDep = Annotated[Officer, Depends(require_roles(*OFFICERS))]
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
LedgerDep = Annotated[Ledger, Depends(ledger_of)]
