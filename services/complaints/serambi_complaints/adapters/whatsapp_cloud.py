"""``WhatsAppSender`` over the WhatsApp Business Cloud API (Meta's Graph API).

``POST {base}/{phone_number_id}/messages`` with ``Authorization: Bearer <access token>`` and
``{"messaging_product": "whatsapp", "to": "<digits>", "type": "text" | "template", …}``; a 2xx
answers ``{"messages": [{"id": "wamid…"}]}``. HTTP 429 and 5xx, timeouts and connection errors
are transient; other 4xx are permanent, with Meta's ``error.code`` (131047: the 24-hour window
has closed). The base URL includes the Graph API version (``https://graph.facebook.com/v21.0``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from ..whatsapp import PermanentWhatsAppError, TransientWhatsAppError


class CloudWhatsApp:
    def __init__(self, base_url: str, phone_number_id: str, access_token: str, timeout: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.path = f"/{phone_number_id}/messages"
        self.client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=timeout, transport=transport,
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
        )

    async def send_text(self, to: str, text: str) -> str:
        return await self._send(to, {"type": "text", "text": {"preview_url": False, "body": text}})

    async def send_template(self, to: str, template: str, language: str, parameters: Sequence[str]) -> str:
        body: dict[str, Any] = {"name": template, "language": {"code": language}}
        if parameters:
            body["components"] = [{"type": "body", "parameters": [
                {"type": "text", "text": value} for value in parameters]}]
        return await self._send(to, {"type": "template", "template": body})

    async def _send(self, to: str, message: dict[str, Any]) -> str:
        body = {"messaging_product": "whatsapp", "recipient_type": "individual",
                "to": to.removeprefix("+"), **message}
        try:
            response = await self.client.post(self.path, json=body)
        except httpx.HTTPError as exc:
            raise TransientWhatsAppError(f"Cloud API unreachable: {type(exc).__name__}") from exc
        answer = _json(response)
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientWhatsAppError(f"Cloud API answered HTTP {response.status_code}")
        if response.status_code >= 400:
            error = answer.get("error") if isinstance(answer.get("error"), dict) else {}
            code = error.get("code") if isinstance(error.get("code"), int) else None
            raise PermanentWhatsAppError(
                f"Cloud API refused: HTTP {response.status_code} code {code} "
                f"{str(error.get('message') or '')[:200]}", code)
        try:
            return str(answer["messages"][0]["id"])
        except (KeyError, IndexError, TypeError):
            raise TransientWhatsAppError("Cloud API answered without a message id") from None

    async def close(self) -> None:
        await self.client.aclose()


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
