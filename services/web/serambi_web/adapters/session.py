"""The officer's session: a sealed cookie (AES-GCM, key derived from SERAMBI_SESSION_SECRET).

It holds the officer's tokens (the access token is relayed to the services), the roles read from
the access token, when the session started and when it was last used. A session unused for the
idle timeout (30 min) or older than the absolute timeout (10 h) is over, whatever the tokens
say. The cookie is HttpOnly, SameSite=Lax, Path=/petugas, Secure outside localhost; a value
larger than one cookie may hold is split over a few (``serambi_petugas_0``, ``_1``, …).
The sign-in in progress (state, PKCE verifier, nonce, where to return) is sealed the same way
in a cookie of its own, valid for 10 minutes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import zlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

COOKIE = "serambi_petugas"
PENDING_COOKIE = "serambi_petugas_masuk"
PATH = "/petugas"
CHUNK = 3500  # characters per cookie, under the 4096-byte limit with name and attributes
MAX_CHUNKS = 4
PENDING_SECONDS = 600
TOUCH_SECONDS = 60  # the last-use time is rewritten at most this often


@dataclass
class OfficerSession:
    subject: str
    name: str
    username: str
    roles: list[str]
    access_token: str
    access_expires: float
    refresh_token: str | None
    id_token: str | None
    started: float
    seen: float

    def expired(self, now: float, idle_seconds: int, absolute_seconds: int) -> bool:
        return now - self.seen > idle_seconds or now - self.started > absolute_seconds


class Sealer:
    """Seals JSON for one purpose (``session``, ``pending``): a value sealed for one is refused
    as the other."""

    def __init__(self, secret: str) -> None:
        self._aead = AESGCM(hashlib.sha256(b"serambi-web petugas\0" + secret.encode()).digest())

    def seal(self, purpose: str, data: dict[str, Any]) -> str:
        nonce = os.urandom(12)
        body = zlib.compress(json.dumps(data, separators=(",", ":")).encode())
        sealed = nonce + self._aead.encrypt(nonce, body, purpose.encode())
        return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()

    def open(self, purpose: str, value: str | None) -> dict[str, Any] | None:
        if not value:
            return None
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            data = json.loads(zlib.decompress(self._aead.decrypt(raw[:12], raw[12:], purpose.encode())))
        except (ValueError, InvalidTag, zlib.error):
            return None
        return data if isinstance(data, dict) else None


def session_cookies(sealer: Sealer, session: OfficerSession) -> dict[str, str | None]:
    """Cookie name → value for ``session`` (None: delete a chunk left from a larger value)."""
    value = sealer.seal("session", asdict(session))
    chunks = [value[i : i + CHUNK] for i in range(0, len(value), CHUNK)]
    if len(chunks) > MAX_CHUNKS:
        raise ValueError("the officer's tokens are too large for the session cookie")
    return {f"{COOKIE}_{i}": chunks[i] if i < len(chunks) else None for i in range(MAX_CHUNKS)}


def read_session(sealer: Sealer, cookies: Mapping[str, str]) -> OfficerSession | None:
    """The session in ``cookies``, or None (absent, forged, truncated); timeouts are the caller's."""
    parts = []
    for i in range(MAX_CHUNKS):
        part = cookies.get(f"{COOKIE}_{i}")
        if not part:
            break
        parts.append(part)
    data = sealer.open("session", "".join(parts))
    if data is None:
        return None
    try:
        return OfficerSession(**data)
    except TypeError:  # sealed by an older layout
        return None


def cleared() -> dict[str, str | None]:
    return {f"{COOKIE}_{i}": None for i in range(MAX_CHUNKS)}
