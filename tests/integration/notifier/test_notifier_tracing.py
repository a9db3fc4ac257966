"""A send retried later from the dispatch loop continues the trace of the event that caused it
(issue 22, part 1): the delivery keeps the cause's traceparent, since the loop runs in no span."""

from __future__ import annotations

from datetime import timedelta

from notifier_harness import code, handled
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from serambi_contracts import AggregateRef
from serambi_kit.tracing import recording_into, tracer
from serambi_testing import samples


async def test_a_retried_send_joins_the_trace_of_its_cause(harness):
    tracking = code()
    exporter = InMemorySpanExporter()
    harness.mailbox.data_replies.append("451 4.3.0 try again later")
    dispatcher = harness.dispatcher()
    with recording_into(exporter):
        requester = await samples.requester(harness.vault, phone=None)
        with tracer.start_as_current_span("intake's submission") as submission:
            recorded = await harness.append(
                AggregateRef("intake", "request", tracking),
                await samples.request_submitted(harness.vault, tracking, requester),
            )
        await handled(dispatcher, recorded)  # the first send is refused for now (451)
        harness.clock.fixed += timedelta(seconds=1)
        await dispatcher.run_once()  # the loop: in no span
    [delivery] = await harness.deliveries(tracking)
    assert (delivery["state"], delivery["attempts"]) == ("sent", 2)
    assert delivery["cause"]["traceparent"] == recorded.envelope.extensions["traceparent"]
    sends = [s for s in exporter.get_finished_spans() if s.name == "email send"]
    assert [s.attributes["serambi.outcome"] for s in sends] == ["retry", "sent"]
    retried = sends[1]
    assert retried.context.trace_id == submission.get_span_context().trace_id
    assert retried.parent.span_id == submission.get_span_context().span_id  # the cause's span
