"""The in-memory WhatsApp Business Cloud API of the tests: ``FakeWhatsApp``, the fake of the
complaints service's ports ``WhatsAppSender`` and ``WhatsAppMedia``
(``serambi_complaints.application.ports``); it passes the same contract tests as the HTTP
adapter ``serambi_complaints.adapters.whatsapp_cloud`` (tests/e2e/complaints/
test_whatsapp_sender_contract.py). Moved out of the service's adapters: test code only."""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from serambi_complaints.adapters.whatsapp import WINDOW_CLOSED
from serambi_complaints.application.ports import (
    MediaTooLarge,
    PermanentWhatsAppError,
    TransientWhatsAppError,
)


@dataclass
class FakeWhatsApp:
    """In memory: ``sent`` is what went out, ``media`` the files citizens sent (by media id).
    ``fail_next`` transient failures come first; ``window_closed`` refuses free text as the
    Cloud API does after 24 hours; ``token_expired`` fails everything as an expired access token
    does (transient: an operator renews it); ``refusing`` refuses every message for good with
    that Meta error code (e.g. 131026, not a WhatsApp number). Message ids are shaped like Meta's
    (they hold the recipient's number)."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0
    window_closed: bool = False
    token_expired: bool = False
    refusing: int | None = None
    media: dict[str, bytes] = field(default_factory=dict)

    async def fetch_media(self, media_id: str, max_bytes: int) -> BinaryIO:
        self._available()
        if media_id not in self.media:
            raise PermanentWhatsAppError(f"no media {media_id} (fake)", 100)
        if len(self.media[media_id]) > max_bytes:
            raise MediaTooLarge(f"media of {len(self.media[media_id])} bytes (fake)")
        return io.BytesIO(self.media[media_id])

    async def send_text(self, to: str, text: str) -> str:
        self._check(to)
        if self.window_closed:
            raise PermanentWhatsAppError("re-engagement message (fake)", WINDOW_CLOSED)
        return self._record({"to": to, "type": "text", "text": text})

    async def send_template(self, to: str, template: str, language: str, parameters: Sequence[str]) -> str:
        self._check(to)
        return self._record(
            {
                "to": to,
                "type": "template",
                "template": template,
                "language": language,
                "parameters": list(parameters),
            }
        )

    def _available(self) -> None:
        if self.token_expired:
            raise TransientWhatsAppError("the access token expired (fake)", TOKEN_EXPIRED)
        if self.fail_next > 0:
            self.fail_next -= 1
            raise TransientWhatsAppError("the Cloud API is unavailable (fake)")

    def _check(self, to: str) -> None:
        self._available()
        if not (to.startswith("+") and to[1:].isdigit()):
            raise PermanentWhatsAppError(f"not an E.164 number ({len(to)} characters)", 100)
        if self.refusing is not None:
            raise PermanentWhatsAppError(f"refused with code {self.refusing} (fake)", self.refusing)

    def _record(self, message: dict[str, Any]) -> str:
        message_id = example_wamid(message["to"], len(self.sent) + 1)
        self.sent.append({**message, "id": message_id})
        return message_id

    async def close(self) -> None:
        return None


TOKEN_EXPIRED = 190  # Graph API: the access token expired or was revoked


def example_wamid(number: str, serial: int = 1) -> str:
    """A message id shaped like Meta's: ``wamid.`` and the base64 of a record holding the other
    party's number and a message id (``wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA``
    holds 16505076520) — which is why Serambi keeps message ids only hashed."""
    digits = "".join(ch for ch in number if ch.isdigit()).encode()
    inner = hashlib.sha256(f"{number}:{serial}".encode()).hexdigest()[:18].upper().encode()
    record = b"\x1c\x18" + bytes([len(digits)]) + digits + b"\x15\x02\x00\x11\x18\x12" + inner + b"\x00"
    return "wamid." + base64.b64encode(record).decode()
