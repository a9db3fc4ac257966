"""The service information the bureau edits: a TOML file (``content/layanan.toml`` by default)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

PACKAGED = Path(__file__).parent.parent / "content" / "layanan.toml"
REQUIRED = ("instansi", "audiensi", "pengaduan", "maklumat")


def load(path: str | None = None) -> dict[str, Any]:
    """The content, checked for its sections at start-up (a broken file stops the service)."""
    with open(path or PACKAGED, "rb") as file:
        content = tomllib.load(file)
    missing = [section for section in REQUIRED if section not in content]
    if missing:
        raise ValueError(f"{path or PACKAGED}: missing section(s) {', '.join(missing)}")
    return content
