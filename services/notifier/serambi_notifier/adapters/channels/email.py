"""Email over SMTP with aiosmtplib: plain TLS, STARTTLS or none (local sink), optional login.

A small pool of connections is kept open and reused; a connection that failed is dropped and a
fresh one opened on the next message. Each message carries a Message-ID derived from its delivery
id, the same on every attempt, so a receiver that sees it twice (a resend after a crash between
the server's acceptance and our record of it) can tell.

Two timeouts: ``timeout`` for connecting and the session's own commands (greeting, EHLO,
STARTTLS, AUTH, NOOP), ``send_timeout`` for the commands of a message (MAIL, RCPT, DATA and the
answer to its end). A relay may take long to answer the end of a message that it has already
taken — giving up then and retrying would send it twice — so that wait is long (RFC 5321
§4.5.3.2.6 asks for 10 minutes).
"""

from __future__ import annotations

import asyncio
import time
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

from ...application.ports import (
    ClaimLostError,
    Email,
    PermanentDeliveryError,
    Ready,
    Receipt,
    TransientDeliveryError,
)

STALE_AFTER_SECONDS = 5.0


def build_message(email: Email, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Date"] = format_datetime(email.date)
    message["Message-ID"] = email.message_id
    message["Auto-Submitted"] = "auto-generated"
    for name, value in email.headers:
        message[name] = value
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    for attachment in email.attachments:
        message.add_attachment(
            attachment.content,
            maintype=attachment.maintype,
            subtype=attachment.subtype,
            filename=attachment.filename,
            params=attachment.params or None,
        )
    return message


def classify(exc: Exception) -> Exception:
    """The SMTP failure as a transient or permanent delivery error."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [error.code for error in exc.recipients]
        reason = "; ".join(f"{e.code} {e.message}" for e in exc.recipients)
        if codes and all(500 <= code < 600 for code in codes):
            return PermanentDeliveryError(f"recipient refused: {reason}")
        return TransientDeliveryError(f"recipient deferred: {reason}")
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused | aiosmtplib.SMTPDataError):
        if 500 <= exc.code < 600:
            return PermanentDeliveryError(f"refused: {exc.code} {exc.message}")
        return TransientDeliveryError(f"deferred: {exc.code} {exc.message}")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        # authentication, sender or HELO refused: the configuration or the server, not this
        # message — retried, so fixing the configuration lets queued messages go out
        return TransientDeliveryError(f"SMTP {exc.code}: {exc.message}")
    return TransientDeliveryError(f"{type(exc).__name__}: {exc}", "unreachable")


class SmtpChannel:
    provider = "smtp"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        tls: str,
        username: str | None,
        password: str | None,
        sender: str,
        timeout: float,
        connections: int = 2,
        validate_certs: bool = True,
        cert_bundle: str | None = None,
        send_timeout: float = 600.0,
    ) -> None:
        self.host, self.port, self.tls = host, port, tls
        self.username, self.password = username, password
        self.sender = sender
        self.timeout = timeout
        self.send_timeout = max(send_timeout, timeout)
        self.validate_certs = validate_certs
        self.cert_bundle = cert_bundle
        self._last_used: dict[int, float] = {}
        self._idle: asyncio.Queue[aiosmtplib.SMTP | None] = asyncio.Queue()
        for _ in range(connections):
            self._idle.put_nowait(None)

    def _client(self) -> aiosmtplib.SMTP:
        return aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            timeout=self.timeout,
            use_tls=self.tls == "tls",
            start_tls=self.tls == "starttls",
            validate_certs=self.validate_certs,
            cert_bundle=self.cert_bundle,
            username=self.username,
            password=self.password,
        )

    async def _usable(self, client: aiosmtplib.SMTP | None) -> aiosmtplib.SMTP:
        """An open connection: the idle one if it still answers, else a new one."""
        if client is not None and client.is_connected:
            if time.monotonic() - self._last_used.get(id(client), 0.0) < STALE_AFTER_SECONDS:
                return client
            try:
                await client.noop()
                return client
            except Exception:  # noqa: BLE001 — the server closed it while idle
                await _close(client)
        client = self._client()
        await client.connect()
        return client

    async def send(self, email: Email, ready: Ready | None = None) -> Receipt:
        """Hand the message over on a pooled connection; ``ready`` is asked once one is free."""
        message = build_message(email, self.sender)
        client = await self._idle.get()
        try:
            client = await self._usable(client)
            if ready is not None and not await ready():
                raise ClaimLostError(email.message_id)
            await client.send_message(message, timeout=self.send_timeout)
            self._last_used[id(client)] = time.monotonic()
        except ClaimLostError:
            raise
        except Exception as exc:  # noqa: BLE001 — classified, never swallowed
            await _close(client)
            client = None
            raise classify(exc) from exc
        finally:
            self._idle.put_nowait(client)
        return Receipt(self.provider, email.message_id, "sent")

    async def close(self) -> None:
        while not self._idle.empty():
            await _close(self._idle.get_nowait())


async def _close(client: aiosmtplib.SMTP | None) -> None:
    if client is None or not client.is_connected:
        return
    try:
        await asyncio.wait_for(client.quit(), 2.0)
    except Exception:  # noqa: BLE001 — closing a broken connection
        client.close()
