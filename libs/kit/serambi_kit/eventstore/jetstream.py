"""The event store on NATS JetStream (design §4).

- Append: ``Nats-Msg-Id`` = event id (server-side dedupe), optimistic concurrency with
  ``Nats-Expected-Last-Subject-Sequence`` on the aggregate's ``<ctx>.<agg>.<id>.*`` filter;
  several events go in one atomic batch (``allow_atomic``).
- A lost acknowledgement (time-out, connection lost after sending) is resolved before append
  returns: the same messages are sent again, and the server stores none of them twice (the same
  ``Nats-Msg-Id`` inside the duplicate window; the expected sequence, then the aggregate's event
  ids read back). When NATS stays silent past ``resolve_seconds`` the append raises
  ``AppendOutcomeUnknown`` (may be stored), or ``EventStoreUnavailable`` (certainly not).
- Load: batched direct get (``next_by_subj``) of the aggregate's subjects, in stream order.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence

from nats import errors as nats_errors
from nats.aio.client import Client
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import APIError, NoStreamResponseError, ServiceUnavailableError
from prometheus_client import Counter
from serambi_contracts import AggregateRef, Envelope, Event, encode_headers

from ..topology import stream_name
from .model import (
    Appended,
    AppendOutcomeUnknown,
    ConcurrencyError,
    EventStoreError,
    EventStoreFull,
    EventStoreUnavailable,
    History,
    RecordedEvent,
    encode_event,
    make_envelopes,
)
from .reading import DirectReader, parse_stored

_Message = tuple[str, bytes, dict[str, str]]  # subject, body, headers
WRONG_LAST_SEQUENCE = 10071
BATCH_DUPLICATE_MSG_ID = 10201
RESENT = Counter(
    "serambi_event_store_appends_resent_total",
    "Appends sent again because NATS did not answer (ack lost, no connection)",
    ["stream"],
)
UNRESOLVED = Counter(
    "serambi_event_store_appends_unresolved_total",
    "Appends given up on with their outcome unknown (maybe stored)",
    ["stream"],
)
# NATS did not take the message (this attempt stored nothing); a time-out is not among them
NOT_TAKEN = (
    nats_errors.ConnectionClosedError,
    nats_errors.ConnectionReconnectingError,
    nats_errors.ConnectionDrainingError,
    nats_errors.OutboundBufferLimitError,
    nats_errors.StaleConnectionError,
    nats_errors.NoRespondersError,
    NoStreamResponseError,
    ServiceUnavailableError,
)


class JetStreamEventStore:
    """Loads keep the most recently used histories (events never change), so loading an
    aggregate again reads only what was appended since: usually one empty direct get."""

    def __init__(
        self,
        nc: Client,
        source: str,
        timeout: float = 5.0,
        cached_aggregates: int = 10_000,
        resolve_seconds: float | None = None,
    ) -> None:
        self.nc = nc
        self.js = nc.jetstream(timeout=timeout)
        self.source = source
        self.timeout = timeout
        self.resolve_seconds = timeout if resolve_seconds is None else resolve_seconds
        self.reader = DirectReader(nc, timeout)
        self._histories: OrderedDict[AggregateRef, History] = OrderedDict()
        self._cached_aggregates = cached_aggregates

    async def load(self, ref: AggregateRef, *, cached: bool = False) -> History:
        """``cached=True`` may return the history as last seen without asking the server: a
        command that decides on it still appends with its expected sequence, so a stale
        history ends in a ConcurrencyError and a fresh load (see ``execute``)."""
        if cached and ref in self._histories:
            self._histories.move_to_end(ref)
            return self._histories[ref]
        known = self._histories.pop(ref, None) or History(ref, (), 0)
        new = [
            parse_stored(headers, data)
            async for headers, data in self.reader.read(
                stream_name(ref.context), ref.filter, known.last_sequence + 1
            )
        ]
        return self._remember(
            History(ref, known.events + tuple(new), new[-1].sequence if new else known.last_sequence)
        )

    def _remember(self, history: History) -> History:
        self._histories[history.ref] = history
        self._histories.move_to_end(history.ref)
        if len(self._histories) > self._cached_aggregates:
            self._histories.popitem(last=False)
        return history

    def _remember_appended(
        self,
        ref: AggregateRef,
        expected: int,
        events: Sequence[Event],
        envelopes: Sequence[Envelope],
        appended: Appended,
    ) -> None:
        known = self._histories.get(ref) or (History(ref, (), 0) if expected == 0 else None)
        if appended.duplicate or known is None or known.last_sequence != expected:
            self._histories.pop(ref, None)
            return
        recorded = tuple(
            RecordedEvent(ref, event, envelope, sequence)
            for event, envelope, sequence in zip(events, envelopes, appended.sequences, strict=True)
        )
        self._remember(History(ref, known.events + recorded, appended.sequences[-1]))

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
        messages: list[_Message] = []
        for index, (event, envelope) in enumerate(zip(events, envelopes, strict=True)):
            headers = {**encode_headers(envelope), "Nats-Msg-Id": envelope.id}
            if index == 0:
                headers["Nats-Expected-Last-Subject-Sequence"] = str(expected_sequence)
                headers["Nats-Expected-Last-Subject-Sequence-Subject"] = ref.filter
            messages.append((ref.subject(event.name()), encode_event(event), headers))
        appended = await self._resolved(ref, expected_sequence, messages)
        self._remember_appended(ref, expected_sequence, events, envelopes, appended)
        return appended

    async def _resolved(self, ref: AggregateRef, expected: int, messages: list[_Message]) -> Appended:
        """Publish until the server gives an answer. Sending the same messages again is safe:
        whatever an earlier attempt stored (or a copy the client still buffers stores later),
        each event id is stored once."""
        maybe_stored, give_up, delay = False, None, 0.05
        while True:
            try:
                return await self._attempt(ref, expected, messages)
            except (NatsTimeoutError, EventStoreUnavailable, *NOT_TAKEN) as exc:
                maybe_stored = maybe_stored or isinstance(exc, NatsTimeoutError)
                give_up = give_up or time.monotonic() + self.resolve_seconds
                if time.monotonic() >= give_up:
                    if maybe_stored:
                        UNRESOLVED.labels(stream_name(ref.context)).inc()
                    unresolved = AppendOutcomeUnknown if maybe_stored else EventStoreUnavailable
                    raise unresolved(f"append to {ref.filter}: NATS did not answer ({exc!r})") from exc
                RESENT.labels(stream_name(ref.context)).inc()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def _attempt(self, ref: AggregateRef, expected: int, messages: list[_Message]) -> Appended:
        try:
            if len(messages) == 1:
                return await self._publish_one(ref, expected, *messages[0])
            return await self._publish_batch(ref, expected, messages)
        except ConcurrencyError:
            self._histories.pop(ref, None)
            # The server checks the expected sequence before deduplication: a retry of an
            # append that did land looks like a conflict. Its event ids tell the two apart.
            stored = await self._stored_sequences(ref, [headers["Nats-Msg-Id"] for *_, headers in messages])
            if stored:
                return Appended(stored, duplicate=True)
            raise

    async def _stored_sequences(self, ref: AggregateRef, event_ids: list[str]) -> tuple[int, ...]:
        wanted = set(event_ids)
        history = await self.load(ref)
        return tuple(r.sequence for r in history.events if r.envelope.id in wanted)

    async def _publish_one(
        self, ref: AggregateRef, expected: int, subject: str, body: bytes, headers: dict[str, str]
    ) -> Appended:
        try:
            ack = await self.js.publish(subject, body, headers=headers, timeout=self.timeout)
        except APIError as exc:
            if exc.err_code == WRONG_LAST_SEQUENCE:
                raise ConcurrencyError(ref, expected, exc.description or "") from exc
            if isinstance(exc, ServiceUnavailableError) and not exc.err_code:
                raise  # no JetStream to answer: not taken, tried again
            if isinstance(exc, ServiceUnavailableError):  # an answer: no room (stream or disk full)
                refusal = f"{exc.description} ({exc.err_code})"
                raise EventStoreFull(f"append to {subject} refused: {refusal}") from exc
            raise EventStoreError(f"append to {subject} refused: {exc}") from exc
        return Appended((ack.seq,), duplicate=bool(ack.duplicate))

    async def _publish_batch(self, ref: AggregateRef, expected: int, messages: list[_Message]) -> Appended:
        batch_id = uuid.uuid4().hex
        last = len(messages)
        for number, (subject, body, headers) in enumerate(messages, start=1):
            headers = {**headers, "Nats-Batch-Id": batch_id, "Nats-Batch-Sequence": str(number)}
            if number < last:
                await self.nc.publish(subject, body, headers=headers)
                continue
            headers["Nats-Batch-Commit"] = "1"
            reply = await self.nc.request(subject, body, headers=headers, timeout=self.timeout)
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
