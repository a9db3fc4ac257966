"""The versioned override file (TOML): SKB 3 Menteri day changes, profile ranges, working hours."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from serambi_calendar.days import DayChange
from serambi_calendar.errors import OverrideFileError
from serambi_calendar.profiles import DEFAULT_PROFILES, ProfilePeriod, WorkingProfile

_TOP_KEYS = {"version", "description", "profiles", "profile_period", "day"}
_DAY_KEYS = {"action", "date", "to", "name", "decree", "note"}
_PERIOD_KEYS = {"profile", "first", "last", "decree", "note"}


def default_override_path() -> Path:
    """The override file shipped inside the package."""
    return Path(str(resources.files("serambi_calendar") / "data" / "overrides.toml"))


@dataclass(frozen=True, slots=True)
class Overrides:
    """The parsed, validated override file."""

    path: str
    version: str
    profiles: dict[str, WorkingProfile]
    profile_periods: tuple[ProfilePeriod, ...]
    changes: tuple[DayChange, ...]


def load_overrides(path: Path | str | None = None) -> Overrides:
    """Reads and validates the file; any problem raises OverrideFileError with file and line."""
    path = Path(path) if path is not None else default_override_path()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise OverrideFileError(path, f"cannot read override file: {exc}") from exc
    return parse_overrides(text, path)


def parse_overrides(text: str, path: Path | str = "<overrides>") -> Overrides:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise OverrideFileError(path, f"invalid TOML: {exc}", _toml_line(str(exc))) from exc
    return _Parser(text, str(path)).parse(doc)


def _toml_line(message: str) -> int | None:
    found = re.search(r"at line (\d+)", message)
    return int(found.group(1)) if found else None


class _Parser:
    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.version = ""

    def fail(self, problem: str, line: int | None = None) -> OverrideFileError:
        return OverrideFileError(self.path, problem, line)

    def header_lines(self, table: str) -> list[int]:
        """Line numbers of each `[[table]]` header, to point errors at an entry."""
        pattern = re.compile(rf"^[ \t]*\[\[[ \t]*{re.escape(table)}[ \t]*\]\]", re.MULTILINE)
        return [self.text.count("\n", 0, m.start()) + 1 for m in pattern.finditer(self.text)]

    def parse(self, doc: dict[str, Any]) -> Overrides:
        unknown = set(doc) - _TOP_KEYS
        if unknown:
            raise self.fail(f"unknown top-level key(s): {', '.join(sorted(unknown))}")
        version = doc.get("version")
        if not isinstance(version, str | int) or isinstance(version, bool) or version == "":
            raise self.fail("missing or invalid 'version' (a string such as \"2026.1\")")
        self.version = str(version)
        profiles = dict(DEFAULT_PROFILES)
        profiles.update(self.profiles(doc.get("profiles", {})))
        periods = self.periods(doc.get("profile_period", []), profiles)
        changes = self.changes(doc.get("day", []))
        return Overrides(self.path, str(version), profiles, periods, changes)

    def entries(self, raw: object, table: str) -> list[tuple[str, int | None, dict[str, Any]]]:
        if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
            raise self.fail(f"'{table}' must be an array of tables ([[{table}]])")
        lines: Sequence[int | None] = self.header_lines(table)
        if len(lines) != len(raw):
            lines = [None] * len(raw)  # inline arrays: no per-entry line
        return [(f"{table}[{i + 1}]", line, e) for i, (line, e) in enumerate(zip(lines, raw, strict=True))]

    def check_keys(self, label: str, line: int | None, entry: dict[str, Any], allowed: set[str]) -> None:
        unknown = set(entry) - allowed
        if unknown:
            raise self.fail(f"{label}: unknown key(s) {', '.join(sorted(unknown))}", line)

    def date(self, label: str, line: int | None, entry: dict[str, Any], key: str) -> date:
        value = entry.get(key)
        if value is None:
            raise self.fail(f"{label}: missing '{key}'", line)
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise self.fail(f"{label}: bad date {key} = {value!r}", line) from None
        if not isinstance(value, date) or hasattr(value, "hour"):
            raise self.fail(f"{label}: {key} must be a date like 2026-03-20, got {value!r}", line)
        return value

    def reference(self, label: str, line: int | None, entry: dict[str, Any]) -> str:
        decree = entry.get("decree")
        if not isinstance(decree, str) or not decree.strip():
            raise self.fail(f"{label}: missing 'decree' (the decision this entry comes from)", line)
        where = f"{Path(self.path).name} v{self.version}" + (f", line {line}" if line else "")
        return f"{decree.strip()} [{where}]"

    def profiles(self, raw: object) -> dict[str, WorkingProfile]:
        if not isinstance(raw, dict):
            raise self.fail("'profiles' must be a table of [profiles.NAME] tables")
        out = {}
        for name, days in raw.items():
            line = self.table_line(f"profiles.{name}")
            if not isinstance(days, dict):
                raise self.fail(f"profiles.{name} must be a table of weekday lists", line)
            try:
                out[name] = WorkingProfile.from_texts(name, days)
            except ValueError as exc:
                raise self.fail(str(exc), line) from None
        return out

    def table_line(self, name: str) -> int | None:
        pattern = re.compile(rf"^[ \t]*\[[ \t]*{re.escape(name)}[ \t]*\]", re.MULTILINE)
        found = pattern.search(self.text)
        return self.text.count("\n", 0, found.start()) + 1 if found else None

    def periods(self, raw: object, profiles: dict[str, WorkingProfile]) -> tuple[ProfilePeriod, ...]:
        parsed = []
        for label, line, entry in self.entries(raw, "profile_period"):
            self.check_keys(label, line, entry, _PERIOD_KEYS)
            profile = entry.get("profile")
            if profile not in profiles or not isinstance(profile, str):  # keys are str: only narrows
                known = ", ".join(sorted(profiles))
                raise self.fail(f"{label}: unknown profile {profile!r} (known: {known})", line)
            first = self.date(label, line, entry, "first")
            last = self.date(label, line, entry, "last")
            if last < first:
                raise self.fail(f"{label}: last {last} is before first {first}", line)
            ref = self.reference(label, line, entry)
            parsed.append((first, last, label, line, ProfilePeriod(profile, first, last, ref)))
        parsed.sort(key=lambda p: p[0])
        for prev, cur in zip(parsed, parsed[1:], strict=False):
            if cur[0] <= prev[1]:
                raise self.fail(
                    f"{cur[2]} ({cur[0]}..{cur[1]}) overlaps {prev[2]} ({prev[0]}..{prev[1]}, "
                    f"line {prev[3]})",
                    cur[3],
                )
        return tuple(p[4] for p in parsed)

    def changes(self, raw: object) -> tuple[DayChange, ...]:
        out: list[DayChange] = []
        seen: dict[date, str] = {}
        for label, line, entry in self.entries(raw, "day"):
            self.check_keys(label, line, entry, _DAY_KEYS)
            action = entry.get("action")
            if action not in ("add", "remove", "move"):
                raise self.fail(f"{label}: action must be add, remove or move, not {action!r}", line)
            day = self.date(label, line, entry, "date")
            to = self.date(label, line, entry, "to") if action == "move" else None
            if to == day:
                raise self.fail(f"{label}: moves {day} onto itself", line)
            if action != "move" and "to" in entry:
                raise self.fail(f"{label}: 'to' is only for action = \"move\"", line)
            name = entry.get("name", "")
            if not isinstance(name, str) or (action == "add" and not name.strip()):
                raise self.fail(f"{label}: 'name' (a non-empty string) is required", line)
            for d in filter(None, (day, to)):
                if d in seen:
                    raise self.fail(f"{label}: {d} is already changed by {seen[d]}", line)
                seen[d] = f"{label} (line {line})" if line else label
            out.append(DayChange(action, day, name.strip(), self.reference(label, line, entry), to))
        return tuple(out)
