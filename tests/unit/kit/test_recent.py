"""``serambi_kit.recent.Recent``: kept for its seconds, at most its size (oldest put dropped)."""

from __future__ import annotations

from serambi_kit import recent
from serambi_kit.recent import Recent


def test_a_value_is_kept_for_its_seconds_then_gone(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(recent.time, "monotonic", lambda: now[0])
    kept: Recent[str, int] = Recent(seconds=60, size=10)
    kept.put("a", 1)
    now[0] = 159.9
    assert kept.get("a") == 1
    now[0] = 160.1
    assert kept.get("a") is None


def test_the_oldest_put_goes_first_beyond_the_size():
    kept: Recent[str, int] = Recent(seconds=60, size=2)
    kept.put("a", 1)
    kept.put("b", 2)
    kept.put("a", 3)  # put again: now the newest
    kept.put("c", 4)
    assert (kept.get("a"), kept.get("b"), kept.get("c")) == (3, None, 4)
