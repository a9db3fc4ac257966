"""A raw e-mail read into what a complaint needs: who, subject, text, attachments, thread.

``read`` raises ``UnreadableMail`` with a reason that holds no personal data (no address, no
header value, no text: only what is wrong). HTML is reduced to text with the standard library's
parser (scripts, styles and the head dropped, entities decoded, blocks as lines), never rendered.
Attachments are left encoded (``Attachment``): the intake decodes only those it may keep.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from html.parser import HTMLParser

MESSAGE_ID = re.compile(r"<[^<>\s]+>")
SKIPPED_TAGS = {"script", "style", "head", "title", "template", "noscript"}
BLOCK_TAGS = {
    "p",
    "div",
    "br",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "table",
    "ul",
    "ol",
    "hr",
    "section",
    "article",
    "header",
    "footer",
}
LIST_PRECEDENCE = {"bulk", "list", "junk"}
THREAD_REFERENCES, THREAD_MAX = 10, 2000  # what an answer's References keep of the thread


class UnreadableMail(ValueError):
    """A message that cannot be turned into a complaint; the reason names no personal data."""


@dataclass(frozen=True, slots=True, eq=False)
class Attachment:
    """An attachment as the message holds it, not decoded yet."""

    part: EmailMessage

    def _encoded(self) -> str:
        payload = self.part.get_payload(decode=False)
        return payload if isinstance(payload, str) else ""

    def least_size(self) -> int:
        """A lower bound of its decoded size, from the encoded text alone (nothing decoded)."""
        encoded = self._encoded()
        encoding = str(self.part.get("Content-Transfer-Encoding", "")).strip().lower()
        if encoding == "base64":
            characters = len(encoded) - sum(encoded.count(c) for c in "\r\n \t")
            return max(characters * 3 // 4 - 2, 0)
        if encoding == "quoted-printable":
            return len(encoded) // 3
        return len(encoded)

    def decode(self) -> bytes:
        payload = self.part.get_payload(decode=True)
        return payload if isinstance(payload, bytes) else b""


@dataclass(frozen=True, slots=True)
class Mail:
    key: str  # from the Message-ID (or the content when it has none): the idempotency key
    message_id: str | None
    thread: tuple[str, ...]  # keys of the messages it answers (In-Reply-To, References)
    sender: str
    name: str | None
    subject: str
    text: str
    attachments: tuple[Attachment, ...] = field(default=())
    automatic: str | None = None  # why it is an auto-reply, bounce or list mail
    references: tuple[str, ...] = ()  # the Message-IDs of its References (else In-Reply-To), in order

    @property
    def as_thread(self) -> str | None:
        """The message as the thread an answer continues: the last references (at most
        ``THREAD_REFERENCES``), then its own Message-ID; None without a Message-ID."""
        if self.message_id is None:
            return None
        ids = [*self.references[-THREAD_REFERENCES:], self.message_id]
        while len(" ".join(ids)) > THREAD_MAX and len(ids) > 1:
            ids.pop(0)
        return " ".join(ids) if len(ids[-1]) <= THREAD_MAX else None


def key_of(message_id: str) -> str:
    return hashlib.sha256(message_id.encode()).hexdigest()[:32]


def note_key(key: str) -> str:
    """A message's key as its note carries it (ComplaintNoteAdded.message_key: 32 hex digits)."""
    return hashlib.sha256(f"email:{key}".encode()).hexdigest()[:32]


def raw_key(raw: bytes) -> str:
    """The key of a message without a Message-ID (or one that cannot be read): its content's."""
    return "raw-" + hashlib.sha256(raw).hexdigest()[:28]


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in SKIPPED_TAGS:
            self.skipping += 1
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return tidy("".join(parser.parts))


def tidy(text: str) -> str:
    """Spaces collapsed within lines, at most one blank line, no control characters."""
    text = "".join(c if c == "\n" or c.isprintable() else " " if c.isspace() else "" for c in text)
    lines = [" ".join(line.split()) for line in text.replace("\r", "").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def automatic(message: EmailMessage) -> str | None:
    """Why the message was sent by a machine (RFC 3834 and the usual list and bounce marks)."""
    submitted = str(message.get("Auto-Submitted", "")).strip().lower()
    if submitted and submitted != "no":
        return "auto-submitted"
    if str(message.get("Precedence", "")).strip().lower() in LIST_PRECEDENCE:
        return "precedence"
    if str(message.get("Return-Path", "")).strip() == "<>":
        return "null return path (a bounce)"
    if message.get("List-Id") is not None:
        return "mailing list"
    if message.get("X-Autoreply") is not None or message.get("X-Autorespond") is not None:
        return "auto-reply"
    if message.get_content_type() == "multipart/report":
        return "delivery report"
    return None


def _ids(value: object) -> list[str]:
    return MESSAGE_ID.findall(str(value or ""))


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    return html_to_text(content) if part.get_content_type() == "text/html" else tidy(content)


def _attachments(message: EmailMessage) -> tuple[Attachment, ...]:
    return tuple(
        Attachment(part)
        for part in message.iter_attachments()  # type: ignore[arg-type]
        if not part.is_multipart() and part.get_content_maintype() not in ("text", "message")
    )


def read(raw: bytes) -> Mail:
    """The message, or UnreadableMail saying why not."""
    try:
        message: EmailMessage = email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[assignment]
        sender = message.get("From")
        addresses = getattr(sender, "addresses", ()) if sender is not None else ()
        if not addresses or "@" not in addresses[0].addr_spec:
            raise UnreadableMail("unreadable e-mail: no sender address")
        ids = _ids(message.get("Message-ID"))
        message_id = ids[0] if ids else None
        replied_to, references = _ids(message.get("In-Reply-To")), _ids(message.get("References"))
        thread = [*replied_to, *references]
        reason = automatic(message)
        text = "" if reason else _body(message)
        return Mail(
            key=key_of(message_id) if message_id else raw_key(raw),
            message_id=message_id,
            thread=tuple(dict.fromkeys(key_of(i) for i in thread if i != message_id)),
            sender=addresses[0].addr_spec.strip().lower(),
            name=addresses[0].display_name.strip() or None,
            subject=tidy(str(message.get("Subject", ""))),
            text=text,
            attachments=() if reason else _attachments(message),
            automatic=reason,
            references=tuple(i for i in dict.fromkeys(references or replied_to) if i != message_id),
        )
    except UnreadableMail:
        raise
    except (LookupError, ValueError, TypeError, AttributeError, IndexError, UnicodeError) as exc:
        raise UnreadableMail(f"unreadable e-mail: {type(exc).__name__}") from exc
