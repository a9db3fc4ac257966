"""Notices rendered from Jinja2 templates: Bahasa Indonesia by default, English available.

``templates/<language>/<notice>/`` holds ``subject.txt``, ``body.txt`` and ``body.html`` (email)
and ``sms.txt``. HTML is autoescaped; plain text is not. Undefined variables are errors, so a
template that names something the context lacks fails its test rather than a citizen's message.
Times are shown in WIB with the filters ``wib`` (long), ``wib_short`` (SMS) and ``wib_date``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from serambi_calendar import DAY_NAMES, MONTH_NAMES, WIB  # noqa: F401 — WIB re-exported (rendering.WIB)

from ..domain import gsm7

_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*)+\n")
TEMPLATES = Path(__file__).parent.parent / "templates"
DAYS = {
    "id": DAY_NAMES,
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
MONTHS = {
    "id": MONTH_NAMES,
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


def _local(value: datetime) -> datetime:
    return value.astimezone(WIB)


def _clock(value: datetime, language: str) -> str:
    return _local(value).strftime("%H.%M" if language == "id" else "%H:%M")


def format_date(value: date | datetime, language: str) -> str:
    day = _local(value).date() if isinstance(value, datetime) else value
    return f"{DAYS[language][day.weekday()]}, {day.day} {MONTHS[language][day.month - 1]} {day.year}"


def format_wib(value: datetime, language: str) -> str:
    """``Kamis, 5 Maret 2026 pukul 09.00 WIB`` / ``Thursday, 5 March 2026 at 09:00 WIB``."""
    joiner = "pukul" if language == "id" else "at"
    return f"{format_date(value, language)} {joiner} {_clock(value, language)} WIB"


def format_short(value: datetime, language: str) -> str:
    """``05/03/2026 09.00 WIB`` (for SMS)."""
    return f"{_local(value):%d/%m/%Y} {_clock(value, language)} WIB"


@pass_context
def _wib(context: Any, value: datetime | None) -> str:
    return "-" if value is None else format_wib(value, context["lang"])


@pass_context
def _wib_short(context: Any, value: datetime | None) -> str:
    return "-" if value is None else format_short(value, context["lang"])


@pass_context
def _wib_date(context: Any, value: date | datetime | None) -> str:
    return "-" if value is None else format_date(value, context["lang"])


@pass_context
def _wib_time(context: Any, value: datetime | None) -> str:
    return "-" if value is None else _clock(value, context["lang"])


@dataclass(frozen=True, slots=True)
class EmailContent:
    subject: str
    text: str
    html: str


class Renderer:
    def __init__(self, directory: Path = TEMPLATES) -> None:
        self.directory = directory
        self.env = Environment(
            loader=FileSystemLoader(directory),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=StrictUndefined,
        )
        self.env.filters.update(wib=_wib, wib_short=_wib_short, wib_date=_wib_date, wib_time=_wib_time)

    def _render(self, language: str, notice: str, name: str, context: dict[str, Any]) -> str:
        template = self.env.get_template(f"{language}/{notice}/{name}")
        return template.render({**context, "lang": language})

    def email(self, language: str, notice: str, context: dict[str, Any]) -> EmailContent:
        subject = " ".join(self._render(language, notice, "subject.txt", context).split())
        return EmailContent(
            subject=subject,
            text=_BLANK_LINES.sub("\n\n", self._render(language, notice, "body.txt", context)).strip() + "\n",
            html=self._render(language, notice, "body.html", context),
        )

    def sms(self, language: str, notice: str, context: dict[str, Any], max_parts: int) -> list[str]:
        """The SMS parts: GSM-7 text, each part at most 160 septets."""
        return gsm7.split(self._render(language, notice, "sms.txt", context), max_parts)
