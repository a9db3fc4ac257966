"""The services' real log pipeline (``configure_logging``) on a stdout of its own, for tests."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import structlog
from serambi_kit.logging import configure_logging


@contextmanager
def real_pipeline(monkeypatch, service: str, level: str) -> Iterator[Callable[[], list[dict]]]:
    """Gives the JSON lines written so far; the logging configuration is restored after."""
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, root_level = root.handlers[:], root.level
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    configure_logging(service, level)
    try:
        yield lambda: [json.loads(line) for line in out.getvalue().splitlines()]
    finally:
        structlog.configure(**saved)
        root.handlers[:], root.level = handlers, root_level
