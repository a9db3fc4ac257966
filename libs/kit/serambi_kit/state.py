"""What the kit keeps per app, typed: one ``KitState``, stored once on the app (``install``; a
service's ``serambi_kit.http.create_app`` does it, the portal's ``create_app`` too) and read
through ``kit_state`` only. The rate limits (``ratelimit``), the upload slots (``uploads``), the
token check (``auth``), the body limits (``bodylimit``), the admin routes (``admin``) and
``serve`` read it there, never an attribute of their own on ``app.state``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from starlette.applications import Starlette
from starlette.requests import HTTPConnection

if TYPE_CHECKING:  # the modules that read the state import this one
    from .auth import TokenVerifier
    from .ratelimit import TokenBuckets
    from .runtime import Runtime
    from .uploads import UploadSlots


class KitSettings(Protocol):
    """The settings the kit reads (a service's ``ServiceSettings``, the portal's ``WebSettings``)."""

    @property
    def service(self) -> str: ...
    @property
    def http_host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def internal_port(self) -> int | None: ...
    @property
    def forwarded_allow_ips(self) -> list[str]: ...
    @property
    def rate_limits(self) -> dict[str, int]: ...
    @property
    def max_concurrent_uploads(self) -> int: ...


@dataclass
class KitState:
    settings: KitSettings
    runtime: Runtime | None = None  # a service's (NATS, MongoDB, the vault); the portal has none
    token_verifier: TokenVerifier | None = None  # officers' bearer tokens; the portal has none
    rate_limits: dict[str, TokenBuckets] = field(default_factory=dict)  # by limit name, made on first use
    upload_slots: UploadSlots | None = None  # made on first use (``uploads.slots_of``)


class NoKitState(RuntimeError):
    def __init__(self) -> None:
        super().__init__("the app has no KitState: build it with create_app or serambi_kit.state.install")


def install(app: Starlette, state: KitState) -> KitState:
    """Store ``state`` on ``app`` (FastAPI's or Starlette's), once."""
    app.state.kit = state
    return state


def kit_state(source: HTTPConnection | Starlette) -> KitState:
    """The ``KitState`` of a request's app, or of the app itself."""
    app = source.app if isinstance(source, HTTPConnection) else source
    state = getattr(app.state, "kit", None)
    if not isinstance(state, KitState):
        raise NoKitState()
    return state


def service_runtime(source: HTTPConnection | Starlette) -> Runtime:
    """A service's ``Runtime`` (``serambi_kit.http.runtime_of`` is the FastAPI dependency)."""
    runtime = kit_state(source).runtime
    if runtime is None:
        raise NoKitState()
    return runtime
