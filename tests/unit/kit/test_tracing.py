"""Tracing (issue 22, part 1): one trace runs from an HTTP request through the event it appends
to the consumer that handles the event, and on to the events that consumer appends; spans keep
no personal data; with tracing off nothing is recorded, yet the trace ids still travel."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from types import SimpleNamespace

import pytest
import structlog
from fastapi import APIRouter
from fastapi.testclient import TestClient
from kit_log_pipeline import real_pipeline
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from serambi_contracts import AggregateRef, encode_headers
from serambi_kit.accesslog import LoggedApp
from serambi_kit.eventstore import InMemoryEventStore
from serambi_kit.messaging import DeliveryPolicy, deliver
from serambi_kit.tracing import (
    TracingSettings,
    configure_tracing,
    continuing,
    recording_into,
    tracer,
)
from serambi_testing import samples
from serambi_web.adapters.backend import _forwarded

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
REF = AggregateRef("complaints", "complaint", "ADU-2026-000001")
EMAIL = "siti.aminah@example.go.id"
POLICY = DeliveryPolicy(max_deliver=5, retry_delays=(0.05,))


class Msg:
    """A delivered JetStream message carrying a recorded event, as the kit reads one."""

    def __init__(self, recorded) -> None:
        self.headers = encode_headers(recorded.envelope)
        self.subject = REF.subject("SLABreached")
        self.data = recorded.event.model_dump_json().encode()
        self.metadata = SimpleNamespace(
            num_delivered=1, stream="COMPLAINTS", sequence=SimpleNamespace(stream=recorded.sequence)
        )
        self.settled: list[str] = []

    async def ack_sync(self) -> None:
        self.settled.append("ack")

    async def nak(self, delay: float | None = None) -> None:
        self.settled.append("nak")

    async def in_progress(self) -> None: ...


class NoDeadLetters:
    async def record(self, letter) -> None:
        raise AssertionError("not a dead letter")


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    with recording_into(exporter):
        yield exporter


@pytest.fixture
def lines(monkeypatch) -> Iterator[Callable[[], list[dict]]]:
    """The services' real log pipeline, at debug, on a stdout of its own; gives the lines
    written so far."""
    with real_pipeline(monkeypatch, "tracing-test", "DEBUG") as written:
        yield written


def submitting_app(store: InMemoryEventStore) -> TestClient:
    router = APIRouter()

    @router.post("/complaints/{code}")
    async def submit(code: str) -> dict[str, str]:
        await store.append(REF, [samples.sla_breached(REF.id)], expected_sequence=0, expected_version=0)
        return {"code": code}

    app = LoggedApp()
    app.include_router(router)
    return TestClient(app)


def test_one_trace_runs_from_the_request_through_its_event_to_the_consumer_and_on(spans):
    received, answered = InMemoryEventStore(), InMemoryEventStore()
    response = submitting_app(received).post(
        "/complaints/ADU-2026-000001",
        headers={
            "traceparent": f"00-{TRACE}-{CALLER_SPAN}-01",
            "tracestate": "vendor=free text of the caller",
        },
    )
    assert response.status_code == 200
    [event] = received.log

    async def handle(recorded) -> None:
        await answered.append(REF, [samples.sla_breached(REF.id)], expected_sequence=0, expected_version=0)

    msg = Msg(event)
    assert asyncio.run(deliver(msg, "notifier", handle, NoDeadLetters(), POLICY)) == "handled"

    [server, consumer] = spans.get_finished_spans()  # FastAPI's own spans are off: one per request
    assert (server.kind, consumer.kind) == (SpanKind.SERVER, SpanKind.CONSUMER)
    assert "url.path" not in server.attributes
    assert server.name == "POST /complaints/{code}"  # the route's template, never the path
    assert server.attributes["http.route"] == "/complaints/{code}"
    assert server.attributes["http.response.status_code"] == 200
    assert server.parent.span_id == int(CALLER_SPAN, 16)  # the caller's span is its parent
    assert {format(s.context.trace_id, "032x") for s in (server, consumer)} == {TRACE}
    # the event carries the request's span; its consumer's span is that span's child
    assert event.envelope.extensions["traceparent"].startswith(f"00-{TRACE}-{server.context.span_id:016x}-")
    assert msg.headers["ce-traceparent"] == event.envelope.extensions["traceparent"]
    assert set(event.envelope.extensions) == {"traceparent"}  # a caller's tracestate is not kept
    assert consumer.parent.span_id == server.context.span_id
    assert consumer.name == "notifier process"
    assert consumer.attributes["messaging.destination.name"] == msg.subject
    assert consumer.attributes["serambi.outcome"] == "handled"
    # and the event the consumer appends continues the trace from the consumer's span
    [caused] = answered.log
    assert caused.envelope.extensions["traceparent"].startswith(
        f"00-{TRACE}-{consumer.context.span_id:016x}-"
    )


def test_a_failure_is_recorded_by_its_kind_never_by_its_message(spans):
    async def handle(recorded) -> None:
        raise ValueError(f"cannot reach {EMAIL}")

    async def delivered() -> str:
        with tracer.start_as_current_span("submission"):
            recorded = await _appended()
        return await deliver(Msg(recorded), "notifier", handle, NoDeadLetters(), POLICY)

    assert asyncio.run(delivered()) == "retried"
    [consumer] = [s for s in spans.get_finished_spans() if s.kind is SpanKind.CONSUMER]
    assert consumer.status.status_code is StatusCode.ERROR
    assert consumer.status.description == "ValueError"
    assert not consumer.events  # no exception event: its message may hold what a person typed
    assert EMAIL not in "".join(s.to_json() for s in spans.get_finished_spans())


async def _appended():
    store = InMemoryEventStore()
    await store.append(REF, [samples.sla_breached(REF.id)], expected_sequence=0, expected_version=0)
    return store.log[0]


def test_every_log_line_of_a_message_carries_its_trace_id(spans, lines):
    async def handle(recorded) -> None:
        structlog.get_logger("test").info("handler.ran")

    async def delivered() -> None:
        with tracer.start_as_current_span("submission"):
            recorded = await _appended()
        await deliver(Msg(recorded), "notifier", handle, NoDeadLetters(), POLICY)

    asyncio.run(delivered())
    structlog.get_logger("test").info("outside.any.span")
    [consumer] = [s for s in spans.get_finished_spans() if s.kind is SpanKind.CONSUMER]
    by_event = {line["event"]: line for line in lines()}
    assert by_event["handler.ran"]["trace_id"] == f"{consumer.context.trace_id:032x}"
    assert "trace_id" not in by_event["outside.any.span"]


def test_with_tracing_off_nothing_is_recorded_yet_the_trace_travels_into_the_events():
    configure_tracing("tracing-test", TracingSettings(tracing="off"))
    store = InMemoryEventStore()
    recording: list[bool] = []

    async def check() -> None:
        recording.append(trace.get_current_span().is_recording())

    submitting_app(store).post(
        "/complaints/ADU-2026-000001", headers={"traceparent": f"00-{TRACE}-{CALLER_SPAN}-01"}
    )
    traceparent = store.log[0].envelope.extensions["traceparent"]
    assert traceparent.startswith(f"00-{TRACE}-") and not traceparent.endswith(CALLER_SPAN + "-00")
    assert traceparent.endswith("-00")  # not sampled: the consumers record nothing either
    asyncio.run(deliver(Msg(store.log[0]), "notifier", lambda r: check(), NoDeadLetters(), POLICY))
    assert recording == [False]


def test_work_kept_for_later_continues_the_trace_it_kept():
    kept = f"00-{TRACE}-{CALLER_SPAN}-01"
    parent = continuing(kept)
    assert trace.get_current_span(parent).get_span_context().trace_id == int(TRACE, 16)
    with tracer.start_as_current_span("a consumer's span"):
        assert continuing(kept) is None  # inside a span: that span is the parent


def test_the_portal_sends_the_trace_to_the_services(spans):
    with tracer.start_as_current_span("a portal page") as span:
        headers = _forwarded({"Accept": "application/json"})
    context = span.get_span_context()
    assert headers["traceparent"].startswith(f"00-{context.trace_id:032x}-{context.span_id:016x}-")
    assert headers["Accept"] == "application/json"


def test_the_drivers_and_clients_own_request_lines_are_not_written_even_at_debug(lines):
    logging.getLogger("pymongo.command").debug('{"message": "Command succeeded", "reply": "%s"}', EMAIL)
    logging.getLogger("httpx").info("HTTP Request: GET http://intake/api/v1/requests/AUD-1?token=t")
    logging.getLogger("some.library").debug("kept")
    assert [line["event"] for line in lines()] == ["kept"]


def test_an_event_stored_while_tracing_was_off_is_traced_once_it_is_on(spans):
    async def handle(recorded) -> None: ...

    recorded = asyncio.run(_appended())
    msg = Msg(recorded)
    msg.headers["ce-traceparent"] = f"00-{TRACE}-{CALLER_SPAN}-00"  # "not sampled", as off marks it
    asyncio.run(deliver(msg, "notifier", handle, NoDeadLetters(), POLICY))
    [consumer] = spans.get_finished_spans()
    assert consumer.context.trace_id == int(TRACE, 16) and consumer.parent.span_id == int(CALLER_SPAN, 16)


def test_the_probes_and_the_scrape_are_no_spans(spans):
    app = LoggedApp()

    @app.get("/livez")
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    assert TestClient(app).get("/livez").status_code == 200
    assert spans.get_finished_spans() == ()


def test_span_ids_in_the_log_are_never_masked_as_a_nik_or_a_phone(lines):
    structlog.get_logger("test").info("span", span_id="1234567890123456", parent_span_id="0812345678abcdef")
    [line] = [line for line in lines() if line["event"] == "span"]
    assert (line["span_id"], line["parent_span_id"]) == ("1234567890123456", "0812345678abcdef")
