"""Event types, subjects and personal-data markers."""

from __future__ import annotations

import pytest
from serambi_contracts import EVENTS, AggregateRef, SubjectError, event_class, parse_subject
from serambi_contracts.catalogue import UnknownEventTypeError
from serambi_contracts.intake import RequestSubmitted


def test_event_types_are_reverse_dns_and_versioned():
    assert RequestSubmitted.event_type() == "id.go.kalbarprov.ekonomi.intake.RequestSubmitted.v2"
    assert len({event.event_type() for event in EVENTS}) == len(EVENTS)


def test_an_unknown_type_is_refused_by_name():
    with pytest.raises(UnknownEventTypeError, match="Nope"):
        event_class("id.go.kalbarprov.ekonomi.intake.Nope.v1")


def test_subjects_follow_context_aggregate_id_event():
    ref = AggregateRef("intake", "request", "AUD-2026-000001")
    assert ref.subject("RequestSubmitted") == "intake.request.AUD-2026-000001.RequestSubmitted"
    assert ref.filter == "intake.request.AUD-2026-000001.*"
    assert parse_subject(ref.subject("RequestSubmitted")) == (ref, "RequestSubmitted")


@pytest.mark.parametrize("bad_id", ["", "a.b", "a*", "a>", "a b", "x" * 129])
def test_aggregate_ids_outside_the_safe_alphabet_are_refused(bad_id):
    with pytest.raises(SubjectError):
        AggregateRef("intake", "request", bad_id)


def test_personal_data_fields_are_sealed_and_marked_in_the_schema():
    schema = RequestSubmitted.json_schema()
    requester = schema["$defs"]["Requester"]["properties"]
    assert schema["$defs"]["Sealed"]["x-personal-data"] is True
    assert requester["name"] == {"$ref": "#/$defs/Sealed"}
    assert requester["email"]["anyOf"][0] == {"$ref": "#/$defs/Sealed", "x-personal-data": True}
    assert requester["institution"]["type"] == "string"
