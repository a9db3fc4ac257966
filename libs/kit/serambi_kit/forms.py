"""Multipart forms parsed within tight limits, their refusals a 4xx naming the rule.

Starlette's parser keeps every text part (up to ``max_part_size``) and the first
``spool_max_size`` bytes of every file in memory, and FastAPI's defaults allow 1,000 of each:
23 parts of 1 MiB left 27 MB in memory per request (issue 19). A route taking a form therefore
names how many files and text fields it expects (``FormLimits``), text parts are at most
``PART_BYTES``, and a file keeps at most ``SPOOL_BYTES`` in memory before the rest goes to the
disk-backed ``/tmp`` (``spool_files_early``, set by the kit's app factory). The worst case of
a request is then ``max_files × SPOOL_BYTES + max_fields × PART_BYTES`` (2.5 MB for intake's
form, 1.2 MB for a complaint's), however its body is cut.

A part past a limit is refused while the body streams in: 422 ``too_many_files`` /
``too_many_fields``, 413 ``part_too_large``, 400 ``invalid_multipart``, in the shape of the
validation errors (``{"errors": [{"field", "rule", "message"}]}``, field ``form``).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException, Request
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException, MultiPartParser

PART_BYTES = 64 * 1024  # a text field: a 5,000-character text in any script is at most 20 KB
SPOOL_BYTES = 64 * 1024  # of a file, in memory before the rest is spooled to disk
FIELD = "form"
# Starlette's messages (formparsers.MultiPartParser), by the start that tells them apart
RULES = (
    ("Too many files", 422, "too_many_files"),
    ("Too many fields", 422, "too_many_fields"),
    ("Part exceeded maximum size", 413, "part_too_large"),
    ("Field exceeded maximum size", 413, "part_too_large"),
)


@dataclass(frozen=True, slots=True)
class FormLimits:
    """How many file and text parts a route's form may have, and the size of a text part."""

    max_files: int
    max_fields: int
    max_part_size: int = PART_BYTES

    def route(self) -> dict[str, int]:
        """For FastAPI's ``form_limits=`` of a route declaring ``Form()``/``File()`` parameters."""
        return {
            "max_files": self.max_files,
            "max_fields": self.max_fields,
            "max_part_size": self.max_part_size,
        }


def spool_files_early() -> None:
    """Every multipart file of this process keeps at most ``SPOOL_BYTES`` in memory (Starlette
    keeps 1 MiB by default; the class attribute is its setting)."""
    MultiPartParser.spool_max_size = SPOOL_BYTES


def refusal(exc: StarletteHTTPException, files_field: str | None = None) -> HTTPException | None:
    """The 4xx naming the rule for the parser's refusal ``exc`` (Starlette raises a 400 with its
    message from the ``MultiPartException``), or None when ``exc`` is something else. With
    ``files_field`` (a form whose files all go in one field) too many files are that field's
    ``too_many``."""
    if exc.status_code != 400 or not isinstance(exc.__context__, MultiPartException):
        return None
    message = str(exc.detail)
    status, rule = next(
        ((status, rule) for start, status, rule in RULES if message.startswith(start)),
        (400, "invalid_multipart"),
    )
    field = FIELD
    if files_field and rule == "too_many_files":
        field, rule = files_field, "too_many"
    error = {"field": field, "rule": rule, "message": f"{field}: {message}"}
    return HTTPException(status, {"errors": [error]})


async def read_form(request: Request, limits: FormLimits, files_field: str | None = None) -> FormData:
    """The request's form, parsed within ``limits`` (a refusal as ``refusal`` words it)."""
    try:
        return await request.form(**limits.route())
    except StarletteHTTPException as exc:
        if (refused := refusal(exc, files_field)) is not None:
            raise refused from None
        raise
