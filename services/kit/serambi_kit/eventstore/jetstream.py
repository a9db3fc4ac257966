"""The event store on NATS JetStream (DESIGN §4).

- Append: ``Nats-Msg-Id`` = event id (server-side dedupe), optimistic concurrency with
  ``Nats-Expected-Last-Subject-Sequence`` on the aggregate's ``<ctx>.<agg>.<id>.*`` filter;
  several events go in one atomic batch (``allow_atomic``).
- Load: batched direct get (``next_by_subj``) of the aggregate's subjects, in stream order.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence

from nats.aio.client import Client
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import APIError, NotFoundError
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
    """Loads keep the most recently used histories (events never change), so loading an
    aggregate again reads only what was appended since: usually one empty direct get."""

    def __init__(
        self, nc: Client, source: str, timeout: float = 5.0, cached_aggregates: int = 10_000
    ) -> None:
        self.nc = nc
        self.js = nc.jetstream(timeout=timeout)
        self.source = source
        self.timeout = timeout
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
        self, ref: AggregateRef, expected: int, events: Sequence[Event], envelopes, appended: Appended
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
        messages = []
        for index, (event, envelope) in enumerate(zip(events, envelopes, strict=True)):
            headers = {**encode_headers(envelope), "Nats-Msg-Id": envelope.id}
            if index == 0:
                headers["Nats-Expected-Last-Subject-Sequence"] = str(expected_sequence)
                headers["Nats-Expected-Last-Subject-Sequence-Subject"] = ref.filter
            messages.append((ref.subject(event.name()), encode_event(event), headers))
        try:
            if len(messages) == 1:
                appended = await self._publish_one(ref, expected_sequence, *messages[0])
            else:
                appended = await self._publish_batch(ref, expected_sequence, messages)
            self._remember_appended(ref, expected_sequence, events, envelopes, appended)
            return appended
        except ConcurrencyError:
            self._histories.pop(ref, None)
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


class DirectReader:
    """Batched direct gets (``next_by_subj``) answered on one long-lived reply subscription,
    so reading an aggregate costs one request, not a subscribe/unsubscribe pair as well."""

    def __init__(self, nc: Client, timeout: float = 5.0) -> None:
        self.nc = nc
        self.timeout = timeout
        self._prefix = nc.new_inbox()
        self._replies: dict[str, asyncio.Queue] = {}
        self._numbers = itertools.count()
        self._subscription = None
        self._lock = asyncio.Lock()

    async def _route(self, msg) -> None:
        queue = self._replies.get(msg.subject)
        if queue is not None:
            queue.put_nowait(msg)

    async def _subscribe(self) -> None:
        async with self._lock:
            if self._subscription is None:
                self._subscription = await self.nc.subscribe(f"{self._prefix}.*", cb=self._route)

    async def read(
        self, stream: str, subject_filter: str, from_sequence: int = 1
    ) -> AsyncIterator[tuple[dict[str, str], bytes]]:
        """Every stored message (headers, body) matching ``subject_filter``, in stream order."""
        await self._subscribe()
        api = f"$JS.API.DIRECT.GET.{stream}"
        next_sequence = from_sequence
        while True:
            reply = f"{self._prefix}.{next(self._numbers)}"
            queue: asyncio.Queue = asyncio.Queue()
            self._replies[reply] = queue
            request = {"seq": next_sequence, "next_by_subj": subject_filter, "batch": DIRECT_GET_BATCH}
            try:
                await self.nc.publish(api, json.dumps(request).encode(), reply=reply)
                received = 0
                while True:
                    try:
                        msg = await asyncio.wait_for(queue.get(), self.timeout)
                    except TimeoutError as exc:
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
                self._replies.pop(reply, None)
            # The end-of-batch status says how many matching messages remain; a server may end
            # a batch early (size limits, a replica answering), so that count decides.
            if headers.get("Nats-Num-Pending", "0") == "0":
                return
            if received == 0:
                raise EventStoreError(f"direct get on {stream} made no progress at {next_sequence}")

    async def close(self) -> None:
        if self._subscription is not None:
            await self._subscription.unsubscribe()
            self._subscription = None


async def read_raw(
    nc: Client, stream: str, subject_filter: str, *, from_sequence: int = 1, timeout: float = 5.0
) -> AsyncIterator[tuple[dict[str, str], bytes]]:
    """Every stored message (headers, body) matching ``subject_filter``, by batched direct get.

    Any replica may answer a direct get, and a follower can be a moment behind; so when the
    replicas have nothing more, the stream leader is asked (a non-direct get) whether a later
    matching message exists, and reading goes on from it until the leader has nothing more.
    Rebuilds and replays rely on this; aggregate loads do not need it (their appends check the
    expected sequence)."""
    reader = DirectReader(nc, timeout)
    js = nc.jetstream(timeout=timeout)
    next_sequence = from_sequence
    stalled_since = time.monotonic()
    try:
        while True:
            async for headers, data in reader.read(stream, subject_filter, next_sequence):
                next_sequence = int(headers["Nats-Sequence"]) + 1
                stalled_since = time.monotonic()
                yield headers, data
            try:
                later = await js.get_msg(stream, seq=next_sequence, subject=subject_filter, next=True)
            except NotFoundError:
                return
            if later.seq is None or later.seq < next_sequence:
                return
            if time.monotonic() - stalled_since > timeout:
                raise EventStoreError(f"{stream}: replicas stay behind the leader at {later.seq}")
            await asyncio.sleep(0.02)  # a replica is catching up; read again from the leader's next
    finally:
        await reader.close()


def parse_stored(headers: dict[str, str], data: bytes) -> RecordedEvent:
    envelope = decode_headers(headers)
    ref, _ = parse_subject(headers["Nats-Subject"])
    return RecordedEvent(ref, decode_event(envelope, data), envelope, int(headers["Nats-Sequence"]))
