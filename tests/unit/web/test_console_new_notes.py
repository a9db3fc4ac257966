"""Follow-up notes are not silent in the console: queue and "Kasus saya" rows carry a *catatan
baru* marker with the API's ``new_notes``, the queue filters on it, and the case page says how
many are new, marks them, names a third party's note and one that came after the closing, and
says when the complainant's note resumed the clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web
from console_stand_in import officer, service_stand_in, signed_in

CODE = "ADU-2026-000077"
ROW = {
    "tracking_code": CODE,
    "status": "assigned",
    "channel": "email",
    "disclosure": "named",
    "tier": "normatif",
    "received_at": "2026-12-01T02:00:00Z",
    "clock": "normatif",
    "due_at": "2026-12-08T09:00:00Z",
    "working_time_remaining": "PT20H",
    "working_seconds_remaining": 72000,
    "paused": False,
    "overdue": False,
    "team": "Tim Pengelola Pengaduan",
    "assignee": "tim",
    "round": 1,
    "breached": False,
    "summary": "Izin usaha",
    "note_count": 3,
    "new_notes": 2,
    "last_note_at": "2026-12-03T03:00:00Z",
}
QUIET = {**ROW, "tracking_code": "ADU-2026-000078", "new_notes": 0, "note_count": 1}
CASE = {
    **ROW,
    "status": "closed",
    "complainant": {
        "anonymous": False,
        "masked": True,
        "name": "S*** R***",
        "email": "s***@example.id",
        "phone": None,
    },
    "description": "Izin usaha belum terbit.",
    "answer": "Sudah terbit.",
    "answered_at": "2026-12-02T02:00:00Z",
    "answered_on_time": True,
    "closed_at": "2026-12-02T03:00:00Z",
    "recorded_by": "email",
    "recorded_at": None,
    "external_ref": None,
    "pause_reason": None,
    "attachments": [],
    "warnings": [],
    "breaches": [],
    "timeline": [
        {"step": "received", "at": "2026-12-01T02:00:00Z"},
        {"step": "paused", "at": "2026-12-01T03:00:00Z", "reason": "Menunggu salinan KTP", "by": "aduan"},
        {
            "step": "note",
            "at": "2026-12-01T04:00:00Z",
            "source": "complainant",
            "channel": "email",
            "by": "email",
            "text": "Ini salinan KTP saya.",
            "attachments": [],
            "new": False,
        },
        {"step": "resumed", "at": "2026-12-01T04:00:00Z", "by": "email", "cause": "complainant_note"},
        {"step": "closed", "at": "2026-12-02T03:00:00Z", "by": "tim"},
        {
            "step": "note",
            "at": "2026-12-03T02:00:00Z",
            "source": "third_party",
            "channel": "email",
            "by": "email",
            "text": "Saya tetangganya.",
            "attachments": [],
            "new": True,
            "after_close": True,
        },
        {
            "step": "note",
            "at": "2026-12-03T03:00:00Z",
            "source": "complainant",
            "channel": "email",
            "by": "email",
            "text": "Belum beres!",
            "attachments": [],
            "new": True,
            "after_close": True,
        },
    ],
}


@pytest.fixture
async def complaints() -> AsyncIterator[tuple[list[dict[str, str]], str]]:
    asked: list[dict[str, str]] = []

    async def queue(request: web.Request) -> web.Response:
        asked.append(dict(request.query))
        return web.json_response({"items": [ROW, QUIET], "page": 1, "size": 25, "total": 2})

    async def case(request: web.Request) -> web.Response:
        return web.json_response(CASE)

    routes = {"/api/v1/officer/complaints": queue, f"/api/v1/officer/complaints/{CODE}": case}
    async with service_stand_in(routes) as url:
        yield asked, url


async def get(url: str, path: str) -> httpx.Response:
    async with signed_in(url, officer("tim", ["complaint_officer", "complaint_team"])) as client:
        return await client.get(path)


@pytest.mark.parametrize("path", ["/petugas/pengaduan/", "/petugas/pengaduan/saya"])
async def test_queue_and_my_cases_rows_carry_the_new_notes_marker(complaints, path):
    _, url = complaints
    page = await get(url, path)
    assert page.status_code == 200, page.text[:500]
    assert (
        page.text.count('class="catatan-baru"') == 1 and "2 catatan baru" in page.text
    )  # the quiet row: none


async def test_the_queue_filters_complaints_with_new_notes(complaints):
    asked, url = complaints
    page = await get(url, "/petugas/pengaduan/?catatan=baru&status=semua")
    assert page.status_code == 200
    assert asked[-1].get("new_notes") == "true" and "open" not in asked[-1]
    assert (await get(url, "/petugas/pengaduan/?catatan=apa")).status_code == 200
    assert "new_notes" not in asked[-1]


async def test_the_case_page_says_which_notes_are_new_whose_they_are_and_what_resumed_the_clock(complaints):
    _, url = complaints
    page = await get(url, f"/petugas/pengaduan/{CODE}")
    assert page.status_code == 200, page.text[:500]
    text = page.text
    assert 'id="catatan-baru"' in text and "2 catatan baru setelah ditutup" in text
    assert "halaman lacak pengaduan" in text  # a dispute goes through the tracking page
    assert text.count('class="langkah-baru"') == 2
    assert "Catatan tambahan dari pihak lain (bukan alamat pelapor)" in text
    assert text.count("Catatan tambahan dari pelapor") == 2
    assert "Waktu dilanjutkan: otomatis, pelapor mengirim catatan" in text
    assert text.count("Masuk setelah pengaduan ditutup") == 2
