"""One error format for every service: RFC 9457 problem details (``application/problem+json``).

Each error answer has the standard members ``type`` (``about:blank``: the status says what
kind of problem it is), ``title`` (the status's phrase) and ``status``, a human-readable
``detail`` and two extensions every Serambi client already reads: ``error``, a stable
machine-readable code (``invalid_request``, ``slot_taken``, …), and for a refused field
``errors``: ``[{field, rule, message}]``. Other members a route adds (``rule``,
``tracking_code``) stay extensions too.

``document_errors`` documents them in every service's OpenAPI description; a middleware answers with
``problem(...)`` as an ASGI app.
"""

from __future__ import annotations

from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, params, routing
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    field: str = Field(description="the refused field, dotted for nested ones")
    rule: str = Field(description="the rule it broke (e.g. string_too_long, not_a_working_day)")
    message: str


class Problem(BaseModel):
    """An error answer (RFC 9457)."""

    model_config = ConfigDict(extra="allow")
    type: str = "about:blank"
    title: str = Field(description="the HTTP status's phrase")
    status: int
    detail: Any = Field(default=None, description="what went wrong, for a person")
    error: str = Field(
        description="for programs (extension): a stable code (invalid_request, slot_taken, …), "
        "or for some refusals the message itself"
    )
    errors: list[FieldError] | None = Field(default=None, description="the refused fields (extension)")


class ProblemResponse(JSONResponse):
    media_type = MEDIA_TYPE


def body(status: int, error: str, detail: Any = None, **extensions: Any) -> dict[str, Any]:
    return {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "error": error,
        **extensions,
    }


def problem(
    status: int, error: str, detail: Any = None, *, headers: dict[str, str] | None = None, **extensions: Any
) -> ProblemResponse:
    return ProblemResponse(body(status, error, detail, **extensions), status_code=status, headers=headers)


ERRORS: dict[int, str] = {
    401: "no valid officer token",
    403: "the officer's roles do not allow it",
    404: "no such resource (or a wrong access token)",
    409: "the resource's state does not allow it; nothing was recorded",
    413: "the body is over its limit",
    415: "a file of a type not accepted",
    422: "a field broke a rule: errors names each",
    429: "over the rate limit: retry after Retry-After seconds",
}


def _tree(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for dependency in dependant.dependencies:
        yield from _tree(dependency)


def errors_of(route: APIRoute | routing.RouteContext) -> list[int]:
    """The error statuses a route can answer: 422 when it takes parameters or a body (they are
    validated), 401 and 403 behind a role, 429 behind a rate limit, 404 with a path parameter,
    409 and 413 for a change, 415 where files are uploaded."""
    tree = list(_tree(route.dependant))
    calls = [dependant.call for dependant in tree]
    takes = any(
        d.path_params or d.query_params or d.header_params or d.cookie_params or d.body_params for d in tree
    )
    errors = {422} if takes else set()
    if any(getattr(call, "roles", None) for call in calls):
        errors |= {401, 403}
    if any(getattr(call, "rate_limit", None) for call in calls):
        errors.add(429)
    if route.dependant.path_params:
        errors.add(404)
    if (route.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}:
        errors |= {409, 413}
    if any(isinstance(field.field_info, params.File) for field in route.dependant.body_params):
        errors.add(415)
    return sorted(errors)


def document_errors(app: FastAPI) -> None:
    """Every route's OpenAPI description lists the problems it can answer (``errors_of``), in
    this format; a route's own description of a status is kept."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        definitions = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(definitions.pop("$defs", {}))
        components["Problem"] = definitions
        reference = {"$ref": "#/components/schemas/Problem"}
        for route in routing.iter_route_contexts(app.routes):  # included routers' routes too
            if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
                continue
            path = schema["paths"].get(route.path_format, {})
            for method in route.methods or ():
                operation = path.get(method.lower())
                if operation is None:
                    continue
                responses = operation.setdefault("responses", {})
                for status in errors_of(route):
                    described = responses.setdefault(str(status), {"description": ERRORS[status]})
                    described["content"] = {MEDIA_TYPE: {"schema": reference}}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend it
