"""Reading stored events by batched direct get (``next_by_subj``), in stream order: one
aggregate's subjects for a load, or a whole filter for rebuilds and replays."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.errors import NotFoundError
from serambi_contracts import decode_headers, parse_subject

from .model import EventStoreError, EventStoreUnavailable, RecordedEvent, decode_event

DIRECT_GET_BATCH = 256


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
        self._replies: dict[str, asyncio.Queue[Msg]] = {}
        self._numbers = itertools.count()
        self._subscription: Subscription | None = None
        self._lock = asyncio.Lock()

    async def _route(self, msg: Msg) -> None:
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
            queue: asyncio.Queue[Msg] = asyncio.Queue()
            self._replies[reply] = queue
            request = {"seq": next_sequence, "next_by_subj": subject_filter, "batch": DIRECT_GET_BATCH}
            try:
                await self.nc.publish(api, json.dumps(request).encode(), reply=reply)
                received = 0
                while True:
                    try:
                        msg = await asyncio.wait_for(queue.get(), self.timeout)
                    except TimeoutError as exc:
                        raise EventStoreUnavailable(f"direct get on {stream} timed out") from exc
                    headers = msg.headers or {}
                    status = headers.get("Status")
                    if status == "404":
                        return
                    if status == "204":  # end of batch
                        break
                    if status == "503":  # no responders: JetStream restarting or not served yet
                        raise EventStoreUnavailable(f"direct get on {stream}: no responders")
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
