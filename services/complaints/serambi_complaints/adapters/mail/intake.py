"""Mail from the complaint mailbox recorded once: a new thread is a complaint (channel
``email``), a reply in a known thread becomes a note on its complaint (ComplaintNoteAdded),
machines' mail is ignored, and a message that cannot be read is a dead letter.

``email_messages`` is the ledger, one document per message, keyed by its Message-ID's hash:
``role`` (``complaint`` or ``reply``), ``tracking_code``, ``received_at``. A new thread reserves
its tracking code there before the complaint is recorded, so a message handled twice (a crash
before it was moved) is recorded once, under the same code. Replies are found by the keys of
their In-Reply-To and References — every message of the thread is in the ledger — and noted once
(the note carries the message's key: a reply handled again appends nothing).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import ValidationError
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from serambi_calendar import WIB
from serambi_contracts.complaints import ComplaintChannel, ComplaintNoteAdded, Disclosure
from serambi_kit.deadletters import DeadLetter, DeadLetters
from serambi_kit.documents import DocumentError, DocumentStore, Upload, check
from serambi_kit.eventstore import EventStore
from serambi_kit.logging import get_logger
from serambi_kit.outages import is_outage
from serambi_kit.pii import Vault
from serambi_kit.tracking_links import next_tracking_code

from ... import domain
from ...application import commands
from ...application.commands import ACCEPTED, MAX_ATTACHMENTS
from ...domain import Rules
from .. import lapor_letters
from . import message
from .message import Mail, UnreadableMail

log = get_logger(__name__)
MESSAGES = "email_messages"
CONSUMER = "email-intake"
NO_SUBJECT, NO_TEXT = "(tanpa subjek)", "(tanpa isi)"


class MailIntake:
    def __init__(
        self,
        store: Callable[[], EventStore],
        db: Callable[[], AsyncDatabase],
        vault: Callable[[], Vault],
        rules: Rules,
        documents: Callable[[], DocumentStore],
        *,
        max_attachment_bytes: int,
        processed: str,
        rejected: str,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store, self.db, self.vault, self.documents = store, db, vault, documents
        self.rules, self.max_attachment_bytes = rules, max_attachment_bytes
        self.processed, self.rejected, self.now = processed, rejected, now

    async def handle(self, raw: bytes, arrived: datetime | None) -> str:
        """Record one message (idempotently); returns the folder it goes to. An outage of
        MongoDB or NATS is raised: the message stays in the inbox for the next round."""
        now = self.now().replace(microsecond=0)
        received_at = min(arrived.replace(microsecond=0), now) if arrived else now
        try:
            mail = message.read(raw)
        except UnreadableMail as exc:
            await self._dead_letter(message.raw_key(raw), str(exc), received_at)
            return self.rejected
        if mail.automatic:
            log.info("email.ignored", message=mail.key, why=mail.automatic)
            return self.processed
        try:
            code = await self._thread_code(mail)
            if code is not None:
                await self._reply(mail, code, received_at)
            else:
                await self._complaint(mail, received_at, now)
        except Exception as exc:
            if is_outage(exc):
                raise
            await self._dead_letter(mail.key, self._reason(exc), received_at)
            return self.rejected
        return self.processed

    async def too_large(self, header: bytes, size: int, limit: int, arrived: datetime | None) -> str:
        """A message above the mailbox's size limit, never downloaded: a dead letter under its
        Message-ID's key (only that header was fetched), for an officer to read in the mailbox."""
        now = self.now().replace(microsecond=0)
        received_at = min(arrived.replace(microsecond=0), now) if arrived else now
        ids = message.MESSAGE_ID.findall(header.decode("ascii", "replace"))
        key = message.key_of(ids[0]) if ids else message.raw_key(header + str(size).encode())
        reason = (
            f"e-mail too large: {size} bytes, above SERAMBI_EMAIL_MAX_MESSAGE_BYTES ({limit}); not downloaded"
        )
        await self._dead_letter(key, reason, received_at)
        return self.rejected

    async def _thread_code(self, mail: Mail) -> str | None:
        """The complaint of the thread this message answers, if any."""
        own = await self.db()[MESSAGES].find_one({"_id": mail.key, "role": "reply"})
        if own is not None:
            return own["tracking_code"]
        if not mail.thread:
            return None
        earlier = await self.db()[MESSAGES].find_one({"_id": {"$in": list(mail.thread)}})
        return earlier["tracking_code"] if earlier else None

    async def _complaint(self, mail: Mail, received_at: datetime, now: datetime) -> None:
        messages = self.db()[MESSAGES]
        entry = await messages.find_one({"_id": mail.key})
        if entry is None:
            code = await next_tracking_code(self.db(), "ADU", now.astimezone(WIB).year)
            try:
                await messages.insert_one(
                    {"_id": mail.key, "role": "complaint", "tracking_code": code, "received_at": received_at}
                )
            except DuplicateKeyError:  # another replica got there first: use its code
                entry = await messages.find_one({"_id": mail.key})
        if entry is not None:
            code, received_at = entry["tracking_code"], entry["received_at"].replace(tzinfo=UTC)
        new = commands.NewComplaint(
            channel=ComplaintChannel.EMAIL,
            received_at=received_at,
            disclosure=Disclosure.NAMED,
            summary=mail.subject[:300] or NO_SUBJECT,
            description=mail.text[:5000] or NO_TEXT,
            name=mail.name[:200] if mail.name else None,
            email=mail.sender,
            recorded_by="email",
            email_thread=mail.as_thread,
        )
        try:
            await commands.receive(
                self.store(),
                self.db(),
                self.vault(),
                self.rules,
                new,
                now,
                tracking_code=code,
                documents=self.documents(),
                uploads=self._uploads(mail),
            )
        except domain.ComplaintExistsError:
            log.info("email.duplicate", message=mail.key, tracking_code=code)
            return
        log.info("email.complaint", message=mail.key, tracking_code=code)

    def _uploads(self, mail: Mail) -> list[tuple[Upload, str]]:
        """The attachments of an accepted type and size (by content), the first five. Only those
        that may be kept are decoded: none once five are kept, none whose encoded text alone
        says it is too large."""
        uploads, refused = [], 0
        for position, attachment in enumerate(mail.attachments):
            if len(uploads) == MAX_ATTACHMENTS or attachment.least_size() > self.max_attachment_bytes:
                refused += 1
                continue
            upload = Upload(f"attachments.{position}", "attachment", attachment.decode())
            try:
                media = check(upload, ACCEPTED, self.max_attachment_bytes)
            except DocumentError:
                refused += 1
                continue
            uploads.append((upload, media))
        if refused:
            log.warning("email.attachments_skipped", message=mail.key, skipped=refused)
        return uploads

    async def _reply(self, mail: Mail, code: str, received_at: datetime) -> None:
        """A reply in the thread of complaint ``code``: a note on it (its text sealed with the
        complainant's key, its attachments stored like the complaint's), once per message. The
        sender goes along sealed: from another address than the complainant's the note is a third
        party's; the complainant's resumes a paused clock (both decided by the domain)."""
        messages = self.db()[MESSAGES]
        try:
            await messages.insert_one(
                {"_id": mail.key, "role": "reply", "tracking_code": code, "received_at": received_at}
            )
        except DuplicateKeyError:  # handled before (a crash before the move?): the note is idempotent
            entry = await messages.find_one({"_id": mail.key}) or {}
            received_at = entry.get("received_at", received_at).replace(tzinfo=UTC)
        text = "\n\n".join(part for part in (mail.subject, mail.text) if part)[:5000] or NO_TEXT
        note = commands.NewNote(
            text=text,
            added_at=received_at,
            channel=ComplaintChannel.EMAIL,
            recorded_by="email",
            message_key=message.note_key(mail.key),
            sender=mail.sender,
        )
        outcome = await commands.add_note(
            self.store(),
            self.vault(),
            code,
            note,
            rules=self.rules,
            documents=self.documents(),
            uploads=self._uploads(mail),
        )
        noted = next((e for e in outcome.events if isinstance(e, ComplaintNoteAdded)), None)
        log.info(
            "email.reply" if noted else "email.duplicate",
            message=mail.key,
            tracking_code=code,
            source=noted.source.value if noted else None,
            resumed=len(outcome.events) > 1,
        )

    @staticmethod
    def _reason(exc: Exception) -> str:
        if isinstance(exc, ValidationError | KeyError):
            return lapor_letters.reason(exc, "e-mail could not be recorded")
        return f"e-mail could not be recorded: {type(exc).__name__}"  # the message may hold values

    async def _dead_letter(self, key: str, reason: str, received_at: datetime) -> None:
        """Keep the record (no personal data: the message's key, the reason, the arrival)."""
        payload = {"message": key, "received_at": received_at.isoformat()}
        await DeadLetters(self.db()).record(
            DeadLetter(
                consumer=CONSUMER,
                stream="IMAP",
                subject=f"email.{key}",
                sequence=0,
                deliveries=1,
                reason=reason,
                headers={},
                payload=json.dumps(payload).encode(),
                key=f"{CONSUMER}:{key}",
                manual=f"a mail of the complaint mailbox, not a stream message: read it in the folder "
                f"{self.rejected} and record it by hand (channel email), or move it back to the "
                f"inbox to try again",
            )
        )
        log.error("email.dead_lettered", message=key, reason=reason)
