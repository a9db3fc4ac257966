"""structlog JSON logs, with correlation/causation ids bound per message or request."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

from .accesslog import not_logged_yet

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_NIK = re.compile(r"(?<![0-9])[0-9]{16}(?![0-9])")
_PHONE = re.compile(r"(?<![\w+-])(?:\+62|62|0)8[0-9](?:[ .-]?[0-9]){6,11}(?![0-9])")


def redact(text: str) -> str:
    """Mask anything shaped like an email, an Indonesian mobile number or a NIK.

    Defence in depth: personal data should never reach a log call in the first place.
    """
    text = _EMAIL.sub("[redacted-email]", text)
    return _PHONE.sub("[redacted-phone]", _NIK.sub("[redacted-nik]", text))


def _redact_processor(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    for key, value in event_dict.items():
        if isinstance(value, str):
            event_dict[key] = redact(value)
    return event_dict


def configure_logging(service: str, level: str = "INFO") -> None:
    """JSON lines on stdout; the standard library's loggers go through the same pipeline."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
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
    structlog.contextvars.bind_contextvars(service=service)
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
    # query strings (a tracking code, a token): serambi_kit.accesslog writes the request's line
    for noisy in ("uvicorn.access", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    uvicorn_errors = logging.getLogger("uvicorn.error")
    if not_logged_yet not in uvicorn_errors.filters:  # a traceback once, with the request's ids
        uvicorn_errors.addFilter(not_logged_yet)


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)
