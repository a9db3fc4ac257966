"""SMS through an HTTP gateway. Providers share one shape — ``send(number, parts, client id)`` —
so another provider (or WhatsApp) is one more class.

- ``json``: a JSON API with bearer authentication: ``POST {url}`` with
  ``{"to": "+62…", "text": …, "sender": …, "client_message_id": …}``; answers ``2xx`` with
  ``{"message_id": …, "status": …}``. The client message id lets the gateway drop a resend.
- ``zenziva``: a form-style API like Zenziva's: ``POST {url}`` form fields ``userkey``,
  ``passkey``, ``to`` (national ``08…``), ``message``; answers ``{"messageId", "status": "1",
  "text"}`` (``status`` other than ``"1"`` is a refusal, with the reason in ``text``). It has no
  client message id; ours is kept in the delivery log.

A text of several parts is sent as one request per part (client ids ``<id>-1``, ``<id>-2``, …).
HTTP 429 and 5xx, timeouts and connection errors are transient; other 4xx and refusals are
permanent.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from ...application.ports import PermanentDeliveryError, Receipt, TransientDeliveryError


def _part_ids(client_id: str, parts: Sequence[str]) -> list[str]:
    return [client_id] if len(parts) == 1 else [f"{client_id}-{n}" for n in range(1, len(parts) + 1)]


def _check_status(response: httpx.Response) -> None:
    if response.status_code == 429 or response.status_code >= 500:
        raise TransientDeliveryError(f"gateway answered HTTP {response.status_code}")
    if response.status_code >= 400:
        raise PermanentDeliveryError(f"gateway refused: HTTP {response.status_code} {response.text[:200]}")


def _json(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        raise TransientDeliveryError("gateway answered with a body that is not JSON") from None
    if not isinstance(body, dict):
        raise TransientDeliveryError("gateway answered with JSON that is not an object")
    return body


class _HttpProvider:
    name = "http"

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.client = httpx.AsyncClient(timeout=timeout)

    async def _post(self, **kwargs) -> httpx.Response:
        try:
            response = await self.client.post(self.url, **kwargs)
        except httpx.HTTPError as exc:
            raise TransientDeliveryError(f"gateway unreachable: {type(exc).__name__}", "unreachable") from exc
        _check_status(response)
        return response

    async def close(self) -> None:
        await self.client.aclose()


class JsonProvider(_HttpProvider):
    name = "json"

    def __init__(self, url: str, token: str | None, sender: str, timeout: float) -> None:
        super().__init__(url, timeout)
        self.token = token
        self.sender = sender

    async def send(self, number: str, parts: Sequence[str], client_id: str) -> Receipt:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        ids = []
        status = "queued"
        for part, part_id in zip(parts, _part_ids(client_id, parts), strict=True):
            body = {"to": number, "text": part, "sender": self.sender, "client_message_id": part_id}
            answer = _json(await self._post(json=body, headers=headers))
            ids.append(str(answer.get("message_id") or answer.get("id") or part_id))
            status = str(answer.get("status") or status)
        return Receipt(self.name, ",".join(ids), _status(status))


class ZenzivaProvider(_HttpProvider):
    name = "zenziva"

    def __init__(self, url: str, userkey: str | None, passkey: str | None, timeout: float) -> None:
        super().__init__(url, timeout)
        self.userkey = userkey or ""
        self.passkey = passkey or ""

    async def send(self, number: str, parts: Sequence[str], client_id: str) -> Receipt:
        national = "0" + number.removeprefix("+62")
        ids = []
        for part in parts:
            form = {"userkey": self.userkey, "passkey": self.passkey, "to": national, "message": part}
            answer = _json(await self._post(data=form))
            if str(answer.get("status")) != "1":
                raise PermanentDeliveryError(f"gateway refused: {str(answer.get('text'))[:200]}")
            ids.append(str(answer.get("messageId") or ""))
        return Receipt(self.name, ",".join(i for i in ids if i) or None, "queued")


RECEIPT_STATUSES = ("queued", "sent", "delivered", "failed")


def _status(raw: str) -> str:
    return normalise_status(raw) or "queued"


def normalise_status(raw: str | None) -> str | None:
    """A gateway's status word as one of ``RECEIPT_STATUSES`` (None if unknown)."""
    word = (raw or "").strip().lower()
    aliases = {
        "queued": "queued",
        "accepted": "queued",
        "pending": "queued",
        "ok": "queued",
        "1": "queued",
        "sent": "sent",
        "submitted": "sent",
        "enroute": "sent",
        "delivered": "delivered",
        "delivrd": "delivered",
        "success": "delivered",
        "failed": "failed",
        "undelivered": "failed",
        "undeliv": "failed",
        "rejected": "failed",
        "rejectd": "failed",
        "expired": "failed",
        "expird": "failed",
        "error": "failed",
    }
    return aliases.get(word)
