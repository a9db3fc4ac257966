"""The shared calendar-revision gate (serambi_kit.revisions) against the MongoDB-wire server: an
owner of clocks revises once per calendar fingerprint, and again only when it changes."""

from __future__ import annotations

import pytest
from serambi_kit.revisions import recorded_fingerprint, revise_when_changed


class Revision:
    def __init__(self, moves: int = 2) -> None:
        self.moves = moves
        self.runs = 0

    async def __call__(self) -> int:
        self.runs += 1
        return self.moves


async def test_a_revision_runs_for_a_new_fingerprint_and_not_again_for_the_same(mongo_db):
    revise = Revision()
    assert await recorded_fingerprint(mongo_db) is None
    assert await revise_when_changed(mongo_db, "overrides.toml v1 / clocks a", revise) == 2
    assert await revise_when_changed(mongo_db, "overrides.toml v1 / clocks a", revise) == 0
    assert revise.runs == 1
    assert await revise_when_changed(mongo_db, "overrides.toml v2 / clocks a", revise) == 2
    assert await revise_when_changed(mongo_db, "overrides.toml v2 / clocks a", revise, force=True) == 2
    assert revise.runs == 3
    assert await recorded_fingerprint(mongo_db) == "overrides.toml v2 / clocks a"


async def test_a_revision_that_fails_leaves_the_old_fingerprint_so_the_next_start_runs_it_again(mongo_db):
    await revise_when_changed(mongo_db, "v1", Revision())

    async def broken() -> int:
        raise RuntimeError("the event store is unreachable")

    with pytest.raises(RuntimeError):
        await revise_when_changed(mongo_db, "v2", broken)
    assert await recorded_fingerprint(mongo_db) == "v1"
    revise = Revision(moves=1)
    assert await revise_when_changed(mongo_db, "v2", revise) == 1
    assert revise.runs == 1
