"""Deliveries against a real SMTP server, a real HTTP SMS sink, JetStream and SecantusDB."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import icalendar
from notifier_harness import code, handled
from serambi_contracts import AggregateRef
from serambi_contracts.notifier import FailureCategory, NotificationFailed, NotificationSent
from serambi_notifier.adapters.letter_fetch import LetterFetcher
from serambi_notifier.adapters.rendering import WIB
from serambi_testing import samples


def request_ref(tracking_code: str) -> AggregateRef:
    return AggregateRef("intake", "request", tracking_code)


async def submit(harness, tracking_code: str, **who):
    requester = await samples.requester(harness.vault, **who)
    return await harness.append(
        request_ref(tracking_code), await samples.request_submitted(harness.vault, tracking_code, requester)
    )


async def test_a_submitted_request_is_acknowledged_by_one_email_and_one_sms(harness):
    tracking = code()
    recorded = await submit(harness, tracking)
    await handled(harness.dispatcher(), recorded)
    [mail] = harness.mailbox.for_case(tracking)
    assert mail["To"] == "siti@example.go.id" and tracking in mail["Subject"]
    body = mail.get_body(("plain",)).get_content()
    assert "Kamis, 5 Maret 2026 pukul 16.00 WIB" in body
    assert mail.get_body(("html",)) is not None
    parts = harness.sms.to("+6281345678901")  # one SMS of two parts: the tracking link is long
    text = "".join(part["body"]["text"] for part in parts)
    assert tracking in text and f"/lacak/audiensi/{tracking}" in text
    assert len(parts) == 2 and all(len(part["body"]["text"]) <= 160 for part in parts)
    deliveries = await harness.deliveries(tracking)
    assert {d["state"] for d in deliveries} == {"sent"}
    assert "siti@" not in str(deliveries) and "6281345678901" not in str(deliveries)
    assert mail["Message-ID"] in {f"<{d['_id']}@{harness.settings.mail_domain}>" for d in deliveries}
    assert {part["body"]["client_message_id"] for part in parts} <= {
        f"{d['_id']}-{n}" for d in deliveries for n in (1, 2)
    }
    for delivery in deliveries:
        [event] = await harness.delivery_events(delivery["_id"])
        assert isinstance(event, NotificationSent) and event.cause_event_id == recorded.envelope.id
        assert "siti@" not in event.model_dump_json() and "345678901" not in event.model_dump_json()


async def test_redelivery_and_two_replicas_still_send_exactly_once(harness):
    tracking = code()
    recorded = await submit(harness, tracking)
    first, second = harness.dispatcher(), harness.dispatcher()
    await asyncio.gather(*(handled(d, recorded) for d in (first, second, first, second)))
    await first.run_once()
    assert len(harness.mailbox.for_case(tracking)) == 1
    assert len(harness.sms.to("+6281345678901")) == 2  # the two parts of one SMS
    for delivery in await harness.deliveries(tracking):
        assert len(await harness.delivery_events(delivery["_id"])) == 1


async def test_a_transient_smtp_refusal_is_retried_with_backoff_and_then_sent(harness):
    tracking = code()
    harness.mailbox.data_replies.append("451 4.3.0 try again later")
    dispatcher = harness.dispatcher()
    await handled(dispatcher, await submit(harness, tracking, phone=None))
    [delivery] = await harness.deliveries(tracking)
    assert delivery["state"] == "retry" and delivery["last_error"] == "deferred"
    assert (await harness.vault.reveal(delivery["detail"]["sealed"])).startswith("deferred: 451")
    assert timedelta(seconds=0.15) <= delivery["next_attempt_at"] - harness.clock() <= timedelta(seconds=0.25)
    assert await dispatcher.run_once() == 0  # not due yet
    harness.clock.fixed += timedelta(seconds=1)
    await dispatcher.run_once()
    [delivery] = await harness.deliveries(tracking)
    assert (delivery["state"], delivery["attempts"]) == ("sent", 2)
    assert len(harness.mailbox.for_case(tracking)) == 1


async def test_a_gateway_outage_is_retried_and_a_refusal_is_not(harness):
    tracking = code()
    async with httpx.AsyncClient() as client:
        await client.post(f"{harness.sms.url}/_control/fail", json={"statuses": [503, 429]})
    dispatcher = harness.dispatcher()
    await handled(dispatcher, await submit(harness, tracking, email=None))
    for _ in range(2):
        harness.clock.fixed += timedelta(seconds=5)
        await dispatcher.run_once()
    [delivery] = await harness.deliveries(tracking)
    assert (delivery["state"], delivery["attempts"]) == ("sent", 3)
    other = code()
    async with httpx.AsyncClient() as client:
        await client.post(f"{harness.sms.url}/_control/fail", json={"statuses": [422]})
    await handled(dispatcher, await submit(harness, other, email=None))
    [delivery] = await harness.deliveries(other)
    assert (delivery["state"], delivery["attempts"]) == ("failed", 1)
    assert delivery["reason"] == "refused"
    assert "HTTP 422" in await harness.vault.reveal(delivery["detail"]["sealed"])
    [event] = await harness.delivery_events(delivery["_id"])
    assert isinstance(event, NotificationFailed) and event.category is FailureCategory.REFUSED


async def test_a_refused_mailbox_fails_at_once_without_retrying(harness):
    tracking = code()
    harness.mailbox.refuse_rcpt["nobody@example.go.id"] = "550 5.1.1 no such user"
    await handled(harness.dispatcher(), await submit(harness, tracking, email="nobody@example.go.id"))
    deliveries = {d["channel"]: d for d in await harness.deliveries(tracking)}
    assert deliveries["email"]["state"] == "failed" and deliveries["email"]["attempts"] == 1
    assert deliveries["email"]["reason"] == "refused"
    assert "550" in await harness.vault.reveal(deliveries["email"]["detail"]["sealed"])
    assert deliveries["sms"]["state"] == "sent"  # the other channel goes on


async def test_an_unreachable_smtp_server_is_retried_until_the_limit_then_failed(harness):
    tracking = code()
    dispatcher = harness.dispatcher(smtp_port=1)  # nothing listens there
    await handled(dispatcher, await submit(harness, tracking, phone=None))
    for _ in range(3):
        harness.clock.fixed += timedelta(seconds=10)
        await dispatcher.run_once()
    [delivery] = await harness.deliveries(tracking)
    assert delivery["state"] == "failed" and delivery["reason"] == "gave_up"
    assert (await harness.vault.reveal(delivery["detail"]["sealed"])).startswith("gave up after 3 attempts")
    [event] = await harness.delivery_events(delivery["_id"])
    assert isinstance(event, NotificationFailed) and event.category is FailureCategory.GAVE_UP


async def test_malformed_and_erased_recipients_end_in_notification_failed_with_the_reason(harness):
    bad = code()
    await handled(harness.dispatcher(), await submit(harness, bad, email="siti(at)example", phone="12345"))
    bad_ones = await harness.deliveries(bad)
    assert {d["reason"] for d in bad_ones} == {"invalid_address"}
    words = sorted([(await harness.vault.reveal(d["detail"]["sealed"])).split(":")[0] for d in bad_ones])
    assert words == ["invalid email address", "invalid phone number"]
    erased = code()
    recorded = await submit(harness, erased)
    await harness.vault.erase_subject(recorded.event.requester.email.key)
    await handled(harness.dispatcher(), recorded)
    deliveries = await harness.deliveries(erased)
    assert {(d["state"], d["reason"]) for d in deliveries} == {("failed", "recipient_erased")}
    for delivery in deliveries:
        [event] = await harness.delivery_events(delivery["_id"])
        assert isinstance(event, NotificationFailed) and event.category is FailureCategory.RECIPIENT_ERASED
    assert harness.mailbox.for_case(erased) == []


async def test_sms_to_citizens_waits_for_the_end_of_quiet_hours(harness):
    tracking = code()
    harness.clock.fixed = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 22:00 WIB
    dispatcher = harness.dispatcher()
    await handled(dispatcher, await submit(harness, tracking))
    deliveries = {d["channel"]: d for d in await harness.deliveries(tracking)}
    assert deliveries["email"]["state"] == "sent"
    assert deliveries["sms"]["state"] == "held"
    assert deliveries["sms"]["next_attempt_at"] == datetime(2026, 3, 3, 6, 0, tzinfo=WIB)
    harness.clock.fixed = datetime(2026, 3, 2, 22, 59, tzinfo=UTC)  # 05:59 WIB: still held
    await dispatcher.run_once()
    assert harness.sms.to("+6281345678901") == []
    harness.clock.fixed = datetime(2026, 3, 2, 23, 0, 1, tzinfo=UTC)  # 06:00:01 WIB
    await dispatcher.run_once()
    assert len(harness.sms.to("+6281345678901")) == 2  # the two parts of one SMS


class KilledError(Exception):
    """Stands for the process dying: nothing after this point is written."""


async def die(*args, **kwargs):
    raise KilledError("killed")


class DyingStore:
    """The event store of a process that dies when it appends (loads still work)."""

    def __init__(self, store):
        self.load = store.load
        self.append = die


async def test_a_sender_that_dies_mid_send_is_resent_once_with_the_same_message_id(harness):
    """The residual window, bounded: the server accepted the message, the process died before
    recording it (before its NotificationSent was appended). After the lease the delivery is
    claimed again and resent — with the same Message-ID, so the receiver can drop it — and
    recorded once."""
    tracking = code()
    dying = harness.dispatcher()
    dying._store = DyingStore(harness.store)
    dying.ledger.sent = die  # type: ignore[method-assign]
    recorded = await submit(harness, tracking, phone=None)
    await handled(dying, recorded)  # the handler swallows; the delivery stays "sending"
    [delivery] = await harness.deliveries(tracking)
    assert delivery["state"] == "sending" and len(harness.mailbox.for_case(tracking)) == 1
    assert await harness.delivery_events(delivery["_id"]) == []
    survivor = harness.dispatcher()
    await survivor.run_once()
    assert len(harness.mailbox.for_case(tracking)) == 1  # the lease still holds: nobody resends
    harness.clock.fixed += timedelta(seconds=harness.settings.delivery_lease_seconds + 1)
    await survivor.run_once()
    mails = harness.mailbox.for_case(tracking)
    assert len(mails) == 2 and mails[0]["Message-ID"] == mails[1]["Message-ID"]
    [delivery] = await harness.deliveries(tracking)
    assert (delivery["state"], delivery["lease_expiries"], delivery["attempts"]) == ("sent", 1, 2)
    assert delivery["event_published"] is True
    assert len(await harness.delivery_events(delivery["_id"])) == 1
    await survivor.run_once()
    assert len(harness.mailbox.for_case(tracking)) == 2  # and never again


async def test_a_sender_that_dies_after_appending_its_event_is_not_resent(harness):
    """The event is appended before the outcome is written (one ledger write fewer): a process
    that dies between the two leaves the delivery ``sending`` with its NotificationSent stored.
    The replica that takes it over after the lease reads the stream, writes the outcome from the
    event and sends nothing — one e-mail, one NotificationSent."""
    tracking = code()
    dying = harness.dispatcher()
    dying.ledger.sent = die  # type: ignore[method-assign]
    recorded = await submit(harness, tracking, phone=None)
    await handled(dying, recorded)
    [delivery] = await harness.deliveries(tracking)
    assert delivery["state"] == "sending" and len(harness.mailbox.for_case(tracking)) == 1
    [event] = await harness.delivery_events(delivery["_id"])
    assert isinstance(event, NotificationSent)
    survivor = harness.dispatcher()
    harness.clock.fixed += timedelta(seconds=harness.settings.delivery_lease_seconds + 1)
    await survivor.run_once()
    await survivor.run_once()
    assert len(harness.mailbox.for_case(tracking)) == 1  # not resent
    [delivery] = await harness.deliveries(tracking)
    assert (delivery["state"], delivery["lease_expiries"], delivery["event_published"]) == ("sent", 1, True)
    assert len(await harness.delivery_events(delivery["_id"])) == 1


async def test_an_append_that_fails_in_an_unforeseen_way_still_records_the_send_and_never_resends(harness):
    """Whatever the event's append raises (here a bug's KeyError, not a NATS error), the outcome
    is written — unpublished, so the outbox appends the event later. A message handed over and
    recorded nowhere would be sent again at every lease (the review of the event-first order)."""
    tracking = code()
    dispatcher = harness.dispatcher()
    recorded = await submit(harness, tracking, phone=None)
    real_append = dispatcher.store.append
    failures: list[str] = []

    async def failing_once(*args, **kwargs):
        if not failures:
            failures.append("append")
            raise KeyError("a bug while building the event")
        return await real_append(*args, **kwargs)

    dispatcher.store.append = failing_once  # type: ignore[method-assign]
    try:
        await handled(dispatcher, recorded)
        [delivery] = await harness.deliveries(tracking)
        assert (delivery["state"], delivery["event_published"]) == ("sent", False)
        assert await harness.delivery_events(delivery["_id"]) == []
        for _ in range(3):
            harness.clock.fixed += timedelta(seconds=harness.settings.delivery_lease_seconds + 1)
            await harness.dispatcher().run_once()
    finally:
        dispatcher.store.append = real_append  # type: ignore[method-assign]
    assert failures == ["append"] and len(harness.mailbox.for_case(tracking)) == 1
    [delivery] = await harness.deliveries(tracking)
    assert (delivery["state"], delivery["event_published"]) == ("sent", True)
    assert len(await harness.delivery_events(delivery["_id"])) == 1


async def test_a_scheduled_audience_sends_an_invitation_whose_ics_is_in_wib(harness):
    tracking = code()
    request = await submit(harness, tracking)
    audience = AggregateRef("scheduling", "audience", tracking)
    await harness.append(audience, samples.audience_requested(tracking, request.event.topic))
    scheduled = await harness.append(audience, samples.audience_scheduled(tracking))
    dispatcher = harness.dispatcher()
    await handled(dispatcher, scheduled)
    [mail] = harness.mailbox.for_case(tracking)
    [part] = [p for p in mail.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "REQUEST"
    calendar = icalendar.Calendar.from_ical(part.get_content())
    [vevent] = calendar.walk("VEVENT")
    assert vevent.decoded("DTSTART").astimezone(WIB).strftime("%Y-%m-%d %H:%M") == "2026-03-04 09:00"
    assert (str(vevent["UID"]), vevent["SEQUENCE"]) == (f"{tracking}@{harness.settings.mail_domain}", 0)
    moved = await harness.append(
        audience, samples.audience_rescheduled(tracking, samples.STARTS + timedelta(days=2))
    )
    await handled(dispatcher, moved)
    cancelled = await harness.append(audience, samples.audience_cancelled(tracking))
    await handled(dispatcher, cancelled)
    calendars = [
        icalendar.Calendar.from_ical(p.get_content())
        for m in harness.mailbox.for_case(tracking)
        for p in m.iter_attachments()
        if p.get_content_type() == "text/calendar"
    ]
    summary = [(str(c["METHOD"]), c.walk("VEVENT")[0]["SEQUENCE"]) for c in calendars]
    assert summary == [("REQUEST", 0), ("REQUEST", 1), ("CANCEL", 1)]


async def test_events_without_a_notice_are_handled_without_any_delivery(harness):
    tracking = code()
    request = await submit(harness, tracking)
    audience = AggregateRef("scheduling", "audience", tracking)
    requested = await harness.append(audience, samples.audience_requested(tracking, request.event.topic))
    await handled(harness.dispatcher(), requested)
    assert [d for d in await harness.deliveries(tracking) if d["cause_type"] != "RequestSubmitted"] == []


class _LetterServer(BaseHTTPRequestHandler):
    letters: dict[str, bytes] = {}
    hits = 0

    def do_GET(self) -> None:  # noqa: N802
        type(self).hits += 1
        body = self.letters.get(self.path.rsplit("/", 1)[-1])
        self.send_response(200 if body else 503)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *_: object) -> None:
        return


async def test_a_declined_request_gets_its_answer_letter_attached_or_linked_when_unavailable(harness):
    pdf = b"%PDF-1.4 surat jawaban: belum dapat dipenuhi"
    ref = samples.letter("Lready").model_copy(
        update={"sha256": hashlib.sha256(pdf).hexdigest(), "size": len(pdf)}
    )
    _LetterServer.letters = {"Lready": pdf}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _LetterServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/api/v1/letters"
    dispatcher = harness.dispatcher(letters_base_url=base, letter_fetch_attempts=2)
    dispatcher.composer.letters = LetterFetcher(base, 2)
    try:
        declined = []
        for letter in (ref, ref.model_copy(update={"document_id": "Lmissing"})):
            tracking = code()
            request = await submit(harness, tracking, phone=None)
            audience = AggregateRef("scheduling", "audience", tracking)
            await harness.append(audience, samples.audience_requested(tracking, request.event.topic))
            event = samples.audience_declined(tracking).model_copy(update={"answer_letter": letter})
            await handled(dispatcher, await harness.append(audience, event))
            declined.append(tracking)
        [mail] = harness.mailbox.for_case(declined[0])
        [attachment] = list(mail.iter_attachments())
        assert attachment.get_content_type() == "application/pdf" and attachment.get_content() == pdf
        assert "Surat jawaban kesediaan dan jadwal kami lampirkan." in mail.get_body(("plain",)).get_content()
        assert harness.mailbox.for_case(declined[1]) == []  # first attempt: the letter is waited for
        [waiting] = await harness.deliveries(declined[1])
        assert waiting["state"] == "retry" and waiting["last_error"] == "deferred"
        assert "HTTP 503" in await harness.vault.reveal(waiting["detail"]["sealed"])
        harness.clock.fixed += timedelta(seconds=5)
        await dispatcher.run_once()
        [mail] = harness.mailbox.for_case(declined[1])  # second and last: the link instead
        assert list(mail.iter_attachments()) == []
        assert f"{base}/Lmissing" in mail.get_body(("plain",)).get_content()
    finally:
        await dispatcher.composer.letters.close()
        server.shutdown()
        server.server_close()


async def test_events_older_than_the_age_limit_notify_nobody(harness):
    tracking = code()
    recorded = await submit(harness, tracking)
    harness.clock.fixed = recorded.envelope.time + timedelta(hours=169)  # a week and an hour
    await handled(harness.dispatcher(), recorded)
    assert await harness.deliveries(tracking) == [] and harness.mailbox.for_case(tracking) == []
    harness.clock.fixed = recorded.envelope.time + timedelta(hours=167)
    await handled(harness.dispatcher(), recorded)
    assert len(harness.mailbox.for_case(tracking)) == 1
