"""What a process wrote moments ago, kept in memory for a short while: a later step of the same
case (moments after) reads it from here instead of from the database (issue #21)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Recent(Generic[K, V]):
    """Values kept ``seconds`` after they were put, at most ``size`` of them (the oldest put is
    dropped first). Only for what the process itself wrote and may be read stale for that long."""

    def __init__(self, seconds: float, size: int) -> None:
        self.seconds, self.size = seconds, size
        self._kept: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def put(self, key: K, value: V) -> None:
        self._kept[key] = (time.monotonic() + self.seconds, value)
        self._kept.move_to_end(key)
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)

    def get(self, key: K) -> V | None:
        kept = self._kept.get(key)
        if kept is None or kept[0] < time.monotonic():
            return None
        return kept[1]
