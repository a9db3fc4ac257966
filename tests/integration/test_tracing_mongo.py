"""MongoDB calls are spans of the trace they run in (issue 22, part 1): a command issued by a
client the kit connects, inside a span, is that span's child, named by command and collection,
on the real MongoDB-wire server; no filter or document reaches the span."""

from __future__ import annotations

import uuid

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from serambi_kit.mongo import connect
from serambi_kit.tracing import recording_into, tracer
from serambi_testing import localstack

NIK = "6171012345670001"


async def test_a_command_in_a_span_is_its_child_and_holds_no_data(mongo_url):
    client = connect(mongo_url, traced=True)
    name = f"test_{uuid.uuid4().hex[:12]}"
    exporter = InMemorySpanExporter()
    try:
        with recording_into(exporter):
            await client[name]["guests"].insert_one({"nik": "outside any span"})
            with tracer.start_as_current_span("a handler") as handler:
                await client[name]["guests"].insert_one({"nik": NIK})
                assert await client[name]["guests"].find_one({"nik": NIK}) is not None
    finally:
        await localstack.drop_databases(client, name)
        await client.close()
    spans = {span.name: span for span in exporter.get_finished_spans()}
    assert set(spans) == {"a handler", "insert guests", "find guests"}  # none outside the span
    for command in ("insert", "find"):
        span = spans[f"{command} guests"]
        assert span.kind is SpanKind.CLIENT
        assert span.parent.span_id == handler.get_span_context().span_id
        assert dict(span.attributes) == {
            "db.system.name": "mongodb",
            "db.namespace": name,
            "db.operation.name": command,
            "db.collection.name": "guests",
        }
    assert NIK not in "".join(span.to_json() for span in spans.values())
