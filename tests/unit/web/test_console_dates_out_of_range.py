"""A date in a console list's address that no day can be counted from is a 400 page naming the
field, not a 500 (finding 7)."""

from __future__ import annotations

import pytest
from aiohttp import web
from console_stand_in import officer, service_stand_in, signed_in


async def empty(_: web.Request) -> web.Response:
    return web.json_response({"items": [], "total": 0, "rooms": [], "hosts": [], "bookings": []})


@pytest.mark.parametrize(
    ("address", "roles", "label"),
    [
        ("/petugas/pengaduan/?tenggat=9999-12-31", ["complaint_officer"], "Tenggat paling lambat"),
        ("/petugas/meja/permohonan?sampai=9999-12-31", ["desk"], "Diajukan sampai"),
        ("/petugas/penjadwalan/?minggu=9999-12-31", ["scheduler"], "Minggu yang memuat tanggal"),
        ("/petugas/penjadwalan/?minggu=0001-01-03", ["scheduler"], "Minggu yang memuat tanggal"),
    ],
)
async def test_a_date_at_the_end_of_the_calendar_is_a_400_page_naming_the_field(address, roles, label):
    routes = {"/{tail:.*}": empty}
    async with service_stand_in(routes) as url, signed_in(url, officer("petugas", roles)) as client:
        answer = await client.get(address)
    assert answer.status_code == 400, answer.text[:300]
    assert f"\u201c{label}\u201d" in answer.text and "di luar rentang" in answer.text
    assert answer.headers["cache-control"] == "no-store"
