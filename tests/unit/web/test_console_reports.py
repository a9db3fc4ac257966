"""The supervisor's reports page (Laporan): audiences, complaints and the guest book of a month
from the services (the officer's token relayed), with SVG charts, the late and reopened lists,
and CSV/XLSX downloads relayed as files; a section whose service fails says so alone."""

from __future__ import annotations

from aiohttp import web
from console_stand_in import officer, service_stand_in, signed_in
from serambi_complaints.adapters import reports as complaint_reports
from serambi_scheduling.adapters import reports as audience_reports
from serambi_web.api.petugas import meja
from serambi_web.domain import pengaduan as complaint_views

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FIGURES = {
    "received": 3,
    "answered": 2,
    "due": 2,
    "triage_due": 2,
    "on_time": 1,
    "on_time_rate": 0.5,
    "breached": 1,
    "breaches": 1,
    "triage_breached": 0,
    "triage_breaches": 0,
    "classified": 3,
    "triage_on_time": 3,
    "triage_on_time_rate": 1.0,
    "reopened": 1,
}
NONE = {
    **FIGURES,
    "received": 0,
    "answered": 0,
    "on_time": 0,
    "on_time_rate": None,
    "classified": 0,
    "triage_on_time": 0,
    "triage_on_time_rate": None,
    "reopened": 0,
}
AUDIENCES = {
    "month": "2026-11",
    "submitted": 4,
    "answered": 3,
    "due": 3,
    "on_time": 2,
    "on_time_rate": 0.6667,
    "breached": 1,
    "open_past_due": 1,
    "channels": {"online": 2, "desk": 1, "letter": 1, "unknown": 0},
    "outcomes": {
        "pending": 1,
        "scheduled": 1,
        "declined": 1,
        "held": 1,
        "no_show": 0,
        "withdrawn": 0,
        "cancelled": 0,
    },
    "late": [
        {
            "code": "AUD-2026-000007",
            "channel": "online",
            "submitted_at": "2026-11-02T01:00:00Z",
            "answer_due_at": "2026-11-05T09:00:00Z",
            "answered_at": None,
        }
    ],
    "median_answer_working_hours": 9.25,
    "median_answer_working_days": 1.23,
    "labels": {"channels": audience_reports.CHANNELS, "outcomes": audience_reports.OUTCOMES},
}
COMPLAINTS = {
    "month": "2026-11",
    "total": FIGURES,
    "channel": {"whatsapp": FIGURES, "fax": NONE},
    "tier": {"ringan": FIGURES},
    "status": {"answered": FIGURES},
    "team": {"Tim Pengaduan A": FIGURES},
    "reopened": [
        {
            "tracking_code": "ADU-2026-000012",
            "channel": "whatsapp",
            "team": "Tim Pengaduan A",
            "tier": "ringan",
            "received_at": "2026-11-03T02:00:00Z",
            "reopen_count": 2,
            "status": "reopened",
        }
    ],
    "labels": complaint_reports.recap("2026-11", [])["labels"],
}


def test_the_reports_name_channels_and_outcomes_as_the_console_does():
    for key, name in meja.CHANNELS.items():
        assert audience_reports.CHANNELS[key] == name
    for key, name in meja.STATUSES.items():
        assert audience_reports.OUTCOMES.get(key, name) == name or key == "cancelled"  # the bureau's, apart
    assert complaint_reports.NAMES["channel"] == complaint_views.CHANNELS


BOOK = {
    "period": "2026-11",
    "names": "masked",
    "columns": [],
    "rows": [
        {"day": "2026-11-02", "name": "M*** W***"},
        {"day": "2026-11-02", "name": "S*** A***"},
        {"day": "2026-11-04", "name": "B*** K***"},
    ],
}
COUNTS = {
    "month": "2026-11",
    "total": 3,
    "days": [{"day": "2026-11-02", "count": 2}, {"day": "2026-11-04", "count": 1}],
}


def stand_in(seen: list, *, scheduling_fails: bool = False) -> dict:
    def answer(body: dict, failing: bool = False):
        async def handler(request: web.Request) -> web.StreamResponse:
            seen.append((request.path, dict(request.query), request.headers.get("Authorization")))
            if failing:
                return web.json_response({"detail": "down"}, status=503)
            if request.query.get("format") == "xlsx":
                return web.Response(body=b"PK\x03\x04xlsx", content_type=XLSX)
            if request.query.get("format") == "csv":
                return web.Response(
                    body="\ufeffBulan\r\n2026-11\r\n".encode(), content_type="text/csv", charset="utf-8"
                )
            return web.json_response(body)

        return handler

    return {
        "/api/v1/reports/audiences": answer(AUDIENCES, scheduling_fails),
        "/api/v1/officer/reports/monthly": answer(COMPLAINTS),
        "/api/v1/officer/guestbook/export": answer(BOOK),
        "/api/v1/officer/guestbook/counts": answer(COUNTS),
    }


async def test_the_reports_page_shows_each_section_with_charts_and_download_links():
    seen: list = []
    async with (
        service_stand_in(stand_in(seen)) as url,
        signed_in(url, officer("pimpinan", ["supervisor"])) as client,
    ):
        page = await client.get("/petugas/pimpinan/laporan", params={"bulan": "2026-11"})
    assert page.status_code == 200, page.text[:800]
    text = page.text
    assert 'aria-current="page">Laporan</a>' in text
    assert "dijawab dalam 3 hari kerja: <strong>2</strong> (<strong>66,7%</strong>" in text
    assert "<strong>9,2</strong> jam kerja" in text and "<strong>1,2</strong> hari kerja" in text
    assert "AUD-2026-000007" in text and "2 Nov 2026 08.00 WIB" in text and "Belum dijawab" in text
    assert text.count('role="img"') == 5 and '<title id="laporan-audiensi-kanal-judul">' in text
    assert "Kanal: Meja informasi" in text and "Hasil: Ditarik pemohon" in text
    assert "<figcaption>Tingkat tepat waktu per tim</figcaption>" in text
    assert "Tim Pengaduan A" in text and "ADU-2026-000012" in text and "3 Nov 2026 09.00 WIB" in text
    assert "Faksimile" not in text.split("pengaduan-channel")[1].split("</table>")[0]  # nothing received
    assert "Jumlah tamu bulan ini: <strong>3</strong>" in text and "M*** W***" not in text
    for name in ("audiensi", "pengaduan", "buku-tamu"):
        for ext in ("csv", "xlsx"):
            assert f'href="/petugas/pimpinan/laporan/{name}.{ext}?bulan=2026-11" download' in text
    assert {path for path, _, _ in seen} == set(stand_in([])) - {"/api/v1/officer/guestbook/export"}  # counts
    assert all(query == {"month": "2026-11"} and token == "Bearer at" for _, query, token in seen)


async def test_a_download_is_relayed_from_the_service_as_an_attachment():
    seen: list = []
    async with (
        service_stand_in(stand_in(seen)) as url,
        signed_in(url, officer("pimpinan", ["supervisor"])) as client,
    ):
        xlsx = await client.get("/petugas/pimpinan/laporan/audiensi.xlsx", params={"bulan": "2026-11"})
        csv = await client.get("/petugas/pimpinan/laporan/buku-tamu.csv", params={"bulan": "2026-11"})
        unknown = await client.get("/petugas/pimpinan/laporan/rahasia.xlsx", params={"bulan": "2026-11"})
    assert (
        xlsx.status_code == 200 and xlsx.content == b"PK\x03\x04xlsx" and xlsx.headers["content-type"] == XLSX
    )
    assert 'filename="audiensi-2026-11.xlsx"' in xlsx.headers["content-disposition"]
    assert csv.content.startswith(b"\xef\xbb\xbfBulan") and "attachment" in csv.headers["content-disposition"]
    assert ("/api/v1/reports/audiences", {"month": "2026-11", "format": "xlsx"}, "Bearer at") in seen
    assert ("/api/v1/officer/guestbook/export", {"month": "2026-11", "format": "csv"}, "Bearer at") in seen
    assert unknown.status_code in (404, 422)


async def test_a_section_whose_service_fails_says_so_and_the_others_stand():
    seen: list = []
    async with (
        service_stand_in(stand_in(seen, scheduling_fails=True)) as url,
        signed_in(url, officer("pimpinan", ["supervisor"])) as client,
    ):
        page = await client.get("/petugas/pimpinan/laporan", params={"bulan": "2026-11"})
    assert page.status_code == 200
    assert "Angka audiensi tidak tersedia saat ini" in page.text and "ADU-2026-000012" in page.text


async def test_the_reports_are_for_supervisors_only():
    async with service_stand_in(stand_in([])) as url, signed_in(url, officer("meja", ["desk"])) as client:
        page = await client.get("/petugas/pimpinan/laporan")
        download = await client.get("/petugas/pimpinan/laporan/buku-tamu.xlsx")
    assert page.status_code == 403 and download.status_code == 403
