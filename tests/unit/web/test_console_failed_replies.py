"""The console's case page says when the complainant's WhatsApp receipt or answer was not
delivered (the officer API's ``failed_replies``), and that it went by SMS instead."""

from __future__ import annotations

from aiohttp import web
from console_stand_in import officer, service_stand_in, signed_in

CODE = "ADU-2026-000043"
CASE = {
    "tracking_code": CODE,
    "status": "answered",
    "channel": "whatsapp",
    "disclosure": "named",
    "tier": "ringan",
    "received_at": "2026-12-01T09:00:00+07:00",
    "clock": "ringan",
    "due_at": None,
    "working_time_remaining": None,
    "working_seconds_remaining": None,
    "paused": False,
    "overdue": False,
    "team": "Tim Pengelola Pengaduan",
    "assignee": None,
    "round": 1,
    "breached": False,
    "summary": "Lampu jalan mati",
    "complainant": {
        "anonymous": False,
        "masked": True,
        "name": "B*** S***",
        "email": None,
        "phone": "+6281******142",
    },
    "description": "Lampu jalan mati.",
    "answer": "Lampu sudah diganti.",
    "answered_at": "2026-12-03T10:00:00+07:00",
    "answered_on_time": True,
    "closed_at": None,
    "recorded_by": "whatsapp",
    "recorded_at": None,
    "external_ref": None,
    "pause_reason": None,
    "attachments": [],
    "warnings": [],
    "breaches": [],
    "timeline": [{"step": "received", "at": "2026-12-01T09:00:00+07:00"}],
}


async def page_of(case: dict) -> str:
    async def details(request: web.Request) -> web.Response:
        return web.json_response(case)

    routes = {f"/api/v1/officer/complaints/{CODE}": details}
    async with (
        service_stand_in(routes) as url,
        signed_in(url, officer("aduan", ["complaint_officer"])) as client,
    ):
        page = await client.get(f"/petugas/pengaduan/{CODE}")
    assert page.status_code == 200, page.text[:800]
    return page.text


async def test_a_failed_whatsapp_reply_is_shown_on_the_case():
    failed = [
        {
            "reply": "receipt",
            "channel": "whatsapp",
            "at": "2026-12-01T09:05:00+07:00",
            "reason": "refused",
            "attempts": 1,
            "error_code": 131026,
        },
        {
            "reply": "answer",
            "channel": "whatsapp",
            "at": "2026-12-03T10:00:00+07:00",
            "reason": "unavailable",
            "attempts": 8,
            "error_code": 190,
        },
    ]
    text = await page_of({**CASE, "failed_replies": failed})
    assert "Balasan WhatsApp gagal" in text
    assert (
        "Tanda terima tidak terkirim (ditolak WhatsApp, 1 Des 2026 09.05 WIB); diteruskan untuk dikirim "
        "lewat SMS, status SMS tidak tercatat di sini"
    ) in text
    assert "dialihkan ke SMS" not in text
    assert "Jawaban tidak terkirim (WhatsApp tidak dapat dihubungi, 3 Des 2026 10.00 WIB)" in text


async def test_nothing_is_said_when_every_reply_went_through():
    assert "Balasan WhatsApp gagal" not in await page_of({**CASE, "failed_replies": []})
    assert "Balasan WhatsApp gagal" not in await page_of(CASE)  # an older service without the field
