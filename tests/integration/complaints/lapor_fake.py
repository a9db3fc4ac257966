"""An in-memory SP4N-LAPOR! gateway (``serambi_complaints.application.ports.LaporGateway``) for
the tests."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO

from serambi_complaints.application.ports import LaporComplaint, LaporError


@dataclass
class FakeLaporGateway:
    """In memory: ``inbox`` is what LAPOR! would hand out (``files`` its attachments by
    reference), ``pushed`` what we reported back."""

    inbox: list[LaporComplaint] = field(default_factory=list)
    pushed: list[dict[str, Any]] = field(default_factory=list)
    fail_pushes: int = 0  # fail this many pushes first (to test retries)
    files: dict[str, bytes] = field(default_factory=dict)

    async def fetch_attachment(self, reference: str, max_bytes: int) -> BinaryIO:
        if reference not in self.files:
            raise LaporError(f"no attachment {reference} (fake)")
        return io.BytesIO(self.files[reference][: max_bytes + 1])

    async def fetch_new(self, since: datetime | None) -> Sequence[LaporComplaint]:
        return [c for c in self.inbox if since is None or c.received_at >= since]

    async def push_status(self, lapor_id: str, status: str, message: str | None, at: datetime) -> None:
        if self.fail_pushes > 0:
            self.fail_pushes -= 1
            raise LaporError("LAPOR! is unavailable (fake)")
        self.pushed.append({"lapor_id": lapor_id, "status": status, "message": message, "at": at})
