"""The WhatsApp Cloud API webhook: Meta's verification handshake and signed deliveries.

``GET  /api/v1/channels/whatsapp/webhook``  hub.mode=subscribe, hub.verify_token, hub.challenge → echoed
``POST /api/v1/channels/whatsapp/webhook``  X-Hub-Signature-256 over the raw body → 200 once recorded

Both answer 404 while the channel is off. A bad or missing signature is 401, logged without the
payload; a body over ``public_body_max_bytes`` is 413. A delivery is acknowledged (200) only
after its messages are recorded, so Meta retries it otherwise — duplicates are recorded once; a
message whose sender's earlier message is still being recorded, or whose media the Graph API
cannot hand out for now, is answered 503 (retried too). One message that cannot be recorded
never stops the others of the delivery: each is tried (a sender's later messages wait for their
earlier one, to keep their order), and the delivery is answered 503 if any was left — never 500.
A message failing 10 times, or a day after it was sent, becomes a dead letter (no content) and
is acknowledged. A ``failed`` status update (a reply Meta accepted, then could not deliver) goes to
``WhatsAppReplies.on_failure``; sent, delivered and read are acknowledged and ignored.
"""

from __future__ import annotations

import hmac
import json
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status
from fastapi.responses import PlainTextResponse
from serambi_calendar import utc_now
from serambi_kit.logging import get_logger

from ..adapters import whatsapp
from ..settings import ComplaintsSettings
from .common import bounded_body
from .deps import Complaints
from .models import WebhookDeliveryOut

log = get_logger(__name__)
router = APIRouter(prefix="/api/v1/channels/whatsapp", tags=["complaints (WhatsApp channel)"])


def _enabled(settings: ComplaintsSettings) -> ComplaintsSettings:
    if not settings.whatsapp_enabled:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "the WhatsApp channel is off")
    return settings


@router.get("/webhook", response_class=PlainTextResponse)
async def verify(
    complaints: Complaints,
    mode: Annotated[str, Query(alias="hub.mode", max_length=32)] = "",
    token: Annotated[str, Query(alias="hub.verify_token", max_length=256)] = "",
    challenge: Annotated[str, Query(alias="hub.challenge", max_length=256)] = "",
) -> PlainTextResponse:
    """Meta's subscription handshake: echo ``hub.challenge`` when the verify token matches."""
    expected = _enabled(complaints.settings).whatsapp_verify_token.get_secret_value()
    if mode != "subscribe" or not hmac.compare_digest(token.encode(), expected.encode()):
        log.warning("whatsapp.verification_refused", mode=mode[:32])
        raise HTTPException(status.HTTP_403_FORBIDDEN, "verification refused")
    return PlainTextResponse(challenge)


@router.post(
    "/webhook",
    dependencies=[Depends(bounded_body)],
    response_model=WebhookDeliveryOut,
    responses={401: {"description": "bad X-Hub-Signature-256"}, 413: {"description": "body too large"}},
)
async def deliver(
    request: Request,
    complaints: Complaints,
    signature: Annotated[str | None, Header(alias="X-Hub-Signature-256")] = None,
) -> dict[str, int]:
    """A delivery of Meta's webhook: each new message becomes a complaint (channel ``whatsapp``)."""
    settings = _enabled(complaints.settings)
    body = await request.body()
    if not whatsapp.signature_valid(settings.whatsapp_app_secret.get_secret_value(), body, signature):
        log.warning("whatsapp.bad_signature", size=len(body), signed=signature is not None)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "bad X-Hub-Signature-256")
    try:
        payload = json.loads(body)
    except ValueError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "the body is not JSON") from None
    intake, recorded, left = complaints.whatsapp_intake, 0, set()
    for message in whatsapp.parse_delivery(payload, utc_now(whole_seconds=True)):
        if message.phone in left:  # its sender's earlier message comes again first
            continue
        try:
            if await intake.record(message, utc_now(whole_seconds=True)):
                recorded += 1
        except whatsapp.ConversationBusy:
            left.add(message.phone)
        except Exception as exc:  # noqa: BLE001 — one message must not block the others
            log.error("whatsapp.message_failed", kind=message.kind, error=type(exc).__name__)
            try:
                given_up = not await intake.failed(message, exc, utc_now(whole_seconds=True))
                if given_up:  # a dead letter
                    left.add(message.phone)
            except Exception as error:  # noqa: BLE001 — the database is down too: Meta retries
                left.add(message.phone)
                log.error("whatsapp.failure_not_counted", error=type(error).__name__)
    replies = complaints.whatsapp_replies
    for failure in whatsapp.parse_failures(payload) if replies is not None else []:
        try:
            await replies.on_failure(failure, utc_now(whole_seconds=True))
        except Exception as exc:  # noqa: BLE001 — Meta delivers the status again
            left.add(failure.message_id)
            log.error("whatsapp.status_failed", code=failure.code, error=type(exc).__name__)
    if left:  # Meta delivers it again; what was recorded stays once
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "not all recorded for now (a sender's "
            "earlier message, the media download, or a failure); deliver again",
            headers={"Retry-After": "5"},
        )
    return {"recorded": recorded}
