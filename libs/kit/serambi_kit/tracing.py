"""Tracing with OpenTelemetry: one trace per case, from the HTTP request that started it through
every consumer the events it caused reach, with the database and SMTP/SMS calls on the way.

How the context travels:

- **HTTP in**: ``AccessLog`` opens a server span per request (none for the probes and the
  scrape), the child of the caller's W3C ``traceparent`` when it sends a valid one (the portal
  does, to the services). A ``tracestate`` is neither read nor passed on: it is up to 512
  characters of the caller's free text, which the events would keep for ever.
- **Events**: the event store writes the current span's ``traceparent`` into each new event as
  the CloudEvents distributed-tracing extension (header ``ce-traceparent``), so the integration
  bus's mirror carries it too.
- **Consumers**: ``messaging.deliver`` opens a consumer span per message, the child of the
  event's ``traceparent``; what the handler writes to MongoDB, appends to a stream or sends
  hangs under it.
- **Later work** (the notifier's retries from its dispatch loop) starts from a ``traceparent``
  kept with the work (``remote_parent``).

Modes (``SERAMBI_TRACING``): ``off`` (the default) records nothing, yet trace ids are still made
and carried, so every log line of a request or an event has its ``trace_id`` and a case can be
followed through the services' logs; ``log`` writes each finished span as a ``span`` log line
(local runs: no collector needed); ``otlp`` exports over OTLP/HTTP to ``SERAMBI_OTLP_ENDPOINT``.

Spans carry no personal data: route templates (never paths, queries or headers), subjects and
consumer names, MongoDB command and collection names (never a filter or a document).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, Literal
from urllib.parse import unquote

import structlog
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, Sampler, SamplingResult
from opentelemetry.trace import INVALID_SPAN, Link, Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from pymongo import monitoring

TracingMode = Literal["off", "log", "otlp"]
#: Paths whose requests are no span: the probes and Prometheus's scrape.
UNTRACED = frozenset({"/livez", "/readyz", "/metrics"})
EXPORT_TIMEOUT_SECONDS = 5
_PROPAGATOR = TraceContextTextMapPropagator()
tracer = trace.get_tracer("serambi")


class TracingSettings(BaseSettings):
    """Mixed into the settings of every process that serves (the services and the portal)."""

    model_config = SettingsConfigDict(env_prefix="SERAMBI_", extra="ignore")
    tracing: TracingMode = Field(
        default="off",
        description="off: trace ids in the logs only; log: spans as log lines; "
        "otlp: spans to SERAMBI_OTLP_ENDPOINT",
    )
    otlp_endpoint: str = Field(
        default="http://127.0.0.1:4318/v1/traces", description="an OTLP/HTTP collector's traces URL"
    )


class _Switch(Sampler):
    """Records every span once a mode that exports is on; otherwise every span is a
    non-recording one that still has its ids, so they propagate at almost no cost. A parent's
    sampled flag is not followed: events stored while tracing was off carry "not sampled",
    and work continuing from them (a timer, a retried send) would otherwise never be recorded."""

    def __init__(self) -> None:
        self.recording = False

    def should_sample(
        self,
        parent_context: otel_context.Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        sampler = ALWAYS_ON if self.recording else ALWAYS_OFF
        return sampler.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return "SerambiSwitch"


class _Process:
    """The process's one tracer provider (OpenTelemetry allows one): the first service
    configured names the resource; later configurations only add exporters."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.provider: TracerProvider | None = None
        self.sampler = _Switch()
        self.exporting: set[str] = set()
        self.relay: _Relay | None = None

    def ensure(self, service: str) -> TracerProvider:
        with self.lock:
            if self.provider is None:
                self.provider = TracerProvider(
                    resource=Resource.create({"service.name": service}), sampler=self.sampler
                )
                trace.set_tracer_provider(self.provider)
            return self.provider


_process = _Process()


def configure_tracing(service: str, settings: TracingSettings) -> None:
    """Install the provider (once per process) and the exporter ``settings.tracing`` names."""
    provider = _process.ensure(service)
    mode = settings.tracing
    if mode == "off" or mode in _process.exporting:
        return
    _process.exporting.add(mode)
    if mode == "log":
        provider.add_span_processor(SimpleSpanProcessor(LogSpanExporter()))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(
            BatchSpanProcessor(
                OTLPSpanExporter(endpoint=settings.otlp_endpoint, timeout=EXPORT_TIMEOUT_SECONDS)
            )
        )
    _process.sampler.recording = True


@contextmanager
def recording_into(exporter: SpanExporter) -> Iterator[None]:
    """Tests: inside, every span is recorded and also goes to ``exporter`` (an
    ``InMemorySpanExporter``); after, the process records as it was configured to."""
    provider = _process.ensure("test")
    with _process.lock:
        if _process.relay is None:
            _process.relay = _Relay()
            provider.add_span_processor(_process.relay)
    _process.relay.target, _process.sampler.recording = exporter, True
    try:
        yield
    finally:
        _process.relay.target, _process.sampler.recording = None, bool(_process.exporting)


class _Relay(SpanProcessor):
    """Hands finished spans to whichever exporter a test is recording into, if any."""

    def __init__(self) -> None:
        self.target: SpanExporter | None = None

    def on_end(self, span: ReadableSpan) -> None:
        if self.target is not None and span.context.trace_flags.sampled:
            self.target.export((span,))

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


async def flush_tracing(timeout_seconds: float = 5.0) -> None:
    """Send what the exporters still hold (a service stopping), for at most ``timeout_seconds``:
    the SDK's flush exports in the calling thread and ignores its own time-out, so it runs in a
    thread of its own and is left behind when a collector does not answer."""
    if _process.provider is not None:
        try:
            await asyncio.wait_for(asyncio.to_thread(_process.provider.force_flush), timeout_seconds)
        except TimeoutError:
            structlog.get_logger("serambi.tracing").warning("tracing.flush_timed_out")


class LogSpanExporter(SpanExporter):
    """Each finished span as one ``span`` log line (``SERAMBI_TRACING=log``)."""

    def __init__(self) -> None:
        self.log = structlog.get_logger("serambi.tracing")

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        for span in spans:
            context = span.get_span_context()
            assert context is not None  # a finished span has its ids
            self.log.info(
                "span",
                name=span.name,
                kind=span.kind.name.lower(),
                trace_id=_hex(context.trace_id, 32),
                span_id=_hex(context.span_id, 16),
                parent_span_id=_hex(span.parent.span_id, 16) if span.parent else None,
                duration_ms=round(((span.end_time or 0) - (span.start_time or 0)) / 1e6, 2),
                status=span.status.status_code.name.lower(),
                attributes=dict(span.attributes or {}),
                links=[_hex(link.context.span_id, 16) for link in span.links],
            )
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


def _hex(value: int, width: int) -> str:
    return format(value, f"0{width}x")


def current_trace_id() -> str | None:
    """The current span's trace id (32 hex digits), None outside any span."""
    context = trace.get_current_span().get_span_context()
    return _hex(context.trace_id, 32) if context.is_valid else None


def _traceparent() -> dict[str, str]:
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return {"traceparent": carrier["traceparent"]} if "traceparent" in carrier else {}


def inject(headers: Mapping[str, str] | None = None) -> dict[str, str]:
    """``headers`` plus the current span's ``traceparent`` for a call out."""
    return {**(headers or {}), **_traceparent()}


def event_extensions() -> dict[str, str]:
    """The distributed-tracing extension of an event appended now (empty outside any span)."""
    return _traceparent()  # serambi_contracts.envelope.TRACING_EXTENSIONS: no tracestate


def remote_parent(traceparent: str | None) -> otel_context.Context:
    """A context whose parent is the span ``traceparent`` names (an invalid one: a new trace)."""
    carrier = {"traceparent": traceparent} if traceparent else {}
    return _PROPAGATOR.extract(carrier, context=otel_context.Context())


def continuing(traceparent: str | None) -> otel_context.Context | None:
    """The parent of work kept for later: the current span if there is one (None: the default),
    else the span ``traceparent`` names, which the work kept (a retry from a loop)."""
    if trace.get_current_span().get_span_context().is_valid:
        return None
    return remote_parent(traceparent)


def event_parent(headers: Mapping[str, str] | None) -> otel_context.Context:
    """The parent a consumer's span takes from a message's ``ce-traceparent`` (percent-decoded as
    the envelope encodes it; a valid one has nothing to decode)."""
    found = {key.lower(): value for key, value in (headers or {}).items()}
    raw = found.get("ce-traceparent")
    return remote_parent(unquote(raw) if raw else None)


@contextmanager
def _span(
    name: str,
    kind: SpanKind,
    parent: otel_context.Context | None,
    attributes: Mapping[str, Any],
    links: Sequence[Link] = (),
) -> Iterator[Span]:
    """A current span that, on an exception, records only the exception's type: its message
    may hold what a person typed (OpenTelemetry's default records message and stack)."""
    with tracer.start_as_current_span(
        name,
        context=parent,
        kind=kind,
        attributes=dict(attributes),
        links=links,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield span
        except Exception as exc:
            mark_failed(span, type(exc).__name__)
            raise


def server_span(method: str, headers: Mapping[str, str], path: str) -> AbstractContextManager[Span]:
    """The span of an HTTP request, child of the caller's ``traceparent`` when valid; named by
    ``answered`` once the route is known (a span never holds the path: tokens live there). The
    probes and the scrape (``UNTRACED``), every few seconds, get none."""
    if path in UNTRACED:
        return nullcontext(INVALID_SPAN)
    return _span(
        method, SpanKind.SERVER, remote_parent(headers.get("traceparent")), {"http.request.method": method}
    )


def answered(span: Span, method: str, route: str, status: int) -> None:
    """Name ``span`` by its route template and record the answer's status."""
    span.update_name(f"{method} {route}")
    span.set_attribute("http.route", route)
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        mark_failed(span, str(status))


def _consuming(consumer: str) -> dict[str, Any]:
    return {
        "messaging.system": "nats",
        "messaging.operation.type": "process",
        "messaging.consumer.group.name": consumer,
    }


def consumer_span(
    consumer: str, subject: str, headers: Mapping[str, str] | None
) -> AbstractContextManager[Span]:
    """The span of one message handled by ``consumer``, child of the event's trace."""
    return _span(
        f"{consumer} process",
        SpanKind.CONSUMER,
        event_parent(headers),
        {**_consuming(consumer), "messaging.destination.name": subject},
    )


def batch_span(consumer: str, headers: Sequence[Mapping[str, str] | None]) -> AbstractContextManager[Span]:
    """The span of a batch applied at once: a trace of its own, linked to each message's."""
    links = [
        Link(context)
        for h in headers
        if (context := trace.get_current_span(event_parent(h)).get_span_context()).is_valid
    ]
    return _span(
        f"{consumer} process",
        SpanKind.CONSUMER,
        otel_context.Context(),
        {**_consuming(consumer), "messaging.batch.message_count": len(headers)},
        links,
    )


def client_span(
    name: str, attributes: Mapping[str, Any], parent: otel_context.Context | None = None
) -> AbstractContextManager[Span]:
    """A call out of the process (an SMTP or SMS send), under ``parent`` or the current span."""
    return _span(name, SpanKind.CLIENT, parent, attributes)


def mark_failed(span: Span, error: str) -> None:
    """Mark ``span`` failed with a description that names a kind of error, never data."""
    span.set_status(Status(StatusCode.ERROR, error))


def failed_here(error: BaseException) -> None:
    """Mark the current span failed by the kind of ``error`` (a failure handled, not raised)."""
    mark_failed(trace.get_current_span(), type(error).__name__)


class MongoSpans(monitoring.CommandListener):
    """A client span per MongoDB command issued inside a recording span: command, database and
    collection names only (a filter or a document may hold personal data)."""

    def __init__(self) -> None:
        self._open: dict[tuple[int, Any], Span] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if not trace.get_current_span().is_recording():
            return
        collection = event.command.get(event.command_name)
        attributes = {
            "db.system.name": "mongodb",
            "db.namespace": event.database_name,
            "db.operation.name": event.command_name,
        }
        if isinstance(collection, str):
            attributes["db.collection.name"] = collection
        name = f"{event.command_name} {collection}" if isinstance(collection, str) else event.command_name
        self._open[(event.request_id, event.connection_id)] = tracer.start_span(
            name, kind=SpanKind.CLIENT, attributes=attributes
        )

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        span = self._open.pop((event.request_id, event.connection_id), None)
        if span is not None:
            span.end()

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        span = self._open.pop((event.request_id, event.connection_id), None)
        if span is not None:
            mark_failed(
                span,
                type(event.failure).__name__
                if not isinstance(event.failure, Mapping)
                else f"code {event.failure.get('code')}",
            )
            span.end()


#: Given to every MongoDB client the kit connects (``serambi_kit.mongo.connect``).
MONGO_SPANS = MongoSpans()
