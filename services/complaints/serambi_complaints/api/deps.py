"""What the complaints routes depend on, as ``Annotated[..., Depends(...)]`` aliases: the
container ``main.py`` builds (``main.ComplaintsService``), seen through what the routes use of it.
Only here is ``request.app.state`` read."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends, Request
from serambi_kit.documents import DocumentStore
from serambi_kit.idempotency import IdempotencyKeys
from serambi_kit.runtime import Runtime

from ..adapters.queries import Reader
from ..adapters.whatsapp import WhatsAppIntake
from ..adapters.whatsapp_replies import WhatsAppReplies
from ..domain import Rules
from ..settings import ComplaintsSettings


class Container(Protocol):
    """What the routes use of the complaints container. The database-backed parts are reached
    only when a route uses them (once the request was validated), as before the runtime started
    they are not there."""

    settings: ComplaintsSettings
    rules: Rules
    runtime: Runtime
    whatsapp_intake: WhatsAppIntake
    whatsapp_replies: WhatsAppReplies | None

    @property
    def attachments(self) -> DocumentStore: ...

    @property
    def idempotency(self) -> IdempotencyKeys: ...

    def reader(self) -> Reader: ...


def container(request: Request) -> Container:
    return request.app.state.complaints  # type: ignore[no-any-return]


def settings_of(request: Request) -> ComplaintsSettings:
    """The settings, for the hooks that run before the body is read (body limits)."""
    return container(request).settings


Complaints = Annotated[Container, Depends(container)]
