"""What the complaints routes share: WIB output, errors, body limits, Idempotency-Key reuse."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from serambi_kit.bodylimit import before_body, set_body_limit
from serambi_kit.idempotency import Claim, IdempotencyKeys
from serambi_kit.problems import problem

from ..domain import ComplaintError, UnknownComplaintError
from .deps import settings_of


def reusing(keys: IdempotencyKeys, claim: Claim | None) -> dict[str, Any]:
    """``commands.receive``'s arguments for an Idempotency-Key's claim: reserve before the
    append, and reuse what an earlier holder reserved."""
    if claim is None:
        return {}
    return {
        "token": claim.token,
        "reserved_code": claim.tracking_code,
        "reserve": partial(keys.reserve, claim),
    }


def invalid(field: str, rule: str, message: str) -> RequestValidationError:
    """A 422 in the kit's format (``errors: [{field, rule, message}]``)."""
    return RequestValidationError([{"loc": ("body", field), "type": rule, "msg": message}])


async def complaint_error(_: Request, exc: Exception) -> JSONResponse:
    """Unknown complaint → 404; a step its state does not allow → 409 (nothing was recorded)."""
    if isinstance(exc, UnknownComplaintError):
        return problem(404, "not_found", str(exc))
    assert isinstance(exc, ComplaintError)
    return problem(409, "wrong_state", str(exc))


@before_body
async def bounded_body(request: Request) -> None:
    """A public JSON body may have ``public_body_max_bytes``: 413 as soon as more arrives
    (counted while it streams in, chunked or not, before it is read or parsed)."""
    set_body_limit(request, settings_of(request).public_body_max_bytes)
