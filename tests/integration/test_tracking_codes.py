"""Tracking codes from a per-year counter, against the real MongoDB-wire server."""

from __future__ import annotations

import asyncio

import pytest
from serambi_kit import tracking_links
from serambi_kit.tracking_links import CODE_BLOCK, next_tracking_code


@pytest.fixture
def fresh_process(monkeypatch):
    """``fresh_process()``: forget the blocks this process reserved, as a restart or another
    replica would start."""
    monkeypatch.setattr(tracking_links, "_blocks", {})
    return lambda: monkeypatch.setattr(tracking_links, "_blocks", {})


async def test_concurrent_first_reservations_of_a_year_all_get_distinct_numbers(mongo_db):
    # the counter does not exist yet: every reservation races to create it with an upsert
    # (SecantusDB answered a losing upsert with no document, which was a 500 at intake's first
    # requests). Numbers may be skipped (a losing upsert can still count), never repeated.
    for year in range(2030, 2036):
        ends = await asyncio.gather(*(tracking_links._reserve(mongo_db, f"AUD-{year}", 3) for _ in range(16)))
        blocks = [set(range(end - 2, end + 1)) for end in ends]
        assert len(set().union(*blocks)) == 16 * 3


async def test_a_process_takes_a_block_of_codes_with_one_write(mongo_db, fresh_process):
    codes = await asyncio.gather(*(next_tracking_code(mongo_db, "AUD", 2040) for _ in range(CODE_BLOCK)))
    assert sorted(codes) == [f"AUD-2040-{n:06d}" for n in range(1, CODE_BLOCK + 1)]
    assert (await mongo_db["counters"].find_one({"_id": "AUD-2040"}))["value"] == CODE_BLOCK
    assert await next_tracking_code(mongo_db, "AUD", 2040) == f"AUD-2040-{CODE_BLOCK + 1:06d}"
    assert (await mongo_db["counters"].find_one({"_id": "AUD-2040"}))["value"] == 2 * CODE_BLOCK


async def test_another_process_never_repeats_a_code_and_a_restart_leaves_a_gap(mongo_db, fresh_process):
    first = [await next_tracking_code(mongo_db, "ADU", 2041) for _ in range(3)]
    fresh_process()  # a restart, or a second replica
    second = [await next_tracking_code(mongo_db, "ADU", 2041) for _ in range(3)]
    assert first == ["ADU-2041-000001", "ADU-2041-000002", "ADU-2041-000003"]
    assert second == [f"ADU-2041-{n:06d}" for n in range(CODE_BLOCK + 1, CODE_BLOCK + 4)]


async def test_codes_of_different_years_and_prefixes_come_from_their_own_counters(mongo_db, fresh_process):
    assert await next_tracking_code(mongo_db, "AUD", 2042) == "AUD-2042-000001"
    assert await next_tracking_code(mongo_db, "ADU", 2042) == "ADU-2042-000001"
    assert await next_tracking_code(mongo_db, "AUD", 2043) == "AUD-2043-000001"
