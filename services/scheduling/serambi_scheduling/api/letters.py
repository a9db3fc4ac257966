"""The public letter link: ``GET /api/v1/letters/{document_id}``.

The document id is the capability (192 bits derived with the letter secret; see letters.py), so
no login is asked: intake's tracking view links it for the requester. Unknown and malformed ids
get the same 404. A letter is sent as a download in a sandbox (``serambi_kit.downloads``: not
cached, no referrer onwards, nothing in it may run). A letter is stored sealed under the
requester's data key: once the requester is erased it answers **410 Gone**
(``personal_data_erased``), here and on the officers' route.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import Response
from serambi_kit.downloads import download_headers
from serambi_kit.http import runtime_of
from serambi_kit.problems import problem

from ..adapters.letters import LETTERS, MEDIA_TYPE, LetterErased, read_letter

__all__ = ["LETTERS", "ERASED", "letter_response", "router"]

router = APIRouter(prefix="/api/v1", tags=["letters"])
_ID = re.compile(r"^L[A-Za-z0-9_-]{32}$")
ERASED = "the answer letter was erased with the requester's personal data"
LETTER = {
    200: {"description": "the answer letter, as a download", "content": {MEDIA_TYPE: {}}},
    410: {"description": "the requester's personal data was erased, and the letter with it"},
}


async def letter_response(request: Request, document_id: str) -> Response:
    runtime = runtime_of(request)
    letter = None
    try:
        if _ID.match(document_id):
            letter = await read_letter(runtime.db, runtime.vault, document_id)
    except LetterErased:
        return problem(
            status.HTTP_410_GONE,
            "personal_data_erased",
            ERASED,
            document_id=document_id,
            headers={"Cache-Control": "no-store"},
        )
    if letter is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such letter")
    return Response(
        letter.content,
        media_type=letter.media_type,
        headers={
            **download_headers(f"surat-jawaban-{letter.audience_id}.pdf"),
            "X-Robots-Tag": "noindex",
            "ETag": f'"{letter.sha256}"',
        },
    )


@router.get("/letters/{document_id}", response_class=Response, responses=LETTER)
async def public_letter(document_id: str, request: Request) -> Response:
    """An answer letter (PDF), for whoever holds its link; 410 once the requester was erased."""
    return await letter_response(request, document_id)
