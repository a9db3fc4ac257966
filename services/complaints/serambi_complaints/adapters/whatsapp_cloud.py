"""``WhatsAppSender`` over the WhatsApp Business Cloud API (Meta's Graph API).

``POST {base}/{phone_number_id}/messages`` with ``Authorization: Bearer <access token>`` and
``{"messaging_product": "whatsapp", "to": "<digits>", "type": "text" | "template", …}``; a 2xx
answers ``{"messages": [{"id": "wamid…"}]}``. Timeouts, connection errors, HTTP 401, 403, 408,
429 and 5xx, and Meta's error codes of an expired or revoked token (190), of a rate limit or of a
service temporarily down (``TRANSIENT_CODES``) are transient — an operator renewing the token
fixes them without the message changing; other 4xx are permanent, with Meta's ``error.code``
(131047: the 24-hour window has closed). An error keeps the status and code only, never Meta's
text (it may quote the number). The base URL includes the Graph API version
(``https://graph.facebook.com/v21.0``).

Media a citizen sent: ``GET {base}/{media id}`` (the same token) answers
``{"url", "mime_type", "sha256", "file_size", "id"}``; ``GET <url>`` with the token gives the
bytes, streamed into a spooled file and cut one byte past the limit. The URL is short-lived
(minutes) and must be https (or on the API's own host: the tests' stand-in).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import httpx

from ..application.ports import MediaTooLarge, PermanentWhatsAppError, TransientWhatsAppError
from .lapor_attachments import AttachmentError, download

#: Graph API error codes worth another try later: the service unavailable or failing for now
#: (1, 2, 131000, 131016, 133004), rate limits (4, 17, 80007, 130429, 131048, 131056), the access
#: token expired, revoked or short of a permission (190, 10, 200: an operator fixes those).
TRANSIENT_CODES = frozenset(
    {1, 2, 4, 10, 17, 190, 200, 80007, 130429, 131000, 131016, 131048, 131056, 133004}
)
TRANSIENT_STATUSES = frozenset({401, 403, 408, 429})


def transient(status: int, code: int | None = None) -> bool:
    """Whether an HTTP status (and Meta's error code) is worth another try later."""
    return status >= 500 or status in TRANSIENT_STATUSES or code in TRANSIENT_CODES


class CloudWhatsApp:
    def __init__(
        self,
        base_url: str,
        phone_number_id: str,
        access_token: str,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.path = f"/{phone_number_id}/messages"
        self.client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            transport=transport,
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
        )

    async def send_text(self, to: str, text: str) -> str:
        return await self._send(to, {"type": "text", "text": {"preview_url": False, "body": text}})

    async def send_template(self, to: str, template: str, language: str, parameters: Sequence[str]) -> str:
        body: dict[str, Any] = {"name": template, "language": {"code": language}}
        if parameters:
            body["components"] = [
                {"type": "body", "parameters": [{"type": "text", "text": value} for value in parameters]}
            ]
        return await self._send(to, {"type": "template", "template": body})

    async def _send(self, to: str, message: dict[str, Any]) -> str:
        body = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to.removeprefix("+"),
            **message,
        }
        try:
            response = await self.client.post(self.path, json=body)
        except httpx.HTTPError as exc:
            raise TransientWhatsAppError(f"Cloud API unreachable: {type(exc).__name__}") from exc
        _raise_for(response, "message")
        answer = _json(response)
        try:
            return str(answer["messages"][0]["id"])
        except (KeyError, IndexError, TypeError):
            raise TransientWhatsAppError("Cloud API answered without a message id") from None

    async def fetch_media(self, media_id: str, max_bytes: int) -> BinaryIO:
        try:
            response = await self.client.get(f"/{media_id}")
        except httpx.HTTPError as exc:
            raise TransientWhatsAppError(f"Cloud API unreachable: {type(exc).__name__}") from exc
        _raise_for(response, "media")
        info = _json(response)
        url, size = info.get("url"), info.get("file_size")
        if not isinstance(url, str) or not self._trusted(url):
            raise PermanentWhatsAppError("Cloud API answered without a usable media URL")
        if str(size or "").isdigit() and int(size) > max_bytes:
            raise MediaTooLarge(f"media of {int(size)} bytes, more than {max_bytes}")
        try:
            file = await download(self.client, url, max_bytes)
        except AttachmentError as exc:
            if exc.status is not None and not transient(exc.status):
                raise PermanentWhatsAppError(f"media download refused: HTTP {exc.status}") from exc
            raise TransientWhatsAppError(f"media download failed: {exc}") from exc
        except httpx.HTTPError as exc:
            raise TransientWhatsAppError(f"media download failed: {type(exc).__name__}") from exc
        file.seek(0)
        return file

    def _trusted(self, url: str) -> bool:
        """Only https (or the API's own host) gets the access token."""
        parts = urlsplit(url)
        return parts.scheme == "https" or parts.netloc == self.client.base_url.netloc.decode()

    async def close(self) -> None:
        await self.client.aclose()


def _raise_for(response: httpx.Response, what: str) -> None:
    if response.status_code < 400:
        return
    error = _json(response).get("error")
    code = error.get("code") if isinstance(error, dict) and isinstance(error.get("code"), int) else None
    if transient(response.status_code, code):
        raise TransientWhatsAppError(f"Cloud API {what}: HTTP {response.status_code} code {code}", code)
    raise PermanentWhatsAppError(f"Cloud API {what} refused: HTTP {response.status_code} code {code}", code)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
