"""Tracking codes from a per-year counter, against the real MongoDB-wire server."""

from __future__ import annotations

import asyncio

from serambi_kit.tracking_links import next_tracking_code


async def test_concurrent_first_codes_of_a_year_are_all_issued_and_distinct(mongo_db):
    # the counter does not exist yet: every call races to create it with an upsert (SecantusDB
    # answered a losing upsert with no document, which was a 500 at intake's first requests).
    # Codes may skip a number (a losing upsert can still count), never repeat one.
    for year in range(2030, 2036):
        codes = await asyncio.gather(*(next_tracking_code(mongo_db, "AUD", year) for _ in range(16)))
        assert len(set(codes)) == 16
        assert all(code.startswith(f"AUD-{year}-") and len(code) == 15 for code in codes)
