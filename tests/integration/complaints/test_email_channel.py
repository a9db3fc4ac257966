"""The e-mail channel against a real IMAP server (Dovecot, TLS, started by the test): mail is
delivered into the mailbox, the poller turns it into complaints on real NATS and SecantusDB."""

from __future__ import annotations

import time
from email.message import EmailMessage

import dovecot_support
import pytest
from complaints_support import eventually, now, stream_events
from serambi_complaints.adapters.mail.imap import MailboxError
from serambi_complaints.adapters.mail.intake import CONSUMER, MESSAGES
from serambi_contracts.complaints import (
    ComplaintChannel,
    ComplaintNoteAdded,
    ComplaintReceived,
    ComplaintTier,
    Disclosure,
    NoteSource,
)
from serambi_kit.deadletters import DeadLetters
from serambi_kit.pagination import PageRequest

PROCESSED, REJECTED = "Serambi/Diproses", "Serambi/Ditolak"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def dovecot():
    server = dovecot_support.start()
    yield server
    dovecot_support.stop(server)


def mail(
    message_id: str,
    *,
    subject: str = "Antrean loket perizinan",
    sender: str = "rina@example.id",
    text: str | None = "Saya menunggu tiga jam di loket.",
    html: str | None = None,
    headers: dict[str, str] | None = None,
    attachments: tuple = (),
) -> bytes:
    message = EmailMessage()
    message["From"] = f"Rina Wati <{sender}>"
    message["To"] = "kesra@kalbarprov.go.id"
    message["Subject"] = subject
    message["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        message[name] = value
    if text is not None:
        message.set_content(text)
    if html is not None:  # an alternative to the text, or the only body
        (message.add_alternative if text is not None else message.set_content)(html, subtype="html")
    for data, maintype, subtype, filename in attachments:
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return bytes(message)


async def code_of(service, message_id: str) -> str:
    from serambi_complaints.adapters.mail.message import key_of

    entry = await service.runtime.db[MESSAGES].find_one({"_id": key_of(message_id)})
    assert entry is not None, f"{message_id} not recorded"
    return entry["tracking_code"]


async def test_a_new_mail_becomes_an_email_complaint_with_sealed_sender_text_and_attachments(
    dovecot, start_service, nats_client
):
    service = await start_service(settings=dovecot.settings())
    await dovecot.deliver(
        mail(
            "<m1@mail.example.id>",
            text=None,
            html="<html><head><style>p{color:red}</style><script>alert('x')</script></head>"
            "<body><p>Saya menunggu <b>tiga&nbsp;jam</b> di loket.</p><p>Terima kasih</p></body></html>",
            attachments=(
                (PDF, "application", "pdf", "surat.pdf"),
                (b"PK\x03\x04docx", "application", "octet-stream", "surat.docx"),
            ),
        )
    )
    assert await service.mail.poll() == 1
    code = await code_of(service, "<m1@mail.example.id>")
    [received] = await stream_events(nats_client, code)
    assert isinstance(received, ComplaintReceived)
    assert received.channel is ComplaintChannel.EMAIL and received.disclosure is Disclosure.NAMED
    assert received.triage_due_at is not None and received.tier is None
    assert "rina@example.id" not in received.model_dump_json()
    vault = service.runtime.vault
    assert await vault.reveal(received.complainant_email) == "rina@example.id"
    assert await vault.reveal(received.complainant_name) == "Rina Wati"
    assert await vault.reveal(received.summary) == "Antrean loket perizinan"
    assert await vault.reveal(received.description) == "Saya menunggu tiga jam di loket.\n\nTerima kasih"
    assert await vault.reveal(received.email_thread) == "<m1@mail.example.id>"  # for the answer's headers
    assert "m1@mail.example.id" not in received.model_dump_json()  # a Message-ID names the sender's domain
    [attachment] = received.attachments  # the .docx is not a type complaints accept
    assert attachment.media_type == "application/pdf" and attachment.size == len(PDF)
    assert await service.attachments.read(attachment.document_id) == PDF
    assert await dovecot.count("INBOX") == 0 and await dovecot.count(PROCESSED) == 1


async def test_replies_in_the_thread_become_notes_on_its_complaint_which_officers_read(
    dovecot, start_service, nats_client
):
    service = await start_service(settings=dovecot.settings())
    await dovecot.deliver(mail("<first@mail.example.id>"))
    await service.mail.poll()
    code = await code_of(service, "<first@mail.example.id>")
    second = mail(
        "<second@mail.example.id>",
        subject="Re: Antrean loket perizinan",
        text="Nomor antrean saya 42.",
        attachments=((PDF, "application", "pdf", "tiket.pdf"),),
        headers={"In-Reply-To": "<first@mail.example.id>", "References": "<first@mail.example.id>"},
    )
    await dovecot.deliver(second)
    await dovecot.deliver(
        mail(
            "<third@mail.example.id>",
            subject="Re: Re: Antrean",
            text="Sudah dilayani.",
            headers={"References": "<unknown@elsewhere> <second@mail.example.id>"},
        )
    )
    assert await service.mail.poll() == 2
    assert await service.mail.intake.handle(second, None) == PROCESSED  # handled again: noted once
    received, *notes = await stream_events(nats_client, code)
    assert isinstance(received, ComplaintReceived)
    assert [type(n) for n in notes] == [ComplaintNoteAdded, ComplaintNoteAdded]
    assert all(n.channel is ComplaintChannel.EMAIL and n.source is NoteSource.COMPLAINANT for n in notes)
    assert "antrean saya 42" not in notes[0].model_dump_json()  # the text travels sealed
    vault = service.runtime.vault
    assert [await vault.reveal(n.text) for n in notes] == [
        "Re: Antrean loket perizinan\n\nNomor antrean saya 42.",
        "Re: Re: Antrean\n\nSudah dilayani.",
    ]
    [ticket] = notes[0].attachments
    assert (
        ticket.media_type == "application/pdf" and await service.attachments.read(ticket.document_id) == PDF
    )
    assert await service.runtime.db[MESSAGES].count_documents({"role": "complaint"}) == 1

    async def officers_see_both() -> bool:
        view = await service.reader().officer_view(code, now())
        return len([e for e in view["timeline"] if e["step"] == "note"]) == 2

    await eventually(officers_see_both)
    view = await service.reader().officer_view(code, now())
    shown = [e for e in view["timeline"] if e["step"] == "note"]
    assert [e["text"] for e in shown] == [
        "Re: Antrean loket perizinan\n\nNomor antrean saya 42.",
        "Re: Re: Antrean\n\nSudah dilayani.",
    ]
    assert shown[0]["channel"] == "email" and shown[0]["attachments"] == [ticket.document_id]
    assert ticket.document_id in [a["document_id"] for a in view["attachments"]]  # downloadable


async def test_the_complainants_reply_resumes_a_paused_clock_and_officers_see_new_notes(
    dovecot, start_service, nats_client
):
    """A complaint paused waiting on the complainant: their reply is a note and resumes the clock
    (decided by the domain, by the e-mail intake); a reply from another address is a third
    party's (its sender sealed, compared by the vault's lookup hash), resumes nothing; the
    queue counts both as new until an officer's step."""
    from serambi_complaints.adapters.queries import QueueFilter
    from serambi_complaints.application import commands
    from serambi_contracts.complaints import ComplaintClockResumed, ResumeCause

    service = await start_service(settings=dovecot.settings())
    await dovecot.deliver(mail("<start@mail.example.id>", sender="Rina@Example.id"))
    await service.mail.poll()
    code = await code_of(service, "<start@mail.example.id>")
    store, vault = service.runtime.store, service.runtime.vault
    await commands.pause(store, code, "Menunggu salinan KTP", "petugas-1", now())
    await dovecot.deliver(
        mail(
            "<reply@mail.example.id>",
            sender="rina@example.id",
            subject="Re: Antrean",
            text="Ini salinannya.",
            headers={"In-Reply-To": "<start@mail.example.id>"},
        )
    )
    await dovecot.deliver(
        mail(
            "<other@mail.example.id>",
            sender="budi@example.id",
            subject="Re: Antrean",
            text="Saya tetangganya.",
            headers={"References": "<start@mail.example.id>"},
        )
    )
    assert await service.mail.poll() == 2
    events = await stream_events(nats_client, code)
    kinds = [type(e).__name__ for e in events]
    assert kinds == [
        "ComplaintReceived",
        "ComplaintClockPaused",
        "ComplaintNoteAdded",
        "ComplaintClockResumed",
        "ComplaintNoteAdded",
    ]
    mine, resumed, theirs = events[2], events[3], events[4]
    assert isinstance(resumed, ComplaintClockResumed) and resumed.cause is ResumeCause.COMPLAINANT_NOTE
    assert resumed.resumed_by == "email" and resumed.due_at is not None
    assert mine.source is NoteSource.COMPLAINANT and theirs.source is NoteSource.THIRD_PARTY
    assert "budi@example.id" not in theirs.model_dump_json() and "rina" not in mine.model_dump_json().lower()
    assert await vault.reveal(mine.sender) == "rina@example.id"
    assert mine.sender.key == events[0].summary.key  # the complainant's own key
    assert await vault.reveal(theirs.sender) == "budi@example.id"
    assert theirs.sender.key != events[0].summary.key  # a key of its own ...
    assert theirs.sender.key in await vault.subjects_of("budi@example.id")
    assert theirs.sender.key in await vault.subjects_of("rina@example.id")  # ... erasing either finds
    assert not (await commands.load(store, code)).paused

    async def counted() -> bool:
        found = await service.reader().queue(QueueFilter(new_notes=True), PageRequest(1, 25), now())
        return [row["new_notes"] for row in found["items"]] == [2]

    await eventually(counted)
    view = await service.reader().officer_view(code, now())
    notes = [e for e in view["timeline"] if e["step"] == "note"]
    assert [(e["source"], e["new"]) for e in notes] == [("complainant", True), ("third_party", True)]
    assert [e.get("cause") for e in view["timeline"] if e["step"] == "resumed"] == ["complainant_note"]
    await commands.classify(store, service.rules, code, ComplaintTier.RINGAN, "petugas-1")

    async def seen() -> bool:
        found = await service.reader().queue(QueueFilter(new_notes=False), PageRequest(1, 25), now())
        return [(row["new_notes"], row["note_count"]) for row in found["items"]] == [(0, 2)]

    await eventually(seen)


async def test_a_reply_on_a_closed_complaint_is_kept_as_a_note_flagged_for_officers(
    dovecot, start_service, nats_client
):
    from serambi_complaints.application import commands

    service = await start_service(settings=dovecot.settings())
    await dovecot.deliver(mail("<closed@mail.example.id>"))
    await service.mail.poll()
    code = await code_of(service, "<closed@mail.example.id>")
    store, rules, vault = service.runtime.store, service.rules, service.runtime.vault
    await commands.classify(store, rules, code, ComplaintTier.RINGAN, "o")
    await commands.assign(store, code, "Tim Pengelola Pengaduan", "tim", "o")
    await commands.answer(store, vault, rules, code, "Sudah kami tindak lanjuti.", "tim", now())
    await commands.close(store, code, "tim", now())
    await dovecot.deliver(
        mail(
            "<late@mail.example.id>",
            subject="Re: Antrean",
            text="Belum beres!",
            headers={"In-Reply-To": "<closed@mail.example.id>"},
        )
    )
    assert await service.mail.poll() == 1
    *_, late = await stream_events(nats_client, code)
    assert isinstance(late, ComplaintNoteAdded) and late.after_close

    async def flagged() -> bool:
        view = await service.reader().officer_view(code, now())
        notes = [e for e in view["timeline"] if e["step"] == "note"]
        return (
            view["status"] == "closed" and view["new_notes"] == 1 and notes and notes[-1].get("after_close")
        )

    await eventually(flagged)


async def test_handled_mail_is_expunged_from_the_mailbox_after_the_retention(dovecot, start_service):
    """Erasure has to reach the mailbox: a handled mail (processed or rejected) that arrived more
    than SERAMBI_EMAIL_RETENTION_DAYS ago is expunged by the round; a recent one stays."""
    service = await start_service(settings=dovecot.settings(email_retention_days=30))
    long_ago = time.time() - 40 * 86400
    await dovecot.deliver(mail("<old@mail.example.id>"), PROCESSED, arrived=long_ago)
    await dovecot.deliver(b"From: nobody\r\nSubject: x\r\n\r\nold\r\n", REJECTED, arrived=long_ago)
    await dovecot.deliver(
        mail("<recent-handled@mail.example.id>"), PROCESSED, arrived=time.time() - 20 * 86400
    )
    await dovecot.deliver(mail("<new@mail.example.id>"))
    assert await service.mail.poll() == 1
    await code_of(service, "<new@mail.example.id>")
    assert await dovecot.count(PROCESSED) == 2  # the new one and the 20-day-old one
    assert await dovecot.count(REJECTED) == 0 and await dovecot.count("INBOX") == 0


async def test_with_no_retention_a_mail_is_gone_from_the_mailbox_once_recorded(
    dovecot, start_service, nats_client
):
    service = await start_service(settings=dovecot.settings(email_retention_days=0))
    await dovecot.deliver(mail("<gone@mail.example.id>"))
    assert await service.mail.poll() == 1
    code = await code_of(service, "<gone@mail.example.id>")
    assert len(await stream_events(nats_client, code)) == 1  # recorded first
    assert await dovecot.count(PROCESSED) == 0 and await dovecot.count("INBOX") == 0


async def test_a_message_above_the_size_limit_is_a_dead_letter_and_is_never_downloaded(
    dovecot, start_service, monkeypatch
):
    from serambi_complaints.adapters.mail import imap

    downloaded: list[bytes] = []
    original = imap.ImapMailbox._fetch

    def fetch(self, connection, uid):
        raw = original(self, connection, uid)
        downloaded.append(raw)
        return raw

    monkeypatch.setattr(imap.ImapMailbox, "_fetch", fetch)
    service = await start_service(settings=dovecot.settings(email_max_message_bytes=1_000_000))
    big = mail(
        "<big@mail.example.id>", attachments=((PDF + b"0" * 1_200_000, "application", "pdf", "besar.pdf"),)
    )
    await dovecot.deliver(big)
    await dovecot.deliver(mail("<small@mail.example.id>"))
    assert await service.mail.poll() == 2
    assert len(downloaded) == 1 and b"<small@mail.example.id>" in downloaded[0]  # never the big one
    [letter] = await DeadLetters(service.runtime.db).list()
    assert letter["consumer"] == CONSUMER and letter["reason"].startswith("e-mail too large: ")
    assert "above SERAMBI_EMAIL_MAX_MESSAGE_BYTES (1000000)" in letter["reason"]
    assert "rina" not in repr(letter).lower()
    from serambi_complaints.adapters.mail.message import key_of

    assert letter["_id"] == f"{CONSUMER}:{key_of('<big@mail.example.id>')}"
    assert await dovecot.count(REJECTED) == 1 and await dovecot.count(PROCESSED) == 1
    await code_of(service, "<small@mail.example.id>")
    assert await service.runtime.db[MESSAGES].count_documents({}) == 1


@pytest.mark.parametrize(
    "header",
    [
        ("Auto-Submitted", "auto-replied"),
        ("Precedence", "bulk"),
        ("Precedence", "list"),
        ("Precedence", "junk"),
        ("Return-Path", "<>"),
        ("List-Id", "<warga.lists.example.id>"),
    ],
)
async def test_auto_replies_bounces_and_list_mail_are_moved_without_a_complaint(
    dovecot, start_service, header
):
    service = await start_service(settings=dovecot.settings())
    await dovecot.deliver(mail("<auto@mail.example.id>", headers=dict([header])))
    await dovecot.deliver(mail("<human@mail.example.id>", headers={"Auto-Submitted": "no"}))
    assert await service.mail.poll() == 2
    entries = await service.runtime.db[MESSAGES].find().to_list()
    assert [e["role"] for e in entries] == ["complaint"]  # only the person's, not the machine's
    await code_of(service, "<human@mail.example.id>")
    assert await dovecot.count("INBOX") == 0 and await dovecot.count(PROCESSED) == 2


async def test_a_message_handled_again_after_a_crash_before_its_move_is_recorded_once(
    dovecot, start_service, nats_client
):
    service = await start_service(settings=dovecot.settings())
    raw = mail("<twice@mail.example.id>", attachments=((PDF, "application", "pdf", "a.pdf"),))
    assert await service.mail.intake.handle(raw, None) == PROCESSED  # recorded, then "crashed"
    await dovecot.deliver(raw)  # still in the inbox
    await dovecot.deliver(raw)  # and delivered twice, for good measure
    assert await service.mail.poll() == 2
    code = await code_of(service, "<twice@mail.example.id>")
    assert len(await stream_events(nats_client, code)) == 1
    files = await service.runtime.db["attachments.files"].count_documents({})
    assert files == 1  # the retries' copies were discarded
    assert await dovecot.count(PROCESSED) == 2


async def test_an_unreadable_message_is_a_dead_letter_without_personal_data_and_is_set_aside(
    dovecot, start_service
):
    service = await start_service(settings=dovecot.settings())
    await dovecot.deliver(
        b"From: Rina Wati\r\nSubject: rina@example.id 0812 3456 7890\r\n"
        b"Message-ID: <broken@mail.example.id>\r\n\r\nNIK 6171010101010001\r\n"
    )
    await dovecot.deliver(mail("<fine@mail.example.id>"))
    assert await service.mail.poll() == 2
    [letter] = await DeadLetters(service.runtime.db).list()
    assert letter["consumer"] == CONSUMER and letter["reason"] == "unreadable e-mail: no sender address"
    stored = repr(letter)
    for personal in ("rina@example.id", "Rina", "0812", "6171010101010001"):
        assert personal not in stored
    assert await dovecot.count(REJECTED) == 1 and await dovecot.count(PROCESSED) == 1
    await code_of(service, "<fine@mail.example.id>")


async def test_an_imap_outage_fails_the_round_and_the_next_round_records_the_mail(
    dovecot, start_service, nats_client
):
    service = await start_service(settings=dovecot.settings())
    await dovecot.deliver(mail("<waiting@mail.example.id>"))
    dovecot.process.stop()
    with pytest.raises(MailboxError):
        await service.mail.poll()
    dovecot.process.start()
    assert await service.mail.poll() == 1
    code = await code_of(service, "<waiting@mail.example.id>")
    assert len(await stream_events(nats_client, code)) == 1


async def test_a_wrong_password_fails_the_round_and_touches_nothing(dovecot, start_service):
    service = await start_service(settings=dovecot.settings(email_imap_password="salah"))
    await dovecot.deliver(mail("<kept@mail.example.id>"))
    with pytest.raises(MailboxError):
        await service.mail.poll()
    assert await dovecot.count("INBOX") == 1


async def test_the_service_polls_the_mailbox_by_itself_in_leased_rounds(dovecot, start_service):
    first = await start_service(settings=dovecot.settings(email_poll_seconds=0.3))
    await start_service(settings=dovecot.settings(email_poll_seconds=0.3))  # a second replica
    for n in range(3):
        await dovecot.deliver(mail(f"<round-{n}@mail.example.id>"))

    # a message is recorded in the ledger before its complaint and moved out of the inbox only
    # after both: the inbox emptied is the end of the rounds' work, not the ledger's third entry
    async def inbox_emptied() -> bool:
        return await dovecot.count("INBOX") == 0

    await eventually(inbox_emptied, timeout=30)
    assert await first.runtime.db[MESSAGES].count_documents({"role": "complaint"}) == 3
    assert await dovecot.count(PROCESSED) == 3
