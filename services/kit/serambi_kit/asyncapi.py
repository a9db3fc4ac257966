"""The AsyncAPI 3 document of a service, generated from its FastStream broker."""

from __future__ import annotations

import json
from typing import Any

from faststream import FastStream
from faststream.specification import AsyncAPI

from .runtime import Runtime


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


def document(app: FastStream) -> dict[str, Any]:
    """The document as JSON-ready data, with keys sorted so the committed file is stable."""
    data: dict[str, Any] = json.loads(json.dumps(app.schema.to_specification().to_jsonable(), sort_keys=True))
    return data
