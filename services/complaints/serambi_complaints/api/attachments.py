"""A public complaint as JSON, or as a form with up to five attachments (photos and PDFs).

Each attachment is typed by its content (JPEG, PNG, PDF) and bounded in size; errors name the
field (``attachments`` or ``attachments.<n>``, counted from 0 in the order sent) and the rule.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from serambi_kit.bodylimit import before_body, set_body_limit
from serambi_kit.documents import JPEG, PDF, PNG, DocumentError, Upload, check
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from .common import bounded_body, service_of
from .models import ComplaintIn

FIELD = "attachments"
MAX_ATTACHMENTS = 5  # ComplaintReceived.attachments holds at most five
ACCEPTED = frozenset({JPEG, PNG, PDF})
FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")
MAX_FORM_FIELDS = 20


def _error(status_code: int, field: str, rule: str, message: str) -> HTTPException:
    return HTTPException(status_code, {"errors": [{"field": field, "rule": rule, "message": message}]})


def _validated(data: str | bytes | dict[str, Any]) -> ComplaintIn:
    try:
        if isinstance(data, dict):
            return ComplaintIn.model_validate(data)
        return ComplaintIn.model_validate_json(data)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        ) from None


@before_body
async def submission_limit(request: Request) -> None:
    """A form with attachments may have ``max_request_bytes``; JSON ``public_body_max_bytes``."""
    if _content_type(request) in FORMS:
        set_body_limit(request, service_of(request).settings.max_request_bytes)
    else:
        await bounded_body(request)


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").partition(";")[0].strip().lower()


async def read_submission(request: Request) -> tuple[ComplaintIn, list[tuple[Upload, str]]]:
    """The complaint's fields and its checked attachments (upload, media type)."""
    content_type = _content_type(request)
    if content_type in FORMS:
        return await _from_form(request, content_type)
    if content_type and content_type != "application/json" and not content_type.endswith("+json"):
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                            "send application/json, or multipart/form-data with attachments")
    await bounded_body(request)
    return _validated(await request.body()), []


async def _from_form(request: Request, content_type: str) -> tuple[ComplaintIn, list[tuple[Upload, str]]]:
    if content_type == "multipart/form-data" and "content-length" not in request.headers:
        raise HTTPException(status.HTTP_411_LENGTH_REQUIRED, "a multipart body needs a Content-Length")
    max_bytes = service_of(request).settings.max_attachment_bytes
    try:
        async with request.form(max_files=MAX_FORM_FIELDS, max_fields=MAX_FORM_FIELDS) as form:
            fields = {key: value for key, value in form.multi_items() if key != FIELD and value != ""}
            files = [(position, value) for position, value in enumerate(form.getlist(FIELD))
                     if not _no_file_chosen(value)]
            body = _validated(fields)
            if len(files) > MAX_ATTACHMENTS:
                raise _error(422, FIELD, "too_many",
                             f"{FIELD}: at most {MAX_ATTACHMENTS} files ({len(files)} sent)")
            return body, [await _checked(position, value, max_bytes) for position, value in files]
    except StarletteHTTPException as exc:
        if exc.status_code == 400 and "Too many files" in str(exc.detail):
            raise _error(422, FIELD, "too_many", f"{FIELD}: at most {MAX_ATTACHMENTS} files") from None
        raise


def _no_file_chosen(value: str | UploadFile) -> bool:
    """A browser's empty file input: a part without a file name or content."""
    if isinstance(value, str):
        return value == ""
    return not value.filename and not value.size


async def _checked(position: int, value: str | UploadFile, max_bytes: int) -> tuple[Upload, str]:
    field = f"{FIELD}.{position}"
    if isinstance(value, str):
        raise _error(422, field, "not_a_file", f"{field}: send a file (multipart/form-data)")
    upload = Upload(field, "attachment", await value.read(max_bytes + 1))
    try:
        return upload, check(upload, ACCEPTED, max_bytes)
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


def _form_schema() -> dict[str, Any]:
    schema = _inline(ComplaintIn.model_json_schema())
    schema["properties"][FIELD] = {
        "type": "array", "maxItems": MAX_ATTACHMENTS,
        "items": {"type": "string", "format": "binary"},
        "description": "photos (JPEG, PNG) or PDFs, typed by content, each at most 10 MB",
    }
    return schema


OPENAPI = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": _inline(ComplaintIn.model_json_schema())},
    "multipart/form-data": {"schema": _form_schema(),
                            "encoding": {FIELD: {"contentType": "image/jpeg, image/png, application/pdf"}}},
}}}
