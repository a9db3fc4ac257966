"""structlog JSON logs, with correlation/causation ids bound per message or request."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

from .accesslog import not_logged_yet
from .tracing import current_trace_id

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_NIK = re.compile(r"(?<![0-9])[0-9]{16}(?![0-9])")
_PHONE = re.compile(r"(?<![\w+-])(?:\+62|62|0)8[0-9](?:[ .-]?[0-9]){6,11}(?![0-9])")


def redact(text: str) -> str:
    """Mask anything shaped like an email, an Indonesian mobile number or a NIK.

    Defence in depth: personal data should never reach a log call in the first place.
    """
    text = _EMAIL.sub("[redacted-email]", text)
    return _PHONE.sub("[redacted-phone]", _NIK.sub("[redacted-nik]", text))


#: Fields holding an id: a value of an id's shape there is kept as it is. A trace id is 32
#: random hex digits, and about 0.17 % of them hold a run of 16 decimal digits between two
#: letters, which the NIK pattern would mask ("260dc915eb[redacted-nik]eb2a71").
ID_FIELDS = frozenset({"request_id", "trace_id", "correlation_id", "causation_id", "event_id", "message_id"})
#: The shapes kept there: 32 hex digits (a trace id, a UUID without its hyphens) or a UUID.
#: Anything else is redacted like any string: a caller's ``X-Request-Id`` (which becomes the
#: request, correlation and causation id) may be any plain id, a bare NIK included.
_ID_SHAPE = re.compile(r"^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12})$")
#: A span's ids (16 hex digits; the log mode's lines): kept too, though 1 in 2,000 is all decimal
#: digits, shaped like a NIK. Only the tracing code fills them (a parent's from a caller's
#: traceparent is 16 hex digits it chose, never free text).
SPAN_ID_FIELDS = frozenset({"span_id", "parent_span_id"})
_SPAN_ID_SHAPE = re.compile(r"^[0-9a-f]{16}$")


def _redact_processor(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    for key, value in event_dict.items():
        if isinstance(value, str) and not (
            key in ID_FIELDS
            and _ID_SHAPE.match(value)
            or key in SPAN_ID_FIELDS
            and _SPAN_ID_SHAPE.match(value)
        ):
            event_dict[key] = redact(value)
    return event_dict


_process = {"service": ""}  # set by configure_logging


def _add_service(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """Names the process on every line. Not a context variable: one bound in the lifespan's task
    is not in the tasks uvicorn runs the requests in. Read at each line, not fixed in the
    processor: loggers cached on first use keep their processors across a reconfiguration."""
    if _process["service"]:
        event_dict.setdefault("service", _process["service"])
    return event_dict


def _add_trace(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """The trace id of the current span (a request's, a message's) on every line it causes."""
    if "trace_id" not in event_dict and (trace_id := current_trace_id()):
        event_dict["trace_id"] = trace_id
    return event_dict


def configure_logging(service: str, level: str = "INFO") -> None:
    """JSON lines on stdout; the standard library's loggers go through the same pipeline."""
    _process["service"] = service
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        _add_service,
        _add_trace,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _redact_processor,
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(),
            ],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's access lines and httpx's "HTTP Request: GET <url>" carry concrete paths and
    # query strings (a tracking code, a token): serambi_kit.accesslog writes the request's line;
    # pymongo's debug lines carry the commands' filters and documents and the replies
    for noisy in ("uvicorn.access", "httpx", "pymongo"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # OpenTelemetry's warnings quote a caller's malformed trace headers word for word; an
    # exporter that finally fails still logs an error
    logging.getLogger("opentelemetry").setLevel(logging.ERROR)
    uvicorn_errors = logging.getLogger("uvicorn.error")
    if not_logged_yet not in uvicorn_errors.filters:  # a traceback once, with the request's ids
        uvicorn_errors.addFilter(not_logged_yet)


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)
