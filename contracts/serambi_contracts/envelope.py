"""CloudEvents 1.0 envelope in binary content mode over NATS headers.

Each context attribute travels as a NATS header ``ce-<attribute>``; the message body is the
event's data (JSON). Header values are percent-encoded as the CloudEvents HTTP binding asks
(every byte outside printable ASCII, plus space, ``"`` and ``%``), so any Unicode value survives
NATS headers unchanged. The codec is pure: ``encode_headers`` and ``decode_headers``.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote, unquote

SPEC_VERSION = "1.0"
HEADER_PREFIX = "ce-"
REQUIRED = ("specversion", "id", "source", "type")
OPTIONAL = ("time", "subject", "datacontenttype", "dataschema")
SERAMBI_EXTENSIONS = ("correlationid", "causationid", "aggregateversion")
#: CloudEvents' distributed-tracing extension: the W3C ``traceparent`` of the span that appended
#: the event, carried in ``extensions`` (header ``ce-traceparent``). Its ``tracestate`` is never
#: written: free text of up to 512 characters a caller could send, kept for ever in the streams.
TRACING_EXTENSIONS = ("traceparent",)
KNOWN = (*REQUIRED, *OPTIONAL, *SERAMBI_EXTENSIONS)
_EXTENSION_NAME = re.compile(r"^[a-z0-9]{1,20}$")
_SAFE = "".join(c for c in string.printable[:94] if c not in '"%')  # printable ASCII minus " and %


class EnvelopeError(ValueError):
    """A message whose headers are not a valid CloudEvents 1.0 binary-mode envelope."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """The CloudEvents context attributes of one event.

    Serambi's extensions: ``correlationid`` (the case's conversation), ``causationid`` (the id of
    the event or request that caused this one) and ``aggregateversion`` (1 for an aggregate's first
    event, +1 for each next one), which lets readers apply one aggregate's events in order.
    ``extensions`` holds any other, such as ``TRACING_EXTENSIONS``.
    """

    id: str
    source: str
    type: str
    time: datetime
    subject: str | None = None
    datacontenttype: str = "application/json"
    dataschema: str | None = None
    correlationid: str | None = None
    causationid: str | None = None
    aggregateversion: int | None = None
    extensions: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in REQUIRED[1:]:
            if not getattr(self, name):
                raise EnvelopeError(f"ce-{name}: required attribute is empty")
        if self.time.tzinfo is None:
            raise EnvelopeError("ce-time: must carry a UTC offset (RFC 3339)")
        for name in self.extensions:
            if not _EXTENSION_NAME.match(name) or name in KNOWN:
                raise EnvelopeError(f"ce-{name}: extension names are 1-20 lowercase a-z/0-9")


def _encode_value(value: str) -> str:
    return quote(value, safe=_SAFE, encoding="utf-8")


def _decode_value(name: str, raw: str) -> str:
    try:
        return unquote(raw, encoding="utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise EnvelopeError(f"{name}: percent-encoding is not valid UTF-8") from exc


def format_time(instant: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` suffix, microsecond precision."""
    return instant.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_time(raw: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise EnvelopeError(f"ce-time: {raw!r} is not an RFC 3339 timestamp") from exc
    if parsed.tzinfo is None:
        raise EnvelopeError(f"ce-time: {raw!r} has no UTC offset")
    return parsed


def encode_headers(envelope: Envelope) -> dict[str, str]:
    """The NATS headers carrying ``envelope`` (binary content mode)."""
    attributes: dict[str, str | None] = {
        "specversion": SPEC_VERSION,
        "id": envelope.id,
        "source": envelope.source,
        "type": envelope.type,
        "time": format_time(envelope.time),
        "subject": envelope.subject,
        "datacontenttype": envelope.datacontenttype,
        "dataschema": envelope.dataschema,
        "correlationid": envelope.correlationid,
        "causationid": envelope.causationid,
        "aggregateversion": (None if envelope.aggregateversion is None else str(envelope.aggregateversion)),
        **envelope.extensions,
    }
    return {
        HEADER_PREFIX + name: _encode_value(value) for name, value in attributes.items() if value is not None
    }


def decode_headers(headers: Mapping[str, str] | None) -> Envelope:
    """Parse and validate the ``ce-`` headers of a NATS message."""
    attributes: dict[str, str] = {}
    for key, raw in (headers or {}).items():
        lowered = key.lower()
        if lowered.startswith(HEADER_PREFIX):
            name = lowered[len(HEADER_PREFIX) :]
            attributes[name] = _decode_value(key, raw)
    missing = [f"ce-{name}" for name in REQUIRED if not attributes.get(name)]
    if missing:
        raise EnvelopeError(f"missing required CloudEvents attribute(s): {', '.join(missing)}")
    if attributes["specversion"] != SPEC_VERSION:
        raise EnvelopeError(f"ce-specversion: {attributes['specversion']!r} is not supported (expected 1.0)")
    if "time" not in attributes:
        raise EnvelopeError("ce-time: required by Serambi's contracts")
    extensions = {k: v for k, v in attributes.items() if k not in KNOWN}
    version = attributes.get("aggregateversion")
    if version is not None and not (version.isdigit() and int(version) >= 1):
        raise EnvelopeError(f"ce-aggregateversion: {version!r} is not a positive integer")
    return Envelope(
        id=attributes["id"],
        source=attributes["source"],
        type=attributes["type"],
        time=parse_time(attributes["time"]),
        subject=attributes.get("subject"),
        datacontenttype=attributes.get("datacontenttype", "application/json"),
        dataschema=attributes.get("dataschema"),
        correlationid=attributes.get("correlationid"),
        causationid=attributes.get("causationid"),
        aggregateversion=None if version is None else int(version),
        extensions=extensions,
    )
