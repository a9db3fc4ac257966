"""What counts as a backward-incompatible change of an event schema."""

from __future__ import annotations

import copy

import pytest
from serambi_ops.compatibility import breaking_changes

BASE = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "maxLength": 20},
        "count": {"type": "integer", "minimum": 0},
        "tier": {"$ref": "#/$defs/Tier"},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
    },
    "required": ["code", "count"],
    "$defs": {"Tier": {"type": "string", "enum": ["ringan", "normatif"]}},
}


def changed(edit) -> dict:
    schema = copy.deepcopy(BASE)
    edit(schema)
    return schema


def test_the_same_schema_is_compatible():
    assert breaking_changes(BASE, copy.deepcopy(BASE)) == []


def test_a_new_optional_property_and_a_new_enum_value_are_compatible():
    def edit(s):
        s["properties"]["extra"] = {"type": "string"}
        s["$defs"]["Tier"]["enum"].append("berkadar_pengawasan")

    assert breaking_changes(BASE, changed(edit)) == []


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda s: s["properties"].pop("count"), "$.count: removed"),
        (lambda s: s["properties"]["count"].update(type="string"), "$.count: type integer → string"),
        (lambda s: s["required"].append("note"), "$.note: newly required"),
        (lambda s: s["properties"]["code"].update(maxLength=10), "$.code: maxLength tightened"),
        (lambda s: s["properties"]["count"].update(minimum=1), "$.count: minimum tightened"),
        (lambda s: s["$defs"]["Tier"]["enum"].remove("ringan"), "$.tier: enum values removed"),
        (lambda s: s["properties"]["note"].update(anyOf=[{"type": "string"}]), "$.note: type"),
        (lambda s: s["properties"]["code"].update(pattern="^A"), "$.code: pattern changed"),
    ],
)
def test_breaking_changes_are_named_with_their_path(edit, reason):
    problems = breaking_changes(BASE, changed(edit))
    assert any(problem.startswith(reason) for problem in problems), problems
