"""The event store on NATS JetStream (DESIGN §4).

- Append: ``Nats-Msg-Id`` = event id (server-side dedupe), optimistic concurrency with
  ``Nats-Expected-Last-Subject-Sequence`` on the aggregate's ``<ctx>.<agg>.<id>.*`` filter;
  several events go in one atomic batch (``allow_atomic``).
- Load: batched direct get (``next_by_subj``) of the aggregate's subjects, in stream order.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Sequence

from nats.aio.client import Client
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import APIError
from serambi_contracts import AggregateRef, Event, decode_headers, encode_headers, parse_subject

from ..topology import stream_name
from .model import (
    Appended,
    ConcurrencyError,
    EventStoreError,
    History,
    RecordedEvent,
    decode_event,
    encode_event,
    make_envelopes,
)

WRONG_LAST_SEQUENCE = 10071
BATCH_DUPLICATE_MSG_ID = 10201
DIRECT_GET_BATCH = 256


class JetStreamEventStore:
    def __init__(self, nc: Client, source: str, timeout: float = 5.0) -> None:
        self.nc = nc
        self.js = nc.jetstream(timeout=timeout)
        self.source = source
        self.timeout = timeout

    async def load(self, ref: AggregateRef) -> History:
        events = [
            recorded
            async for recorded in read_stream(
                self.nc, stream_name(ref.context), ref.filter, timeout=self.timeout
            )
        ]
        return History(ref, tuple(events), events[-1].sequence if events else 0)

    async def append(
        self,
        ref: AggregateRef,
        events: Sequence[Event],
        *,
        expected_sequence: int,
        expected_version: int,
        event_ids: Sequence[str] | None = None,
    ) -> Appended:
        if not events:
            return Appended(())
        envelopes = make_envelopes(
            self.source, ref, events, expected_version=expected_version, event_ids=event_ids
        )
        messages = []
        for index, (event, envelope) in enumerate(zip(events, envelopes, strict=True)):
            headers = {**encode_headers(envelope), "Nats-Msg-Id": envelope.id}
            if index == 0:
                headers["Nats-Expected-Last-Subject-Sequence"] = str(expected_sequence)
                headers["Nats-Expected-Last-Subject-Sequence-Subject"] = ref.filter
            messages.append((ref.subject(event.name()), encode_event(event), headers))
        try:
            if len(messages) == 1:
                return await self._publish_one(ref, expected_sequence, *messages[0])
            return await self._publish_batch(ref, expected_sequence, messages)
        except ConcurrencyError:
            # The server checks the expected sequence before deduplication: a retry of an
            # append that did land looks like a conflict. Its event ids tell the two apart.
            stored = await self._stored_sequences(ref, [envelope.id for envelope in envelopes])
            if stored:
                return Appended(stored, duplicate=True)
            raise

    async def _stored_sequences(self, ref: AggregateRef, event_ids: list[str]) -> tuple[int, ...]:
        wanted = set(event_ids)
        history = await self.load(ref)
        return tuple(r.sequence for r in history.events if r.envelope.id in wanted)

    async def _publish_one(
        self, ref: AggregateRef, expected: int, subject: str, body: bytes, headers: dict
    ) -> Appended:
        try:
            ack = await self.js.publish(subject, body, headers=headers, timeout=self.timeout)
        except APIError as exc:
            if exc.err_code == WRONG_LAST_SEQUENCE:
                raise ConcurrencyError(ref, expected, exc.description or "") from exc
            raise EventStoreError(f"append to {subject} refused: {exc}") from exc
        return Appended((ack.seq,), duplicate=bool(ack.duplicate))

    async def _publish_batch(
        self, ref: AggregateRef, expected: int, messages: list[tuple[str, bytes, dict]]
    ) -> Appended:
        batch_id = uuid.uuid4().hex
        last = len(messages)
        for number, (subject, body, headers) in enumerate(messages, start=1):
            headers = {**headers, "Nats-Batch-Id": batch_id, "Nats-Batch-Sequence": str(number)}
            if number < last:
                await self.nc.publish(subject, body, headers=headers)
                continue
            headers["Nats-Batch-Commit"] = "1"
            try:
                reply = await self.nc.request(subject, body, headers=headers, timeout=self.timeout)
            except NatsTimeoutError as exc:
                raise EventStoreError(f"atomic append to {ref.filter} timed out") from exc
        response = json.loads(reply.data or b"{}")
        error = response.get("error")
        if error:
            code = error.get("err_code")
            if code == WRONG_LAST_SEQUENCE:
                raise ConcurrencyError(ref, expected, error.get("description", ""))
            if code == BATCH_DUPLICATE_MSG_ID:
                stored = await self._stored_sequences(ref, [m[2]["Nats-Msg-Id"] for m in messages])
                return Appended(stored, duplicate=True)
            raise EventStoreError(f"atomic append to {ref.filter} refused: {error}")
        first = response["seq"] - response["count"] + 1
        return Appended(tuple(range(first, response["seq"] + 1)))


async def read_stream(
    nc: Client, stream: str, subject_filter: str, *, from_sequence: int = 1, timeout: float = 5.0
) -> AsyncIterator[RecordedEvent]:
    """Every stored event matching ``subject_filter`` from ``from_sequence`` on, in order."""
    async for headers, data in read_raw(
        nc, stream, subject_filter, from_sequence=from_sequence, timeout=timeout
    ):
        yield parse_stored(headers, data)


async def read_raw(
    nc: Client, stream: str, subject_filter: str, *, from_sequence: int = 1, timeout: float = 5.0
) -> AsyncIterator[tuple[dict[str, str], bytes]]:
    """Every stored message (headers, body) matching ``subject_filter``, by batched direct get."""
    api = f"$JS.API.DIRECT.GET.{stream}"
    next_sequence = from_sequence
    while True:
        inbox = nc.new_inbox()
        sub = await nc.subscribe(inbox)
        request = {"seq": next_sequence, "next_by_subj": subject_filter, "batch": DIRECT_GET_BATCH}
        try:
            await nc.publish(api, json.dumps(request).encode(), reply=inbox)
            received = 0
            while True:
                try:
                    msg = await sub.next_msg(timeout=timeout)
                except NatsTimeoutError as exc:
                    raise EventStoreError(f"direct get on {stream} timed out") from exc
                headers = msg.headers or {}
                status = headers.get("Status")
                if status == "404":
                    return
                if status == "204":  # end of batch
                    break
                if status:
                    raise EventStoreError(f"direct get on {stream}: status {status}")
                received += 1
                yield headers, msg.data
                next_sequence = int(headers["Nats-Sequence"]) + 1
        finally:
            await sub.unsubscribe()
        if received < DIRECT_GET_BATCH or headers.get("Nats-Num-Pending") == "0":
            return


def parse_stored(headers: dict[str, str], data: bytes) -> RecordedEvent:
    envelope = decode_headers(headers)
    ref, _ = parse_subject(headers["Nats-Subject"])
    return RecordedEvent(ref, decode_event(envelope, data), envelope, int(headers["Nats-Sequence"]))
