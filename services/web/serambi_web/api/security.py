"""Form tokens (CSRF), tracking sessions and the headers every page carries.

- CSRF: a random nonce in an HttpOnly cookie; each form carries HMAC(secret, nonce). A post whose
  field does not match its cookie is refused (a foreign site can neither read nor set either).
  Over HTTPS the cookie is ``__Host-serambi_csrf``: Secure, Path=/, no Domain, so neither a
  sibling subdomain nor a plain-HTTP page can plant a nonce of its own. The tracking session's
  Path is the case's page, which ``__Host-`` forbids: it is ``__Secure-serambi_lacak``. On plain
  HTTP (a developer's machine, the tests) the names carry no prefix, which browsers would refuse.
- Cross-site posts are refused before the form is read (``Guard``): ``Sec-Fetch-Site:
  cross-site`` or ``same-site``, or an ``Origin`` other than the portal's own.
- Tracking sessions: the access token, AES-GCM-encrypted with a key derived from the secret and
  bound to the case ("audiensi:R-…"), in an HttpOnly, SameSite=Lax cookie whose Path is that
  case's page. The token itself never travels in a URL the server sees.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

CSRF_COOKIE = "serambi_csrf"
SESSION_COOKIE = "serambi_lacak"


def cookie_names(secure: bool) -> tuple[str, str]:
    """The CSRF and tracking-session cookie names: prefixed over HTTPS (see above)."""
    if secure:
        return f"__Host-{CSRF_COOKIE}", f"__Secure-{SESSION_COOKIE}"
    return CSRF_COOKIE, SESSION_COOKIE


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Secrets:
    """What the portal derives from ``SERAMBI_SESSION_SECRET``."""

    def __init__(self, secret: str, session_seconds: int, secure: bool = False) -> None:
        root = secret.encode()
        self.secure = secure
        self.csrf_cookie, self.session_cookie = cookie_names(secure)
        self._csrf_key = hashlib.sha256(b"serambi-web csrf\0" + root).digest()
        self._aead = AESGCM(hashlib.sha256(b"serambi-web session\0" + root).digest())
        self.session_seconds = session_seconds

    @staticmethod
    def new_nonce() -> str:
        return secrets.token_urlsafe(24)

    def csrf_token(self, nonce: str) -> str:
        return _b64(hmac.new(self._csrf_key, nonce.encode(), hashlib.sha256).digest())

    def csrf_valid(self, nonce: str | None, token: str | None) -> bool:
        return bool(nonce and token) and hmac.compare_digest(self.csrf_token(nonce), token)

    def seal(self, case: str, token: str, now: float | None = None) -> str:
        """The cookie value for ``case`` (e.g. ``audiensi:R-2025-000001``)."""
        expires = int((now or time.time()) + self.session_seconds)
        nonce = os.urandom(12)
        body = json.dumps({"t": token, "e": expires}).encode()
        return _b64(nonce + self._aead.encrypt(nonce, body, case.encode()))

    def open(self, case: str, value: str | None, now: float | None = None) -> str | None:
        """The access token in a cookie of ``case``, or None (absent, forged, other case, expired)."""
        if not value:
            return None
        try:
            raw = _unb64(value)
            body = json.loads(self._aead.decrypt(raw[:12], raw[12:], case.encode()))
        except (ValueError, InvalidTag):
            return None
        if not isinstance(body, dict) or body.get("e", 0) < (now or time.time()):
            return None
        token = body.get("t")
        return token if isinstance(token, str) else None
