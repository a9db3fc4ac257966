"""The console's case page shows a follow-up note (an e-mail reply in the thread, a later
WhatsApp message) with its channel and text, and says so when the text went with an erasure."""

from __future__ import annotations

from aiohttp import web
from console_stand_in import officer, service_stand_in, signed_in

CODE = "ADU-2026-000042"
CASE = {
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
    "complainant": {
        "anonymous": False,
        "masked": True,
        "name": "S*** R***",
        "email": "s***@example.id",
        "phone": None,
    },
    "description": "Izin usaha belum terbit.",
    "answer": None,
    "answered_at": None,
    "answered_on_time": None,
    "closed_at": None,
    "recorded_by": "imap",
    "recorded_at": None,
    "external_ref": None,
    "pause_reason": None,
    "attachments": [],
    "warnings": [],
    "breaches": [],
    "timeline": [
        {"step": "received", "at": "2026-12-01T02:00:00Z"},
        {
            "step": "note",
            "at": "2026-12-02T03:00:00Z",
            "source": "complainant",
            "channel": "email",
            "by": None,
            "text": "Saya lampirkan surat pengantar.",
            "attachments": ["d1"],
        },
        {
            "step": "note",
            "at": "2026-12-03T03:00:00Z",
            "source": "complainant",
            "channel": "whatsapp",
            "by": None,
            "text": None,
            "attachments": [],
        },
    ],
}


async def test_the_case_page_shows_each_note_with_its_channel_and_text():
    async def case(request: web.Request) -> web.Response:
        return web.json_response(CASE)

    routes = {f"/api/v1/officer/complaints/{CODE}": case}
    async with (
        service_stand_in(routes) as url,
        signed_in(url, officer("aduan", ["complaint_officer"])) as client,
    ):
        page = await client.get(f"/petugas/pengaduan/{CODE}")
    assert page.status_code == 200, page.text[:800]
    assert page.text.count("Catatan tambahan") == 2
    assert "Saya lampirkan surat pengantar." in page.text and "(1 lampiran)" in page.text
    assert "teks dihapus bersama data pribadi pelapor" in page.text
