"""Deterministic event ids (standard library only: the domains may import this module, see the
"Domains import only ..." import-linter contract in the root pyproject.toml)."""

from __future__ import annotations

import uuid


def deterministic_id(*parts: str) -> str:
    """A stable event id derived from its cause, so a retried reaction is deduplicated."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "serambi:" + ":".join(parts)))
