"""docs/security.md's table of threats, controls and tests (issue 19) points at tests that exist:
a renamed or removed test makes this fail, so the table cannot silently go stale."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HEADING = "## Threats, controls and their tests"


def test_every_test_the_security_table_names_exists():
    text = (ROOT / "docs" / "security.md").read_text()
    table = text[text.index(HEADING) :]
    named = set(re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", table))
    assert len(named) >= 40
    missing = []
    for path, name in sorted(named):
        file = ROOT / path
        found = file.exists() and name in {
            node.name
            for node in ast.walk(ast.parse(file.read_text()))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        if not found:
            missing.append(f"{path}::{name}")
    assert missing == []


def test_the_table_covers_every_item_of_the_issue_and_the_sound_ones():
    text = (ROOT / "docs" / "security.md").read_text()
    rows = [line for line in text[text.index(HEADING) :].splitlines() if line.startswith("| ")]
    firsts = {row.split("|")[1].strip() for row in rows[1:]}
    assert {str(n) for n in range(1, 10)} <= firsts and {"10a", "10b", "10c", "10d", "10e"} <= firsts
    assert sum(1 for row in rows if row.split("|")[1].strip() == "sound") == 6
