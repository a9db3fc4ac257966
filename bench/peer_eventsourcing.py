"""Peer baseline for bench/load_bench.py: "submit and schedule" on the ``eventsourcing`` library + SQLite.

    .venv/bin/python bench/peer_eventsourcing.py [--requests 2000]

The same two commands Serambi runs for an audience request, on the Python ``eventsourcing`` library
(PyPI ``eventsourcing`` 9.5.x) with its SQLite persistence on a real database file in a temporary
directory (``PERSISTENCE_MODULE=eventsourcing.sqlite``, ``SQLITE_DBNAME=<file>``):

* ``submit``: create an ``AudienceRequest`` aggregate (tracking code, requester institution, topic,
  purpose, participants, proposed dates) and save it;
* ``schedule``: load the request, then for each proposed date load the ``RoomDay`` aggregates (one per
  room and day, id derived from both; created on first booking) until one has a free one-hour slot,
  book the first free slot on that RoomDay (it refuses a taken slot) and mark the request scheduled;
  both aggregates are saved in ONE ``save()`` call, i.e. one SQLite transaction. Optimistic
  concurrency is the library's: the events table's primary key (originator_id, originator_version)
  refuses a second event at the same version (``RecordConflictError``).

Library defaults otherwise: no snapshotting (off by default), no aggregate cache (off by default, so
every command reloads its aggregates from their events), the default JSON transcoder, no
compression or encryption. A single thread runs the commands one after another (the library is
synchronous).

Durability (read back from the database file and printed by the run): the library switches a
file database to ``journal_mode=WAL`` and opens its connections in autocommit mode, issuing an
explicit BEGIN/COMMIT per save; it never sets ``synchronous``, so SQLite's compiled default applies
(``SQLITE_DEFAULT_WAL_SYNCHRONOUS=2``, i.e. ``synchronous=FULL`` on the bundled SQLite 3.40: the WAL
is fsynced at every commit).

Load shape: 4 rooms x 8 one-hour slots (08:00-15:00) per working day (Mon-Fri); each request
proposes 3 consecutive working days starting at a random day of a horizon sized for ~80 % final
occupancy; when a proposed day is full the next proposed date is tried, and when all three are full
the following working days (a counter-proposal in Serambi's terms). A short warm-up is excluded
from timing. At the end every request is reloaded: it must be scheduled, its slot must be booked
for it on its RoomDay, and no slot may be held twice -- otherwise the run raises.
"""

from __future__ import annotations

import argparse
import math
import random
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event

sys.path.insert(0, str(Path(__file__).parent))
from common import percentile, summary  # noqa: E402

ROOMS = ("ruang-rapat-1", "ruang-rapat-2", "ruang-rapat-3", "ruang-kerja-gubernur")
SLOTS = tuple(range(8, 16))  # one-hour slots starting 08:00 .. 15:00
PROPOSED = 3  # proposed dates per request
FIRST_DAY = date(2026, 3, 2)  # a Monday
OCCUPANCY = 0.8  # horizon sized so the rooms end about this full
WARMUP = 50
DB_FILE = "peer-eventsourcing.sqlite"


class SlotTakenError(Exception):
    pass


class AudienceRequest(Aggregate):
    @event("Submitted")
    def __init__(
        self,
        tracking_code: str,
        requester: str,
        topic: str,
        purpose: str,
        participants: list[str],
        proposed_dates: list[str],
    ) -> None:
        self.tracking_code = tracking_code
        self.requester = requester
        self.topic = topic
        self.purpose = purpose
        self.participants = participants
        self.proposed_dates = proposed_dates
        self.status = "submitted"
        self.room: str | None = None
        self.day: str | None = None
        self.slot: int | None = None

    def schedule(self, room: str, day: str, slot: int) -> None:
        if self.status != "submitted":
            raise ValueError(f"request {self.tracking_code} is {self.status}, not submitted")
        self._scheduled(room=room, day=day, slot=slot)

    @event("Scheduled")
    def _scheduled(self, room: str, day: str, slot: int) -> None:
        self.status = "scheduled"
        self.room, self.day, self.slot = room, day, slot


class RoomDay(Aggregate):
    """One room on one day: the single place where a double booking is refused."""

    @staticmethod
    def create_id(room: str, day: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/serambi-peer/roomday/{room}/{day}")

    @event("Opened")
    def __init__(self, room: str, day: str) -> None:
        self.room = room
        self.day = day
        self.bookings: dict[int, UUID] = {}

    def first_free(self) -> int | None:
        return next((slot for slot in SLOTS if slot not in self.bookings), None)

    def book(self, slot: int, request_id: UUID) -> None:
        if slot in self.bookings:
            raise SlotTakenError(f"{self.room} {self.day} {slot:02d}:00 is taken")
        self._booked(slot=slot, request_id=request_id)

    @event("SlotBooked")
    def _booked(self, slot: int, request_id: UUID) -> None:
        self.bookings[slot] = request_id


class Audiences(Application[UUID]):
    roomday_loads = 0  # RoomDay aggregates loaded (or opened) by schedule(), for the report

    def submit(
        self, *, requester: str, topic: str, purpose: str, participants: list[str], proposed_dates: list[str]
    ) -> UUID:
        request = AudienceRequest(
            tracking_code=f"AUD-{secrets.token_hex(4).upper()}",
            requester=requester,
            topic=topic,
            purpose=purpose,
            participants=participants,
            proposed_dates=proposed_dates,
        )
        self.save(request)
        return request.id

    def schedule(self, request_id: UUID, fallback: list[str]) -> None:
        """Book the first free slot on the first proposed date (then ``fallback`` dates) that has one."""
        request: AudienceRequest = self.repository.get(request_id)
        for day in [*request.proposed_dates, *fallback]:
            for room in ROOMS:
                room_day = self._room_day(room, day)
                slot = room_day.first_free()
                if slot is not None:
                    room_day.book(slot, request.id)
                    request.schedule(room, day, slot)
                    self.save(room_day, request)
                    return
        raise RuntimeError(f"no free slot for {request.tracking_code}")

    def _room_day(self, room: str, day: str) -> RoomDay:
        self.roomday_loads += 1
        try:
            return self.repository.get(RoomDay.create_id(room, day))
        except AggregateNotFoundError:
            return RoomDay(room=room, day=day)


@dataclass
class PeerResult:
    requests: int
    seconds: float
    rate: float  # requests submitted AND scheduled per second
    submit_ms: list[float]
    schedule_ms: list[float]


def working_days(count: int) -> list[str]:
    days: list[str] = []
    day = FIRST_DAY
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day.isoformat())
        day += timedelta(days=1)
    return days


def submit_and_schedule(count: int, directory: Path) -> PeerResult:
    """``count`` requests submitted and scheduled one after another, after a short warm-up."""
    total = WARMUP + count
    horizon = working_days(math.ceil(total / (OCCUPANCY * len(ROOMS) * len(SLOTS))) + PROPOSED)
    rng = random.Random(20260302)
    app = Audiences(
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(directory / DB_FILE)}
    )
    submitted: list[UUID] = []
    submit_ms: list[float] = []
    schedule_ms: list[float] = []

    def one(number: int, timed: bool) -> None:
        start = rng.randrange(len(horizon) - PROPOSED + 1)
        proposed = horizon[start : start + PROPOSED]
        fallback = horizon[start + PROPOSED :] + horizon[:start]
        began = time.perf_counter()
        request_id = app.submit(
            requester=f"Dinas {number % 37:02d} Kabupaten Kubu Raya",
            topic="Audiensi rencana investasi",
            purpose="Pemaparan rencana kerja sama pengembangan kawasan industri",
            participants=[f"peserta-{number}-{k}" for k in range(3)],
            proposed_dates=proposed,
        )
        submitted_at = time.perf_counter()
        app.schedule(request_id, fallback)
        done = time.perf_counter()
        submitted.append(request_id)
        if timed:
            submit_ms.append((submitted_at - began) * 1000)
            schedule_ms.append((done - submitted_at) * 1000)

    try:
        for number in range(WARMUP):
            one(number, timed=False)
        app.roomday_loads = 0
        began = time.perf_counter()
        for number in range(WARMUP, total):
            one(number, timed=True)
        seconds = time.perf_counter() - began
        loads = app.roomday_loads
        verify(app, submitted)
    finally:
        app.close()
    print(
        f"  RoomDay loads per schedule: {loads / count:.2f}; horizon {len(horizon)} working days, "
        f"{total} bookings in {len(horizon) * len(ROOMS) * len(SLOTS)} slots"
    )
    return PeerResult(count, seconds, count / seconds, submit_ms, schedule_ms)


def verify(app: Audiences, request_ids: list[UUID]) -> None:
    """Every request scheduled, booked for it on its RoomDay, and no slot held twice; else raise."""
    held: dict[tuple[str, str, int], UUID] = {}
    for request_id in request_ids:
        request: AudienceRequest = app.repository.get(request_id)
        if request.status != "scheduled" or request.room is None or request.day is None:
            raise RuntimeError(f"request {request.tracking_code} is {request.status}")
        key = (request.room, request.day, request.slot)
        if key in held:
            raise RuntimeError(f"double booking of {key}: {held[key]} and {request_id}")
        held[key] = request_id
        room_day: RoomDay = app.repository.get(RoomDay.create_id(request.room, request.day))
        if room_day.bookings.get(request.slot) != request_id:
            raise RuntimeError(f"{key} is booked for {room_day.bookings.get(request.slot)}, not {request_id}")
    booked = {
        (r, d, s)
        for r, d in {(k[0], k[1]) for k in held}
        for s in app.repository.get(RoomDay.create_id(r, d)).bookings
    }
    if booked != set(held):
        raise RuntimeError(f"RoomDays hold {len(booked)} bookings for {len(held)} scheduled requests")


def sqlite_durability(db_file: Path) -> str:
    """The journal mode stored in the file and the ``synchronous`` a connection gets by default
    (the library never sets it, so its connections get the same)."""
    connection = sqlite3.connect(db_file)
    try:
        journal = connection.execute("PRAGMA journal_mode").fetchone()[0]
        synchronous = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[
            connection.execute("PRAGMA synchronous").fetchone()[0]
        ]
    finally:
        connection.close()
    return f"SQLite {sqlite3.sqlite_version}, journal_mode={journal}, synchronous={synchronous}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="serambi-peer-") as tmp:
        print(
            f"eventsourcing peer: {args.requests} requests submitted and scheduled (after {WARMUP} "
            "warm-up), one thread"
        )
        result = submit_and_schedule(args.requests, Path(tmp))
        print(f"  {sqlite_durability(Path(tmp) / DB_FILE)}")
    print(f"  rate     {result.rate:>8.0f} requests/s (submitted and scheduled) in {result.seconds:.2f} s")
    print(f"  submit   {summary(result.submit_ms)}")
    print(f"  schedule {summary(result.schedule_ms)}")
    both = [a + b for a, b in zip(result.submit_ms, result.schedule_ms, strict=True)]
    print(
        f"  both     p50 {percentile(both, 50):.2f} ms, p99 {percentile(both, 99):.2f} ms, "
        f"mean {statistics.fmean(both):.2f} ms"
    )
    print("  check    every request scheduled, every slot held once: ok")


if __name__ == "__main__":
    main()
