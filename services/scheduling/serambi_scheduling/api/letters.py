"""The public letter link: ``GET /api/v1/letters/{document_id}``.

The document id is the capability (192 bits derived with the letter secret; see letters.py), so
no login is asked: intake's tracking view links it for the requester. Unknown and malformed ids
get the same 404. A letter is sent as a download in a sandbox (``serambi_kit.downloads``: not
cached, no referrer onwards, nothing in it may run).
"""

from __future__ import annotations

import re

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import Response
from serambi_kit.downloads import download_headers

from ..letters import LETTERS

router = APIRouter(prefix="/api/v1", tags=["letters"])
_ID = re.compile(r"^L[A-Za-z0-9_-]{32}$")


async def letter_response(request: Request, document_id: str) -> Response:
    document = None
    if _ID.match(document_id):
        document = await request.app.state.runtime.db[LETTERS].find_one({"_id": document_id})
    if document is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such letter")
    return Response(
        bytes(document["content"]), media_type=document["media_type"],
        headers={
            **download_headers(f"surat-jawaban-{document['audience_id']}.pdf"),
            "X-Robots-Tag": "noindex",
            "ETag": f'"{document["sha256"]}"',
        },
    )


@router.get("/letters/{document_id}", response_class=Response)
async def public_letter(document_id: str, request: Request) -> Response:
    """An answer letter (PDF), for whoever holds its link."""
    return await letter_response(request, document_id)
