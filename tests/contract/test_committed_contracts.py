"""The committed JSON Schemas, AsyncAPI and OpenAPI documents are current, and the schemas
backward compatible."""

from __future__ import annotations

import json

from serambi_contracts.intake import RequestSubmitted
from serambi_ops.commands.contracts import OPENAPI_DIR, asyncapi_changes, openapi_changes, schema_problems
from serambi_ops.compatibility import canonical


def test_the_committed_event_schemas_match_the_models_and_stay_compatible():
    problems, stale = schema_problems()
    assert problems == []
    assert stale == {}, "run `make schemas` and commit contracts/schemas"


def test_the_committed_asyncapi_documents_match_the_faststream_apps():
    assert asyncapi_changes() == {}, "run `make asyncapi` and commit contracts/asyncapi"


def test_the_committed_openapi_documents_match_the_services_http_apis():
    assert openapi_changes() == {}, "run `make openapi` and commit contracts/openapi"


def test_a_stale_openapi_document_is_found(tmp_path):
    for name in ("intake", "scheduling", "complaints", "notifier"):
        (tmp_path / f"{name}.json").write_text((OPENAPI_DIR / f"{name}.json").read_text())
    document = json.loads((tmp_path / "intake.json").read_text())
    document["paths"].pop("/api/v1/requests")
    (tmp_path / "intake.json").write_text(canonical(document))
    assert list(openapi_changes(tmp_path)) == [tmp_path / "intake.json"]


def test_a_committed_schema_with_a_field_the_model_lost_is_reported_as_breaking(tmp_path):
    committed = RequestSubmitted.json_schema()
    committed["properties"]["priority"] = {"type": "integer"}
    (tmp_path / f"{RequestSubmitted.event_type()}.json").write_text(canonical(committed))
    problems, _ = schema_problems(tmp_path)
    assert any("RequestSubmitted.v2 $.priority: removed" in p for p in problems)


def test_a_schema_file_without_an_event_in_the_catalogue_is_reported(tmp_path):
    (tmp_path / "id.go.kalbarprov.ekonomi.intake.Gone.v1.json").write_text("{}")
    problems, _ = schema_problems(tmp_path)
    assert any("Gone.v1.json" in p for p in problems)


def test_the_asyncapi_document_is_version_3_and_documents_the_published_payloads():
    document = json.loads((asyncapi_changes.__globals__["ASYNCAPI_DIR"] / "intake.json").read_text())
    assert document["asyncapi"].startswith("3.")
    assert "RequestSubmitted" in document["components"]["schemas"]


def test_every_message_declares_the_cloudevents_headers_and_reads_its_correlation_from_them():
    from serambi_contracts.envelope import KNOWN, TRACING_EXTENSIONS
    from serambi_kit.asyncapi import HEADER_DESCRIPTIONS

    assert set(HEADER_DESCRIPTIONS) == {*KNOWN, *TRACING_EXTENSIONS}  # every attribute Serambi writes
    for name in ("intake", "scheduling", "complaints", "notifier"):
        document = json.loads((asyncapi_changes.__globals__["ASYNCAPI_DIR"] / f"{name}.json").read_text())
        headers = document["components"]["schemas"]["CloudEventsHeaders"]
        assert {"ce-specversion", "ce-id", "ce-source", "ce-type"} <= set(headers["required"])
        for message in document["components"]["messages"].values():
            assert message["headers"] == {"$ref": "#/components/schemas/CloudEventsHeaders"}
            assert message["correlationId"]["location"] == "$message.header#/ce-correlationid"
        mirror = document["servers"]["integration-bus"]["description"]
        assert f"BUS_{name.upper()}" in mirror
        for channel in document["channels"].values():
            on_bus = {"$ref": "#/servers/integration-bus"} in channel["servers"]
            assert on_bus == (not channel["address"].startswith("timers.")), channel["address"]
