"""Delivery channels: email over SMTP and SMS over an HTTP gateway.

A channel either returns a :class:`Receipt` (the server or gateway accepted the message) or raises
:class:`TransientDeliveryError` (try again later: connection refused, timeouts, SMTP 4xx, HTTP
5xx/429) or :class:`PermanentDeliveryError` (retrying cannot help: SMTP 5xx for the recipient or
message, HTTP 4xx, an address the gateway refuses).
"""

from __future__ import annotations

from dataclasses import dataclass


class DeliveryError(Exception):
    """A message was not accepted."""


class TransientDeliveryError(DeliveryError):
    """Not accepted now; may be accepted later."""


class PermanentDeliveryError(DeliveryError):
    """Will never be accepted as it is."""


@dataclass(frozen=True, slots=True)
class Receipt:
    provider: str
    message_id: str | None
    status: str = "queued"
