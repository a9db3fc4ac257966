"""A complaint's attachments in the console: chosen on *Catat pengaduan*, listed on the case page.

- **Up:** the files chosen on the form go on to the complaints officer API as the desk's scans go
  to intake (``api/relay.py``: an upload slot held, streamed from the parser's spool); more than
  ``SERAMBI_MAX_ATTACHMENTS`` or one above ``SERAMBI_MAX_ATTACHMENT_BYTES`` is refused here before
  anything is sent, and the service judges each file's type by its content. Its refusals
  (``attachments.<n>``: 413, 415, 422) are worded per file, by position and name.
- **Down:** a download is the service's answer passed on as it arrives, with the officer's own
  token (the service records who downloaded what), under ``serambi_kit.downloads``' headers.
"""

from __future__ import annotations

import re

from serambi_kit.documents import EXTENSIONS
from serambi_kit.downloads import download_headers
from starlette.datastructures import FormData
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from ...adapters.backend import ApiError, Download, Files
from ...domain.pengaduan import MEDIA
from ..deps import uploads

FIELD = "attachments"
#: the file input's ``accept``: the officer API's types (an audio note is OGG, also named .oga or
#: .opus, or M4A); a hint for the file chooser only, the service checks every file's content
ACCEPT = (
    ".pdf,.png,.jpg,.jpeg,.m4a,.ogg,.oga,.opus,application/pdf,image/png,image/jpeg,"
    "audio/mp4,audio/x-m4a,audio/ogg"
)
KINDS = "PDF, PNG, JPEG, atau rekaman suara M4A atau OGG"
_FILENAME = re.compile(r'filename="([^"]{1,200})"')


def _named(position: int, name: str) -> str:
    return f"Lampiran ke-{position} ({name[:80]})" if name else f"Lampiran ke-{position}"


def chosen(posted: FormData, max_files: int, max_bytes: int) -> tuple[Files, list[str], dict[str, str]]:
    """The chosen files as parts to stream on, their names, and the error of a choice refused
    here (too many, or one too large: nothing is sent then)."""
    items = uploads(posted, FIELD)
    names = [item.filename or "" for item in items]
    if len(items) > max_files:
        return [], names, {FIELD: f"Paling banyak {max_files} lampiran; Anda memilih {len(items)}."}
    for position, item in enumerate(items, start=1):
        if (item.size or 0) > max_bytes:
            limit = f"{max_bytes // 1_000_000} MB"
            return (
                [],
                names,
                {
                    FIELD: f"{_named(position, names[position - 1])} terlalu besar. "
                    f"Ukuran paling besar {limit}."
                },
            )
    files: Files = [
        (
            FIELD,
            (item.filename or f"lampiran-{n}", item.file, item.content_type or "application/octet-stream"),
        )
        for n, item in enumerate(items, start=1)
    ]
    return files, names, {}


def refused(
    error: ApiError, names: list[str], max_files: int, max_bytes: int
) -> tuple[ApiError, dict[str, str]]:
    """The service's refusal split: what it says of the attachments, in words beside the file
    input, and the rest (the other fields') to word as the other steps' refusals are."""
    mine = [item for item in error.errors if str(item.get("field", "")).split(".")[0] == FIELD]
    rest = ApiError(error.status, [item for item in error.errors if item not in mine], error.detail)
    if not mine and error.status == 413 and not error.errors:  # the whole body, above the service's limit
        mine = [{"field": FIELD, "rule": "too_large"}]
    words: dict[str, str] = {}
    for item in mine:
        _, _, index = str(item.get("field", "")).partition(".")
        position = int(index) + 1 if index.isdigit() else 0
        name = names[position - 1] if 0 < position <= len(names) else ""
        which = _named(position, name) if position else "Lampiran"
        words.setdefault(FIELD, _message(which, str(item.get("rule", "")), max_files, max_bytes))
    return rest, words


def _message(which: str, rule: str, max_files: int, max_bytes: int) -> str:
    if rule == "unsupported_type":
        return f"{which} bukan berkas yang diterima. Pilih berkas {KINDS}."
    if rule == "too_large":
        return f"{which} terlalu besar. Ukuran paling besar {max_bytes // 1_000_000} MB per berkas."
    if rule == "too_many":
        return f"Lampiran terlalu banyak: paling banyak {max_files} berkas."
    if rule == "missing":
        return f"{which} kosong. Pilih berkas yang berisi."
    return f"{which} tidak dapat diterima. Periksa kembali berkasnya."


def filename(download: Download, code: str) -> str:
    """The service's name for the file (``<code>-lampiran-<n>.<ext>``), else one made here."""
    if found := _FILENAME.search(download.headers.get("content-disposition", "")):
        return found.group(1)
    return f"{code}-lampiran.{EXTENSIONS.get(media_of(download), 'bin')}"


def media_of(download: Download) -> str:
    """The service's media type if it is one an attachment can have, else a plain download."""
    media = download.headers.get("content-type", "").partition(";")[0].strip().lower()
    return media if media in MEDIA else "application/octet-stream"


class Relayed(StreamingResponse):
    """The service's file passed on as it arrives, as a sandboxed download; the service's
    connection is given back however the browser's download ends (finished or abandoned)."""

    def __init__(self, download: Download, code: str) -> None:
        headers = download_headers(filename(download, code))
        if (length := download.headers.get("content-length", "")).isdigit():
            headers["Content-Length"] = length
        super().__init__(download.chunks(), media_type=media_of(download), headers=headers)
        self.download = download

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.download.close()
