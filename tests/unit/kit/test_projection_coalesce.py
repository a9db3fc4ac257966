"""A batch's consecutive changes to one document become one version-checked write, only when
the joint update equals applying the changes in turn."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from serambi_contracts import AggregateRef
from serambi_contracts.sla import SLAWarning
from serambi_kit.eventstore import RecordedEvent
from serambi_kit.eventstore.model import make_envelopes
from serambi_kit.projections import Change, coalesce

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
POSITION = "_applied.complaints_case"


def recorded(aggregate: str, case: str, version: int, sequence: int) -> RecordedEvent:
    ref = AggregateRef("complaints", aggregate, case)
    event = SLAWarning(
        case_id=case, clock="ringan", threshold_percent=50, started_at=NOW, due_at=NOW, warned_at=NOW
    )
    [envelope] = make_envelopes("/t", ref, [event], expected_version=version - 1, event_ids=None)
    return RecordedEvent(ref, event, envelope, sequence)


def changes(*updates: dict[str, Any], first: int = 1) -> list[tuple[Change, RecordedEvent]]:
    return [
        (Change("c1", update), recorded("case", "c1", first + number, 100 + number))
        for number, update in enumerate(updates)
    ]


def test_consecutive_sets_and_integer_increments_become_one_write_checking_the_first_version():
    writes = coalesce(
        changes(
            {"$set": {"state": "open", "a": 1}, "$inc": {"count": 1}},
            {"$set": {"state": "closed"}, "$inc": {"count": 2, "other": 1}},
            {},
            first=3,
        )
    )
    assert writes == [
        (
            {"_id": "c1", POSITION: 2},
            {
                "$set": {"state": "closed", "a": 1, POSITION: 5, "_sequence": 102},
                "$inc": {"count": 3, "other": 1},
            },
            False,
        )
    ]


def test_a_first_event_upserts_a_document_that_has_no_position_yet():
    [(query, update, upsert)] = coalesce(changes({"$set": {"a": 1}}, {"$set": {"b": 2}}))
    assert query == {"_id": "c1", POSITION: {"$exists": False}} and upsert
    assert update == {"$set": {"a": 1, "b": 2, POSITION: 2, "_sequence": 101}}


@pytest.mark.parametrize(
    "later",
    [
        {"$push": {"list": 1}},  # only $set and $inc are combined
        {"$inc": {"state": 1}},  # $inc of a path the first one $sets
        {"$set": {"count": 0}},  # $set of a path the first one $incs
        {"$set": {"state.sub": 1}},  # nested in a path the first one writes
        {"$inc": {"count": 0.1}},  # a float sum may round differently than two increments
        {"$inc": {"count": True}},
    ],
)
def test_updates_that_might_not_combine_exactly_stay_separate_writes(later):
    writes = coalesce(changes({"$set": {"state": "open"}, "$inc": {"count": 1}}, later))
    assert [query[POSITION] for query, _, _ in writes] == [{"$exists": False}, 1]
    assert writes[0][1]["$set"] == {"state": "open", POSITION: 1, "_sequence": 100}
    assert writes[1][1] == {**later, "$set": {**later.get("$set", {}), POSITION: 2, "_sequence": 101}}


def test_a_gap_in_versions_or_another_aggregate_in_between_keeps_the_order_of_writes():
    first, second = recorded("case", "c1", 1, 10), recorded("case", "c1", 3, 12)  # version 2 missing
    gap = [(Change("c1", {"$set": {"a": 1}}), first), (Change("c1", {"$set": {"a": 2}}), second)]
    assert len(coalesce(gap)) == 2
    other = recorded("other", "c1", 1, 11)  # another aggregate writes the same document in between
    writes = coalesce(
        [
            (Change("c1", {"$set": {"a": 1}}), first),
            (Change("c1", {"$set": {"a": 9}}), other),
            (Change("c1", {"$set": {"a": 2}}), recorded("case", "c1", 2, 12)),
        ]
    )
    assert [update["$set"]["a"] for _, update, _ in writes] == [1, 9, 2]


def test_changes_to_different_documents_interleaved_each_join_their_own():
    batch = []
    for number in range(6):
        case = f"c{number % 2}"
        batch.append((Change(case, {"$inc": {"n": 1}}), recorded("case", case, number // 2 + 1, number + 1)))
    writes = coalesce(batch)
    assert [(query["_id"], update["$inc"]["n"], update["$set"][POSITION]) for query, update, _ in writes] == [
        ("c0", 3, 3),
        ("c1", 3, 3),
    ]
