"""A complaint as JSON, or as a form with up to five attachments (photos and PDFs; officers
may add an audio note of a phone call, M4A or OGG).

Each attachment is typed by its content (magic bytes) and bounded in size; errors name the
field (``attachments`` or ``attachments.<n>``, counted from 0 in the order sent) and the rule.
An attachment stays in the multipart parser's spooled file (on disk past 64 KiB) until the
``submission`` block ends: it is sealed and stored from there a segment at a time, never read
whole into memory. The form may hold one file more than ``MAX_ATTACHMENTS`` (refused by count,
naming how many were sent), ``MAX_FORM_FIELDS`` text fields of at most 64 KiB each; more is
refused while it streams in (``serambi_kit.forms``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from serambi_kit.bodylimit import before_body, set_body_limit
from serambi_kit.documents import DocumentError, Upload, check
from serambi_kit.forms import FormLimits, read_form
from starlette.datastructures import UploadFile

from ..application.commands import ACCEPTED, MAX_ATTACHMENTS, OFFICER_ACCEPTED
from .common import bounded_body
from .deps import settings_of
from .models import ComplaintIn, OfficerComplaintIn

FIELD = "attachments"
FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")
MAX_FORM_FIELDS = 12  # an officer's complaint has ten
LIMITS = FormLimits(max_files=MAX_ATTACHMENTS + 1, max_fields=MAX_FORM_FIELDS)


def _error(status_code: int, field: str, rule: str, message: str) -> HTTPException:
    return HTTPException(status_code, {"errors": [{"field": field, "rule": rule, "message": message}]})


def _validated(data: str | bytes | dict[str, Any], model: type[ComplaintIn]) -> ComplaintIn:
    try:
        if isinstance(data, dict):
            return model.model_validate(data)
        return model.model_validate_json(data)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        ) from None


@before_body
async def submission_limit(request: Request) -> None:
    """A form with attachments may have ``max_request_bytes``; JSON ``public_body_max_bytes``."""
    if _content_type(request) in FORMS:
        set_body_limit(request, settings_of(request).max_request_bytes)
    else:
        await bounded_body(request)


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").partition(";")[0].strip().lower()


@asynccontextmanager
async def submission(
    request: Request,
    model: type[ComplaintIn] = ComplaintIn,
    accepted: frozenset[str] = ACCEPTED,
) -> AsyncIterator[tuple[Any, list[tuple[Upload, str]]]]:
    """The complaint's fields and its checked attachments (upload, media type), whose spooled
    files are open until the block ends."""
    try:
        yield await read_submission(request, model, accepted)
    finally:
        await request.close()


async def read_submission(
    request: Request,
    model: type[ComplaintIn] = ComplaintIn,
    accepted: frozenset[str] = ACCEPTED,
) -> tuple[Any, list[tuple[Upload, str]]]:
    """The complaint's fields and its checked attachments; ``request.close()`` closes their
    files (``submission`` does)."""
    content_type = _content_type(request)
    if content_type in FORMS:
        return await _from_form(request, content_type, model, accepted)
    if content_type and content_type != "application/json" and not content_type.endswith("+json"):
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            "send application/json, or multipart/form-data with attachments",
        )
    await bounded_body(request)
    return _validated(await request.body(), model), []


async def _from_form(
    request: Request,
    content_type: str,
    model: type[ComplaintIn],
    accepted: frozenset[str],
) -> tuple[ComplaintIn, list[tuple[Upload, str]]]:
    if content_type == "multipart/form-data" and "content-length" not in request.headers:
        raise HTTPException(status.HTTP_411_LENGTH_REQUIRED, "a multipart body needs a Content-Length")
    max_bytes = settings_of(request).max_attachment_bytes
    form = await read_form(request, LIMITS, files_field=FIELD)
    fields = {key: value for key, value in form.multi_items() if key != FIELD and value != ""}
    files = [
        (position, value) for position, value in enumerate(form.getlist(FIELD)) if not _no_file_chosen(value)
    ]
    body = _validated(fields, model)
    if len(files) > MAX_ATTACHMENTS:
        raise _error(422, FIELD, "too_many", f"{FIELD}: at most {MAX_ATTACHMENTS} files ({len(files)} sent)")
    return body, [_checked(position, value, max_bytes, accepted) for position, value in files]


def _no_file_chosen(value: str | UploadFile) -> bool:
    """A browser's empty file input: a part without a file name or content."""
    if isinstance(value, str):
        return value == ""
    return not value.filename and not value.size


def _checked(
    position: int, value: str | UploadFile, max_bytes: int, accepted: frozenset[str]
) -> tuple[Upload, str]:
    field = f"{FIELD}.{position}"
    if isinstance(value, str):
        raise _error(422, field, "not_a_file", f"{field}: send a file (multipart/form-data)")
    upload = Upload(field, "attachment", value.file)
    try:
        return upload, check(upload, accepted, max_bytes)
    except DocumentError as exc:
        raise _error(exc.status, exc.field, exc.rule, str(exc)) from None


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON Schema with its ``$defs`` inlined (for an OpenAPI request body)."""
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(definitions[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return resolve(schema)


def _form_schema(model: type[ComplaintIn], described: str) -> dict[str, Any]:
    schema = _inline(model.model_json_schema())
    schema["properties"][FIELD] = {
        "type": "array",
        "maxItems": MAX_ATTACHMENTS,
        "items": {"type": "string", "format": "binary"},
        "description": f"{described}, typed by content, each at most 10 MB",
    }
    return schema


def openapi(model: type[ComplaintIn], accepted: frozenset[str], described: str) -> dict[str, Any]:
    """The request body of a route taking ``model`` as JSON or as a form with attachments."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": _inline(model.model_json_schema())},
                "multipart/form-data": {
                    "schema": _form_schema(model, described),
                    "encoding": {FIELD: {"contentType": ", ".join(sorted(accepted))}},
                },
            },
        }
    }


OPENAPI = openapi(ComplaintIn, ACCEPTED, "photos (JPEG, PNG) or PDFs")
OFFICER_OPENAPI = openapi(
    OfficerComplaintIn,
    OFFICER_ACCEPTED,
    "photos (JPEG, PNG), PDFs or an audio note of a phone call (M4A, OGG)",
)
