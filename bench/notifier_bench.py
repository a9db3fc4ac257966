"""Notifier: notifications per second into the local sinks, and event-to-sink latency (issue #7).

Runs a fresh nats-server and SecantusDB, the SMTP sink (aiosmtpd, .eml files) and the SMS sink
(HTTP) of serambi_testing.sinks in this process, and the notifier as its own OS process, exactly as
``make run`` does. Every event is a RequestSubmitted with a sealed email and phone: it causes two
deliveries (an email and an SMS), each recorded in the ledger before and after sending, plus a
NotificationSent event.

(a) throughput: N events are appended while the notifier is stopped; it is then started and
    the clock runs until all 2N messages are in the sinks (start-up excluded: the clock starts
    at the first message).
(b) latency: with the notifier idle, events are appended one at a time (waiting for both of
    its messages before the next); latency = sink receipt time − append time, p50/p99.

Run: .venv/bin/python bench/notifier_bench.py [--events 300] [--samples 100]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from email.parser import BytesHeaderParser
from http.server import ThreadingHTTPServer
from pathlib import Path

import nats

sys.path.insert(0, str(Path(__file__).parent))
from aiosmtpd.controller import Controller  # noqa: E402
from common import percentile, servers  # noqa: E402
from serambi_contracts import AggregateRef  # noqa: E402
from serambi_kit.eventstore import JetStreamEventStore  # noqa: E402
from serambi_kit.mongo import connect, database  # noqa: E402
from serambi_kit.pii import Vault, parse_master_key  # noqa: E402
from serambi_kit.settings import DEV_PII_MASTER_KEY  # noqa: E402
from serambi_kit.topology import apply_streams  # noqa: E402
from serambi_testing import localstack, samples  # noqa: E402
from serambi_testing.sinks import MailboxHandler, SmsSink, sms_handler  # noqa: E402


class TimedMailbox(MailboxHandler):
    """The SMTP sink, noting when each case's message arrived."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.arrivals: dict[str, float] = {}

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        reply = await super().handle_DATA(server, session, envelope)
        case = BytesHeaderParser().parsebytes(envelope.content).get("X-Serambi-Case")
        self.arrivals.setdefault(case, time.time())
        return reply


class TimedSms(SmsSink):
    def __init__(self, log_file: Path) -> None:
        super().__init__(log_file)
        self.arrivals: dict[str, float] = {}
        self.count = 0

    def record(self, record: dict) -> None:
        super().record(record)
        with self.lock:  # an SMS of several parts is one request per part (<delivery id>-1, -2, …)
            delivery = (record["body"].get("client_message_id") or "")[:36]
            if delivery not in self.arrivals:
                self.count += 1
                self.arrivals[delivery] = time.time()


def notifier_process(env: dict[str, str], port: int, logs: Path) -> localstack.ManagedProcess:
    return localstack.ManagedProcess(
        "notifier", [sys.executable, "-m", "serambi_notifier"], port, logs / "notifier.log", env=env
    )


async def run(events: int, samples_wanted: int) -> None:
    with servers() as srv, tempfile.TemporaryDirectory(prefix="serambi-notifier-bench-") as tmp:
        base = Path(tmp)
        mailbox = TimedMailbox(base / "mail")
        smtp = Controller(mailbox, hostname="127.0.0.1", port=localstack.free_port())
        smtp.start()
        sms_sink = TimedSms(base / "sms.jsonl")
        sms = ThreadingHTTPServer(("127.0.0.1", localstack.free_port()), sms_handler(sms_sink))
        threading.Thread(target=sms.serve_forever, daemon=True).start()
        port = localstack.free_port()
        env = {
            "SERAMBI_NATS_URL": srv.nats_url,
            "SERAMBI_MONGO_URL": srv.mongo_url,
            "SERAMBI_HTTP_PORT": str(port),
            "SERAMBI_LOG_LEVEL": "WARNING",
            "SERAMBI_ENVIRONMENT": "test",
            "SERAMBI_SMTP_PORT": str(smtp.port),
            "SERAMBI_SMS_URL": f"http://127.0.0.1:{sms.server_address[1]}/json/messages",
            "SERAMBI_QUIET_HOURS_START": "00:00",
            "SERAMBI_QUIET_HOURS_END": "00:00",
            "SERAMBI_LETTERS_BASE_URL": "",
        }
        nc = await nats.connect(srv.nats_url)
        mongo = connect(srv.mongo_url)
        try:
            await apply_streams(nc.jetstream())
            store = JetStreamEventStore(nc, "/serambi/bench")
            vault = Vault(database(mongo, "serambi_vault"), parse_master_key(DEV_PII_MASTER_KEY))

            async def append(code: str) -> None:
                requester = await samples.requester(vault)
                await store.append(
                    AggregateRef("intake", "request", code),
                    [await samples.request_submitted(vault, code, requester)],
                    expected_sequence=0,
                    expected_version=0,
                )

            # (a) throughput from a backlog
            for n in range(events):
                await append(f"AUD-B{n:06d}")
            process = notifier_process(env, port, base).start(ready_timeout=60)
            try:
                total = 2 * events
                deadline = time.monotonic() + 600
                while (len(mailbox.arrivals) + sms_sink.count) < total:
                    if time.monotonic() > deadline:
                        raise SystemExit("timed out waiting for the backlog")
                    await asyncio.sleep(0.05)
                arrivals = sorted([*mailbox.arrivals.values(), *sms_sink.arrivals.values()])
                elapsed = arrivals[-1] - arrivals[0]
                rate = (total - 1) / elapsed if elapsed > 0 else float("inf")
                print(
                    f"(a) backlog of {events} events → {total} messages (email + SMS) "
                    f"in {elapsed:.2f} s: {rate:.0f} notifications/s"
                )

                # (b) latency, one event at a time
                latencies = []
                for n in range(samples_wanted):
                    code = f"AUD-L{n:06d}"
                    before = len(sms_sink.arrivals)
                    appended = time.time()
                    await append(code)
                    while code not in mailbox.arrivals or len(sms_sink.arrivals) == before:  # noqa: ASYNC110 — the sinks run in threads
                        await asyncio.sleep(0.002)
                    latencies.append((mailbox.arrivals[code] - appended) * 1000)
                    latest_sms = max(sms_sink.arrivals.values())
                    latencies.append((latest_sms - appended) * 1000)
                print(
                    f"(b) event → sink latency over {samples_wanted} events "
                    f"({len(latencies)} messages): p50 {percentile(latencies, 50):.1f} ms, "
                    f"p99 {percentile(latencies, 99):.1f} ms, max {max(latencies):.1f} ms"
                )
            finally:
                process.stop()
        finally:
            await nc.drain()
            await mongo.close()
            sms.shutdown()
            sms.server_close()
            smtp.stop()
        kept = len(list((base / "mail").glob("*.eml")))
        lines = (base / "sms.jsonl").read_text().count("\n")
        print(
            f"sinks: {kept} .eml files, {lines} SMS requests (the acknowledgement with its tracking "
            f"link is two parts; expected {events + samples_wanted} messages of each kind)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(run(args.events, args.samples))


if __name__ == "__main__":
    main()
