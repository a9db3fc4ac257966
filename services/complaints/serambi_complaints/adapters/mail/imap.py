"""The complaint mailbox over IMAP with TLS: the standard library's imaplib, in a thread.

A round opens one connection, makes sure the two destination folders exist, lists the messages
in the inbox and, for each, asks its size first (RFC822.SIZE, with the server's INTERNALDATE, the
time it arrived): a message above ``max_message_bytes`` is never downloaded — only its
Message-ID header goes to the ``too_large`` handler —, any other is fetched whole; it awaits the
handler and moves the message to the folder the handler names. A message is moved
only after its handler returned: a crash or an outage in between leaves it in the inbox for the
next round (the handler is idempotent). Folder names use the server's hierarchy separator.

After the inbox, the round expunges from the destination folders every message that arrived
more than ``retention_days`` ago (IMAP ``SEARCH BEFORE``, by the server's INTERNALDATE, which a
move keeps; 0: everything handled, at once): a handled mail is recorded, sealed, in the event
store, and its clear copy in the mailbox must not outlive an erasure by more than that.
"""

from __future__ import annotations

import asyncio
import imaplib
import re
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from serambi_kit.logging import get_logger

log = get_logger(__name__)
Handler = Callable[[bytes, datetime | None], Awaitable[str]]  # → the folder to move it to
#: (its Message-ID header, its size, the limit, arrival) → the folder to move it to
TooLarge = Callable[[bytes, int, int, datetime | None], Awaitable[str]]
INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')
SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def imap_date(day: date) -> str:
    """An IMAP search date (``7-Dec-2026``), English whatever the locale."""
    return f"{day.day}-{MONTHS[day.month - 1]}-{day.year}"


def retention_cutoff(today: date, retention_days: int) -> date:
    """``SEARCH BEFORE`` this date finds the messages that arrived more than ``retention_days``
    days ago (by whole days; 0: every message, today's too)."""
    return today + timedelta(days=1) - timedelta(days=retention_days)


def arrived_at(response: bytes) -> datetime | None:
    """The INTERNALDATE of a FETCH response, in UTC."""
    found = INTERNALDATE.search(response)
    parts = found and imaplib.Internaldate2tuple(b'INTERNALDATE "' + found.group(1) + b'"')
    return datetime.fromtimestamp(time.mktime(parts), UTC) if parts else None  # local → UTC


class MailboxError(Exception):
    """The server refused a command (an outage or a configuration error): retried next round."""


def quoted(name: str) -> str:
    """An IMAP quoted string (the settings refuse quotes, backslashes and non-ASCII)."""
    return f'"{name}"'


@dataclass(frozen=True, slots=True)
class ImapMailbox:
    host: str
    port: int
    user: str
    password: str
    security: Literal["tls", "starttls"] = "tls"
    ca_file: str | None = None
    timeout: float = 30.0
    inbox: str = "INBOX"
    retention_days: int = 30  # handled mail is expunged from the destination folders after this
    max_message_bytes: int = 60_000_000  # a larger message is never downloaded

    def _connect(self) -> imaplib.IMAP4:
        context = ssl.create_default_context(cafile=self.ca_file)
        if self.security == "tls":
            connection = imaplib.IMAP4_SSL(self.host, self.port, ssl_context=context, timeout=self.timeout)
        else:
            connection = imaplib.IMAP4(self.host, self.port, timeout=self.timeout)
            connection.starttls(context)
        try:
            connection.login(self.user, self.password)
        except imaplib.IMAP4.error as exc:
            connection.shutdown()
            raise MailboxError(f"IMAP login refused: {exc}") from exc
        return connection

    @staticmethod
    def _ok(result: tuple[str, list], what: str) -> list:
        status, data = result
        if status != "OK":
            raise MailboxError(f"IMAP {what}: {status} {data!r}"[:300])
        return data

    def _prepare(self, connection: imaplib.IMAP4, folders: tuple[str, ...]) -> list[bytes]:
        """Create the folders (an existing one is fine), select the inbox, list its UIDs."""
        for folder in folders:
            connection.create(quoted(folder))  # NO when it exists; a real failure shows at the move
        self._ok(connection.select(quoted(self.inbox)), "select")
        data = self._ok(connection.uid("SEARCH", "UNDELETED"), "search")
        return data[0].split() if data and data[0] else []

    def _size(self, connection: imaplib.IMAP4, uid: bytes) -> tuple[int, datetime | None] | None:
        """The message's size and arrival, nothing of its content."""
        data = self._ok(connection.uid("FETCH", uid, "(RFC822.SIZE INTERNALDATE)"), "fetch")
        for item in data:
            line = item[0] if isinstance(item, tuple) else item
            if isinstance(line, bytes) and (found := SIZE.search(line)):
                return int(found.group(1)), arrived_at(line)
        return None  # expunged meanwhile

    def _literal(self, connection: imaplib.IMAP4, uid: bytes, item: str) -> bytes | None:
        data = self._ok(connection.uid("FETCH", uid, f"({item})"), "fetch")
        for part in data:
            if isinstance(part, tuple):
                return part[1]
        return None  # expunged meanwhile

    def _fetch(self, connection: imaplib.IMAP4, uid: bytes) -> bytes | None:
        return self._literal(connection, uid, "BODY.PEEK[]")

    def _message_id(self, connection: imaplib.IMAP4, uid: bytes) -> bytes | None:
        return self._literal(connection, uid, "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]")

    def _move(self, connection: imaplib.IMAP4, uid: bytes, folder: str) -> None:
        if "MOVE" in connection.capabilities:
            self._ok(connection.uid("MOVE", uid, quoted(folder)), "move")
            return
        self._ok(connection.uid("COPY", uid, quoted(folder)), "copy")
        self._delete(connection, uid)

    def _delete(self, connection: imaplib.IMAP4, uids: bytes) -> None:
        """Flag ``uids`` (a UID set) deleted in the selected folder and expunge them (only them
        where the server has UIDPLUS)."""
        self._ok(connection.uid("STORE", uids, "+FLAGS.SILENT", r"(\Deleted)"), "store")
        if "UIDPLUS" in connection.capabilities:
            self._ok(connection.uid("EXPUNGE", uids), "expunge")
        else:
            self._ok(connection.expunge(), "expunge")

    def _expire(self, connection: imaplib.IMAP4, folders: tuple[str, ...], today: date) -> int:
        """Expunge the messages of ``folders`` that arrived more than ``retention_days`` ago;
        returns how many."""
        before = imap_date(retention_cutoff(today, self.retention_days))
        expunged = 0
        for folder in folders:
            self._ok(connection.select(quoted(folder)), "select")
            data = self._ok(connection.uid("SEARCH", "BEFORE", before), "search")
            uids = data[0].split() if data and data[0] else []
            if uids:
                self._delete(connection, b",".join(uids))
                expunged += len(uids)
        return expunged

    @staticmethod
    def _close(connection: imaplib.IMAP4) -> None:
        try:
            connection.logout()
        except Exception:  # noqa: BLE001 — the connection is gone anyway
            connection.shutdown()

    async def poll(self, handle: Handler, folders: tuple[str, ...], too_large: TooLarge) -> int:
        """Hand every message of the inbox to ``handle`` (one above ``max_message_bytes``: its
        Message-ID header to ``too_large``, the rest never downloaded) and move it where it says;
        returns how many were moved. Any failure ends the round (what is left stays in the inbox)."""
        try:
            connection = await asyncio.to_thread(self._connect)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxError(f"IMAP {self.host}:{self.port} unreachable: {exc!r}") from exc
        moved = 0
        try:
            uids = await asyncio.to_thread(self._prepare, connection, folders)
            for uid in uids:
                sized = await asyncio.to_thread(self._size, connection, uid)
                if sized is None:
                    continue
                size, arrived = sized
                if size > self.max_message_bytes:
                    header = await asyncio.to_thread(self._message_id, connection, uid)
                    if header is None:
                        continue
                    folder = await too_large(header, size, self.max_message_bytes, arrived)
                else:
                    raw = await asyncio.to_thread(self._fetch, connection, uid)
                    if raw is None:
                        continue
                    folder = await handle(raw, arrived)
                await asyncio.to_thread(self._move, connection, uid, folder)
                moved += 1
            today = datetime.now(UTC).date()
            if expunged := await asyncio.to_thread(self._expire, connection, folders, today):
                log.info("email.expunged", messages=expunged, retention_days=self.retention_days)
        except asyncio.CancelledError:
            # the service stops: close the socket under the thread still reading it (it then
            # fails at once) rather than log out beside it — imaplib is not for two threads
            connection.shutdown()
            raise
        except (OSError, imaplib.IMAP4.error) as exc:
            await asyncio.to_thread(self._close, connection)
            raise MailboxError(f"IMAP round interrupted: {exc!r}") from exc
        except BaseException:
            await asyncio.to_thread(self._close, connection)
            raise
        await asyncio.to_thread(self._close, connection)
        return moved
