"""Fault-test harness: a whole stack as OS processes, a bounded load driver, and a checker.

The stack: nats-server, SecantusDB, an SMTP and an SMS sink, and the services (intake,
scheduling — possibly several replicas —, complaints, notifier), every one on loopback with a
``ManagedProcess`` the tests can SIGKILL, SIGSTOP or restart.

The driver submits requests (multipart) and complaints (JSON), each with an ``Idempotency-Key``
so that every retry is safe, with bounded concurrency, a bounded number
of attempts per case and a deadline, and records what each case got:

- ``accepted``: a 201 with a tracking code (the service acknowledged it);
- ``maybe``: no definite answer (the connection broke after the request was sent, a 5xx, or
  the case's attempts or time ran out);
- ``refused``: a definite 4xx refusal (should not happen: counted and asserted 0).

The checker reads every stored event of the streams and accounts for every case and every
acknowledged event: ``lost`` (acknowledged and missing, or never reaching its final state),
``duplicated`` (one ce-id stored twice, two RequestSubmitted for one case, two AudienceScheduled
for one audience, two ComplaintReceived for one code, two NotificationSent for one cause,
channel and recipient) and ``unexpected`` (events no submitted case explains, and dead letters:
in a run without poison, a message set aside for redrive is an effect missing).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import nats
from pymongo import AsyncMongoClient, MongoClient
from serambi_kit.deadletters import COLLECTION as DEAD_LETTERS
from serambi_kit.eventstore import read_raw
from serambi_kit.pii import Vault, parse_master_key
from serambi_kit.settings import DEV_PII_MASTER_KEY
from serambi_ops.commands.demo import SAMPLE_DOCUMENTS, request_form
from serambi_testing.stack import LocalStack as FaultStack
from serambi_testing.stack import local_stack as fault_stack  # noqa: F401 — the tests' name
from serambi_testing.stack import sample_complaint, sample_request

SERAMBI = Path(sys.executable).parent / "serambi"
RETRYABLE = {409, 429, 502, 503, 504}
DECISIONS = {"AudienceScheduled", "AudienceProposed", "AudienceReferred", "AudienceDeclined"}
DECIDED = {"scheduled", "in_review", "declined"}  # the tracking view once scheduling decided


# -- the driver -----------------------------------------------------------------------------


@dataclass
class Case:
    kind: str  # "request" | "complaint"
    marker: str
    outcome: str = "pending"  # accepted | maybe | refused
    code: str | None = None
    token: str | None = None
    attempts: int = 0
    last: str = ""


@dataclass
class Driver:
    """Submits cases with bounded concurrency, attempts and time."""

    stack: FaultStack
    concurrency: int = 8
    max_attempts: int = 40
    case_deadline: float = 90.0
    intake: str = "intake"
    complaints: str = "complaints"
    pace: float = 0.0  # at least this many seconds between the starts of two cases

    async def _request(self, client: httpx.AsyncClient, case: Case) -> None:
        form = request_form(sample_request(case.marker))
        await self._submit(
            case,
            lambda: client.post(
                f"{self.stack.url(self.intake)}/api/v1/requests",
                data=form,
                files=dict(SAMPLE_DOCUMENTS),
                headers={"Idempotency-Key": f"fault-{case.marker}"},
            ),
        )

    async def _complaint(self, client: httpx.AsyncClient, case: Case) -> None:
        await self._submit(
            case,
            lambda: client.post(
                f"{self.stack.url(self.complaints)}/api/v1/complaints",
                json=sample_complaint(case.marker),
                headers={"Idempotency-Key": f"fault-{case.marker}"},
            ),
        )

    async def _submit(self, case: Case, send) -> None:
        """Send until a definite answer; the Idempotency-Key makes every retry safe."""
        deadline = time.monotonic() + self.case_deadline
        while case.attempts < self.max_attempts and time.monotonic() < deadline:
            case.attempts += 1
            try:
                response = await send()
            except httpx.HTTPError as exc:
                case.last = type(exc).__name__
                await asyncio.sleep(0.3)
                continue
            if response.status_code == 201:
                answer = response.json()
                case.outcome, case.code, case.token = (
                    "accepted",
                    answer["tracking_code"],
                    answer["access_token"],
                )
                return
            case.last = f"{response.status_code} {response.text[:200]}"
            if response.status_code in RETRYABLE or response.status_code >= 500:
                # 409: a killed service's lease on the key still runs; Retry-After says how long
                wait = float(response.headers.get("Retry-After", 0.3))
                await asyncio.sleep(min(wait, max(0.0, deadline - time.monotonic())))
                continue
            case.outcome = "refused"
            return
        case.outcome = "maybe"

    async def run(self, cases: list[Case], stop_after: float = 600.0) -> float:
        semaphore = asyncio.Semaphore(self.concurrency)
        started = time.monotonic()

        async def one(client: httpx.AsyncClient, case: Case, index: int) -> None:
            await asyncio.sleep(index * self.pace)
            async with semaphore:
                if time.monotonic() - started > stop_after:
                    case.outcome, case.last = "maybe", "not sent: run deadline"
                    return
                await (self._request if case.kind == "request" else self._complaint)(client, case)

        limits = httpx.Limits(max_connections=self.concurrency * 2)
        async with httpx.AsyncClient(timeout=10.0, limits=limits) as client:
            await asyncio.gather(*(one(client, case, i) for i, case in enumerate(cases)))
        return time.monotonic() - started


def make_cases(requests: int, complaints: int, run: str) -> list[Case]:
    cases = [Case("request", f"{run}R{i:05d}") for i in range(requests)]
    cases += [Case("complaint", f"{run}C{i:05d}") for i in range(complaints)]
    random.Random(run).shuffle(cases)
    return cases


# -- the checker ----------------------------------------------------------------------------


async def _read(nats_url: str, stream: str, subject: str) -> list[tuple[dict[str, str], dict]]:
    nc = await nats.connect(nats_url)
    try:
        return [(h, json.loads(d)) async for h, d in read_raw(nc, stream, subject, timeout=10.0)]
    finally:
        await nc.drain()


def stream_events(stack: FaultStack, stream: str, subject: str) -> list[tuple[dict[str, str], dict]]:
    return asyncio.run(_read(stack.env["SERAMBI_NATS_URL"], stream, subject))


async def _reveal(stack: FaultStack, sealed: list[dict]) -> list[str | None]:
    client: AsyncMongoClient = AsyncMongoClient(
        stack.env["SERAMBI_MONGO_URL"], serverSelectionTimeoutMS=20000
    )
    try:
        vault = Vault(
            client[stack.env.get("SERAMBI_VAULT_DATABASE", "serambi_vault")],
            parse_master_key(stack.env.get("SERAMBI_PII_MASTER_KEY", DEV_PII_MASTER_KEY)),
        )
        return [await vault.reveal(value) for value in sealed]
    finally:
        await client.close()


def revealed(stack: FaultStack, sealed: list[dict]) -> list[str | None]:
    """Sealed values (a request's topic) in clear, with the stack's vault."""
    return asyncio.run(_reveal(stack, sealed))


def event_type(headers: dict[str, str]) -> str:
    return headers["ce-type"].rsplit(".", 2)[-2]


@dataclass
class Report:
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def add(self, key: str, amount: int = 1, problem: str | None = None) -> None:
        self.counts[key] = self.counts.get(key, 0) + amount
        if problem and len(self.problems) < 30:
            self.problems.append(problem)

    @property
    def lost(self) -> int:
        return self.counts.get("lost", 0)

    @property
    def duplicated(self) -> int:
        return self.counts.get("duplicated", 0)

    @property
    def unexpected(self) -> int:
        return self.counts.get("unexpected", 0)

    def line(self) -> str:
        return " ".join(f"{k}={v}" for k, v in sorted(self.counts.items()))


async def _views(url: str, path: str, cases: list[Case], ready) -> dict[str, dict | None]:
    """The tracking view of every accepted case (bounded concurrency)."""
    semaphore = asyncio.Semaphore(8)
    views: dict[str, dict | None] = {}

    async def one(client: httpx.AsyncClient, case: Case) -> None:
        async with semaphore:
            try:
                response = await client.get(
                    f"{url}{path}/{case.code}", headers={"X-Access-Token": case.token}
                )
                views[case.marker] = response.json() if response.status_code == 200 else None
            except httpx.HTTPError:
                views[case.marker] = None

    async with httpx.AsyncClient(timeout=10.0) as client:
        await asyncio.gather(*(one(client, case) for case in cases if not ready(case)))
    return views


def wait_final(
    stack: FaultStack,
    cases: list[Case],
    timeout: float,
    intake: str = "intake",
    complaints: str = "complaints",
) -> dict[str, int]:
    """Until every accepted request shows ``scheduled`` and every accepted complaint is visible
    (polling only the ones not there yet); returns how many are not there at the end."""
    done: set[str] = set()
    deadline = time.monotonic() + timeout
    pending = {"request": 0, "complaint": 0}
    while time.monotonic() < deadline:
        for kind, service, path, good in (
            ("request", intake, "/api/v1/requests", lambda v: v and v.get("status") in DECIDED),
            ("complaint", complaints, "/api/v1/complaints", lambda v: v is not None),
        ):
            wanted = [c for c in cases if c.kind == kind and c.outcome == "accepted"]
            if service not in stack.services:
                continue
            views = asyncio.run(
                _views(stack.url(service), path, wanted, lambda c, seen=done: c.marker in seen)
            )
            done |= {marker for marker, view in views.items() if good(view)}
            pending[kind] = sum(1 for c in wanted if c.marker not in done)
        if not any(pending.values()):
            break
        time.sleep(1.0)
    return pending


def check(
    stack: FaultStack, cases: list[Case], *, notifications: bool = True, pending: dict[str, int] | None = None
) -> Report:
    """Accounts for every submitted case and every stored event (see the module docstring)."""
    report = Report()
    requests = [c for c in cases if c.kind == "request"]
    complaints = [c for c in cases if c.kind == "complaint"]
    report.add("cases", len(cases))
    for case in cases:
        report.add(f"{case.kind}_{case.outcome}")
        if case.outcome == "maybe" and case.last.startswith("not sent"):
            report.add(f"{case.kind}_not_sent")  # the run's time budget ran out first
        elif case.outcome == "maybe" and case.last.startswith("409"):
            report.add("request_stuck_key")  # finding 1 of docs/faults.md
        if case.outcome == "refused":
            report.add("unexpected", problem=f"{case.marker} refused: {case.last}")
    for kind, count in (pending or {}).items():
        if count:
            report.add("lost", count, problem=f"{count} accepted {kind}s never reached their final state")

    def ce_ids(events: list[tuple[dict[str, str], dict]], stream: str) -> None:
        repeated = [i for i, n in Counter(h["ce-id"] for h, _ in events).items() if n > 1]
        if repeated:
            report.add("duplicated", len(repeated), problem=f"{stream}: ce-id stored twice: {repeated[:3]}")

    # intake: one RequestSubmitted per case, and only for submitted cases
    intake = stream_events(stack, "INTAKE", "intake.request.*.*")
    ce_ids(intake, "INTAKE")
    report.add("events_intake", len(intake))
    submitted = [(h, b) for h, b in intake if event_type(h) == "RequestSubmitted"]
    by_marker: dict[str, list[str]] = defaultdict(list)
    topics = revealed(stack, [body["topic"] for _, body in submitted])  # sealed since version 2
    for (_, body), topic in zip(submitted, topics, strict=True):
        by_marker[(topic or "").rsplit(" ", 1)[-1]].append(body["tracking_code"])
    request_markers = {c.marker: c for c in requests}
    for marker, codes in by_marker.items():
        if marker not in request_markers:
            report.add("unexpected", problem=f"RequestSubmitted for unknown case {marker}: {codes}")
        elif len(codes) > 1:
            report.add(
                "duplicated", len(codes) - 1, problem=f"{marker}: RequestSubmitted x{len(codes)} {codes}"
            )
    for case in requests:
        codes = by_marker.get(case.marker, [])
        if case.outcome == "accepted" and case.code not in codes:
            report.add("lost", problem=f"{case.marker} acknowledged as {case.code}, not in INTAKE ({codes})")
        if case.outcome == "maybe":
            report.add("request_maybe_stored" if codes else "request_maybe_absent")
    request_codes = {code for codes in by_marker.values() for code in codes}

    # scheduling: one decision (booked, proposed, referred or declined) per stored request
    scheduling = stream_events(stack, "SCHEDULING", "scheduling.audience.*.*")
    ce_ids(scheduling, "SCHEDULING")
    report.add("events_scheduling", len(scheduling))
    booked = Counter(b.get("request_tracking_code") for h, b in scheduling if event_type(h) in DECISIONS)
    for code, n in booked.items():
        if n > 1:
            report.add("duplicated", n - 1, problem=f"{code}: {n} scheduling decisions")
        if code not in request_codes:
            report.add("unexpected", problem=f"AudienceScheduled for unknown request {code}")
    unbooked = [c for c in request_codes if c not in booked]
    if unbooked:
        report.add("lost", len(unbooked), problem=f"stored requests never scheduled: {unbooked[:5]}")
    report.add("audiences_decided", len(booked))
    report.add("audiences_booked", sum(1 for h, _ in scheduling if event_type(h) == "AudienceScheduled"))

    # complaints: one ComplaintReceived per code; at most the maybe-accepted ones beyond the 201s
    if complaints:
        stored = stream_events(stack, "COMPLAINTS", "complaints.complaint.*.ComplaintReceived")
        ce_ids(stored, "COMPLAINTS")
        received = Counter(b["tracking_code"] for _, b in stored)
        for code, n in received.items():
            if n > 1:
                report.add("duplicated", n - 1, problem=f"{code}: ComplaintReceived x{n}")
        accepted = {c.code for c in complaints if c.outcome == "accepted"}
        for code in accepted - set(received):
            report.add("lost", problem=f"complaint {code} acknowledged, not in COMPLAINTS")
        extra = set(received) - accepted
        maybe = sum(1 for c in complaints if c.outcome == "maybe")
        report.add("complaint_maybe_stored", len(extra))
        if len(extra) > maybe:
            report.add(
                "unexpected",
                len(extra) - maybe,
                problem=f"{len(extra)} stored complaints not acknowledged, only {maybe} maybe",
            )

    # dead letters: in a run without poison every message must take effect; one set aside for an
    # operator's redrive is an acknowledged event whose effect is missing
    for service in sorted({name.split("-")[0] for name in stack.services}):
        for letter in snapshot(stack, f"serambi_{service}", DEAD_LETTERS):
            report.add(
                "unexpected",
                problem=f"dead letter in {service}: {letter['subject']}: {letter['reason'][:200]}",
            )
            report.add("dead_letters")

    # notifier: exactly one NotificationSent per (cause, channel, recipient): per delivery, whose
    # id is derived from the three (the events carry nothing of the recipient's address)
    if notifications:
        notices = stream_events(stack, "NOTIFIER", "notifier.delivery.*.*")
        ce_ids(notices, "NOTIFIER")
        sent = Counter(
            (b["cause_event_id"], b["channel"], b["delivery_id"])
            for h, b in notices
            if event_type(h) == "NotificationSent"
        )
        for key, n in sent.items():
            if n > 1:
                report.add("duplicated", n - 1, problem=f"NotificationSent x{n} for {key}")
        report.add("notifications_sent", len(sent))
        causes = {h["ce-id"] for h, _ in submitted}
        notified = {cause for cause, _, _ in sent}
        silent = causes - notified
        if silent:
            report.add("lost", len(silent), problem=f"RequestSubmitted without a notification: {len(silent)}")
        report.add("smtp_sink_duplicates", stack.sink_duplicates())
    return report


# -- read models against a rebuild ------------------------------------------------------------


# ``_sequence`` is bookkeeping: the stream sequence of the last event applied, whichever source
# stream it came from. In a document fed by two streams (intake's ``requests`` follows INTAKE and
# SCHEDULING) it depends on which consumer ran last, so it is left out of the comparison; the
# per-source versions (``_applied``) and every business field are compared. See docs/faults.md.
VOLATILE = {"_sequence": 0}


def snapshot(stack: FaultStack, database: str, collection: str) -> list[dict]:
    client: MongoClient = MongoClient(stack.env["SERAMBI_MONGO_URL"], serverSelectionTimeoutMS=20000)
    try:
        return list(client[database][collection].find({}, VOLATILE).sort("_id", 1))
    finally:
        client.close()


def rebuild_differences(before: list[dict], after: list[dict]) -> list[str]:
    """One line per document that differs: its id and the fields (live → rebuilt)."""
    rebuilt = {doc["_id"]: doc for doc in after}
    lines = []
    for doc in before:
        other = rebuilt.pop(doc["_id"], None)
        if other is None:
            lines.append(f"{doc['_id']}: missing from the rebuild")
        elif other != doc:
            keys = sorted(k for k in {*doc, *other} if doc.get(k) != other.get(k))
            lines.append(
                f"{doc['_id']}: " + "; ".join(f"{k}: {doc.get(k)!r} -> {other.get(k)!r}" for k in keys)
            )
    lines += [f"{key}: only in the rebuild" for key in rebuilt]
    return lines


LAST_DIFFERENCES: list[str] = []


def rebuild_matches(stack: FaultStack, service: str, collection: str) -> tuple[int, int]:
    """(documents, documents that differ) between the live read model and a from-scratch
    rebuild (``serambi projections rebuild``); run once the stack is quiet."""
    database = f"serambi_{service}"
    before = snapshot(stack, database, collection)
    env = {**os.environ, **stack.env}
    done = subprocess.run(
        [str(SERAMBI), "projections", "rebuild", service],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    differences = rebuild_differences(before, snapshot(stack, database, collection))
    LAST_DIFFERENCES[:] = differences
    for line in differences[:5]:
        print(f"[rebuild {service}.{collection}] {line[:600]}")
    return len(before), len(differences)


def compare_with_rebuilds(
    stack: FaultStack, report: Report, read_models: tuple[tuple[str, str], ...]
) -> None:
    """Each (service, collection) read model against its rebuild: documents counted, every one
    that differs unexpected."""
    for service, collection in read_models:
        documents, differ = rebuild_matches(stack, service, collection)
        report.add(f"{service}_{collection}_docs", documents)
        if differ:
            report.add(
                "unexpected",
                differ,
                problem=f"{service}.{collection}: {differ} documents differ from a rebuild",
            )
