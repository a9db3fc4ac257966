"""At most ``SERAMBI_MAX_CONCURRENT_UPLOADS`` uploads at once in a service process.

Each multipart upload may spool up to ``SERAMBI_MAX_REQUEST_BYTES`` to the disk-backed
``/tmp`` and holds about 2 MB of memory while it is parsed, sealed and stored
(docs/performance.md), so the cap times the request limit bounds what uploads take: the spool
volume is sized from it (``tests/deploy/test_upload_spool.py`` keeps them in step). A slot is
taken only after the route's other checks — rate limit, body limit, officer roles — so a
refused client never holds one, and before the body is read; it is held until the route
returns. When every slot is taken the upload is refused at once: 503 with ``Retry-After``,
its body never read.

A route declares ``Depends(upload_slot)`` after its other dependencies; on a
``ChecksFirstRoute`` it is taken after every ``before_body`` check, whatever its place.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import FastAPI, HTTPException, Request, status

from .bodylimit import before_body
from .state import kit_state

SCOPE_KEY = "serambi.upload_slot"
RETRY_AFTER_SECONDS = 5


class UploadSlots:
    """A counter of the uploads in progress, up to ``size``; never waits."""

    def __init__(self, size: int) -> None:
        self.size, self.taken = size, 0

    def take(self) -> bool:
        if self.taken >= self.size:
            return False
        self.taken += 1
        return True

    def give_back(self) -> None:
        self.taken -= 1


def slots_of(app: FastAPI) -> UploadSlots:
    """The process's upload slots (sized by ``max_concurrent_uploads`` of its settings)."""
    state = kit_state(app)
    if state.upload_slots is None:
        state.upload_slots = UploadSlots(state.settings.max_concurrent_uploads)
    return state.upload_slots


def _is_upload(request: Request) -> bool:
    return request.headers.get("content-type", "").lower().startswith("multipart/form-data")


@before_body
async def upload_slot(request: Request) -> AsyncIterator[None]:
    """A FastAPI dependency: one of the process's upload slots for a multipart body, held while
    the route runs; 503 when none is free. A JSON body takes none."""
    if not _is_upload(request) or request.scope.get(SCOPE_KEY):  # none needed, or already held
        yield
        return
    slots = slots_of(request.app)
    if not slots.take():
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"{slots.size} uploads are in progress on this server, its most at once; retry shortly",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    request.scope[SCOPE_KEY] = True
    try:
        yield
    finally:
        slots.give_back()
