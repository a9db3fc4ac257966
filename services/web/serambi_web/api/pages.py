"""The pages' templates (``templates/``), with the wording filters of ``domain/views.py``."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from ..domain.views import STATUS, STEPS, TIERS, durasi, tanggal, wib


def templates() -> Jinja2Templates:
    found = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
    env = found.env
    env.auto_reload = False  # packaged templates: no stat of each file on every render
    env.filters.update(wib=wib, tanggal=tanggal, durasi=durasi)
    env.globals.update(STATUS=STATUS, STEPS=STEPS, TIERS=TIERS)
    return found
