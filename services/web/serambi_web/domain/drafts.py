"""A console form kept across a new sign-in, as data: its page, its text fields, whose it was,
and the rule that leaves the longest fields out until the sealed draft fits its cookies.
Reading the post and sealing the cookies is ``api/petugas/drafts.py``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

SECONDS = 15 * 60  # a draft older than this is shown to nobody
MAX_VALUE = 5000  # characters: the longest field of any console form
LABELS = {  # the fields long enough to be left out, as the notice names them
    "description": "Uraian pengaduan",
    "answer": "Jawaban",
    "summary": "Ringkasan",
    "reason": "Alasan",
    "notes": "Catatan",
    "topic": "Pokok bahasan",
    "purpose": "Keperluan",
}


@dataclass
class Draft:
    page: str  # where the form is, e.g. /petugas/pengaduan/ADU-2026-000001
    action: str  # where it was posted, e.g. /petugas/pengaduan/ADU-2026-000001/jawab
    fields: dict[str, list[str]]
    subject: str  # the officer whose session ended
    at: float
    dropped: list[str] = field(default_factory=list)  # too long to keep: to type again
    had_files: bool = False

    @property
    def form(self) -> str:
        """The form's name on a page of several: the last part of its address (``jawab``)."""
        return self.action.rstrip("/").rsplit("/", 1)[-1]

    def values(self, prefix: str = "") -> dict[str, str]:
        """Each field's first value, named as the page's ``values`` name them."""
        return {f"{prefix}{name}": items[0] for name, items in self.fields.items() if items}

    @property
    def dropped_labels(self) -> list[str]:
        return [LABELS.get(name, "isian lain") for name in self.dropped]

    def prefixed(self) -> dict[str, str]:
        """For pages of several forms, whose ``values`` are ``<form>-<field>``."""
        return self.values(f"{self.form}-")

    def fresh(self, now: float) -> bool:
        return now - self.at <= SECONDS


def fitted(draft: Draft, seal: Callable[[Draft], str], limit: int) -> str:
    """``seal(draft)`` once it is at most ``limit`` characters: the longest fields are left out
    (and named in ``dropped``) until it fits."""
    while True:
        value = seal(draft)
        if len(value) <= limit:
            return value
        longest = max(draft.fields, key=lambda name: sum(len(v) for v in draft.fields[name]))
        del draft.fields[longest]
        draft.dropped.append(longest)
