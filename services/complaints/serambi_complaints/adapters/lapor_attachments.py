"""LAPOR! attachments: each file of an imported complaint is fetched from LAPOR!, typed by its
magic bytes, and stored sealed with the complainant's key like any other attachment.

A file is fetched into a spooled temporary file (on disk past 1 MB) and cut off one byte past
the limit, never held whole in memory. A file that cannot be fetched, is too large or of a
type we do not accept fails the item, which becomes a dead letter naming the attachment and
the rule (``lapor_letters``); an officer can record that complaint by hand with its files.
"""

from __future__ import annotations

import tempfile
from typing import BinaryIO

import httpx
from serambi_kit.documents import DocumentError, Upload, check

from ..application.commands import MAX_ATTACHMENTS, OFFICER_ACCEPTED
from ..application.ports import LaporComplaint, LaporGateway

SPOOL_BYTES = 1024 * 1024


class AttachmentError(Exception):
    """An attachment of a LAPOR! item that cannot be kept (the reason names it and the rule);
    ``status`` is the HTTP status of a download that was refused."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


async def download(client: httpx.AsyncClient, url: str, max_bytes: int) -> BinaryIO:
    """GET ``url`` into a spooled file, at most ``max_bytes + 1`` bytes of it (``check`` refuses
    more). Also the WhatsApp adapter's media download."""
    spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 — returned open
    try:
        async with client.stream("GET", url) as response:
            if response.status_code != 200:
                raise AttachmentError(f"HTTP {response.status_code}", response.status_code)
            async for block in response.aiter_bytes():
                spooled.write(block[: max_bytes + 1 - spooled.tell()])
                if spooled.tell() > max_bytes:
                    break
    except BaseException:
        spooled.close()
        raise
    return spooled


async def fetch(gateway: LaporGateway, item: LaporComplaint, max_bytes: int) -> list[tuple[Upload, str]]:
    """The item's attachments as checked uploads (upload, media type), in LAPOR!'s order."""
    if len(item.attachments) > MAX_ATTACHMENTS:
        raise AttachmentError(f"attachments: {len(item.attachments)} files, at most {MAX_ATTACHMENTS} kept")
    uploads: list[tuple[Upload, str]] = []
    for position, reference in enumerate(item.attachments):
        field = f"attachments.{position}"
        try:
            file = await gateway.fetch_attachment(reference, max_bytes)
        except Exception as exc:
            raise AttachmentError(f"{field}: could not be fetched ({type(exc).__name__}: {exc})") from exc
        upload = Upload(field, "attachment", file)
        try:
            uploads.append((upload, check(upload, OFFICER_ACCEPTED, max_bytes)))
        except DocumentError as exc:
            raise AttachmentError(f"{exc} ({exc.rule})") from None
    return uploads
