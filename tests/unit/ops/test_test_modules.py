"""pytest imports test modules by their basename (rootdir-relative "prepend" mode, no packages):
two test files with the same name anywhere under tests/ stop the whole suite at collection, but
only when both are collected — a targeted run of one folder never sees it. This keeps them apart."""

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[2]


def test_no_two_test_modules_share_a_basename() -> None:
    names = Counter(path.name for path in TESTS.rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []
