"""The AsyncAPI 3 document of a service, generated from its FastStream broker, completed with
what FastStream cannot know: every message's CloudEvents 1.0 binary-mode headers (``ce-*``,
``serambi_contracts.envelope``), the correlation id in ``ce-correlationid``, and the servers a
reader subscribes on — the event stream and its read-only integration-bus mirror."""

from __future__ import annotations

import json
from typing import Any

from faststream import FastStream
from faststream.specification import AsyncAPI
from serambi_contracts.envelope import HEADER_PREFIX, REQUIRED, SPEC_VERSION

from .runtime import Runtime
from .topology import CONTEXTS, bus_mirror_config, stream_name

HEADERS = "CloudEventsHeaders"
HEADER_DESCRIPTIONS = {
    "specversion": "CloudEvents version",
    "id": "the event's id (unique; also the JetStream deduplication id)",
    "source": "the context that recorded it, e.g. /serambi/intake",
    "type": "the event type, e.g. id.go.kalbarprov.ekonomi.intake.RequestSubmitted.v2",
    "time": "when it happened (RFC 3339, with offset)",
    "subject": "the aggregate it belongs to (a tracking code or an id)",
    "datacontenttype": "the body's media type",
    "dataschema": "the JSON Schema of the body (contracts/schemas)",
    "correlationid": "the case's conversation: every event of one case carries the same",
    "causationid": "the id of the event or request that caused this one",
    "aggregateversion": "1 for an aggregate's first event, +1 for each next one (a decimal string)",
    "traceparent": "W3C trace context of the span that recorded it (CloudEvents distributed tracing)",
}


def application(runtime: Runtime, title: str) -> FastStream:
    """For ``faststream docs gen --factory serambi_<service>.main:asyncapi_app``."""
    spec = AsyncAPI(
        runtime.broker,
        title=title,
        version="1",
        schema_version="3.0.0",
        description=f"{title}: events consumed and published over NATS JetStream "
        "(CloudEvents 1.0 binary mode, ce-* headers).",
    )
    return FastStream(runtime.broker, specification=spec)


def document(app: FastStream, context: str) -> dict[str, Any]:
    """The document of ``context``'s service as JSON-ready data, with keys sorted so the
    committed file is stable."""
    spec: dict[str, Any] = app.schema.to_specification().to_jsonable()
    headers = {
        f"{HEADER_PREFIX}{name}": {"type": "string", "description": description}
        for name, description in HEADER_DESCRIPTIONS.items()
    }
    headers[f"{HEADER_PREFIX}specversion"]["const"] = SPEC_VERSION
    headers[f"{HEADER_PREFIX}time"]["format"] = "date-time"
    spec["components"].setdefault("schemas", {})[HEADERS] = {
        "type": "object",
        "description": "CloudEvents 1.0 in binary mode: each context attribute is a NATS header",
        "required": [f"{HEADER_PREFIX}{name}" for name in (*REQUIRED, "time")],
        "properties": headers,
    }
    for message in spec["components"].get("messages", {}).values():
        message["headers"] = {"$ref": f"#/components/schemas/{HEADERS}"}
        message["correlationId"] = {
            "location": f"$message.header#/{HEADER_PREFIX}correlationid",
            "description": "the case's conversation",
        }
    stream, mirror = stream_name(context), bus_mirror_config(context).name
    spec["servers"] = {
        **spec.get("servers", {}),
        "events": {
            "host": "nats:4222",
            "protocol": "nats",
            "description": f"the JetStream event streams ({stream} holds {context}.>, each context's "
            "its own): the services' record; services only",
        },
        "integration-bus": {
            "host": "nats:4222",
            "protocol": "nats",
            "description": f"the read-only mirrors for other provincial systems ({mirror} mirrors "
            f"{stream}: same subjects and sequence numbers): NATS user bus, which may consume but "
            "publish nothing",
        },
    }
    for channel in spec.get("channels", {}).values():  # an event channel, not a timer's
        if channel.get("address", "").split(".")[0] in CONTEXTS:
            channel["servers"] = [
                *channel.get("servers", []),
                {"$ref": "#/servers/events"},
                {"$ref": "#/servers/integration-bus"},
            ]
    data: dict[str, Any] = json.loads(json.dumps(spec, sort_keys=True))
    return data
