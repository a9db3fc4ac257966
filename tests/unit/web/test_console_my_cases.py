""" "Kasus saya" asks the complaints API for the officer's account name, the value *Tugaskan*
asks for, not the provider's ``sub`` (a UUID on Keycloak that nobody types when assigning)."""

from __future__ import annotations

from aiohttp import web
from console_stand_in import officer, service_stand_in, signed_in


async def test_my_cases_are_looked_up_by_the_account_name_assignments_are_made_with():
    asked: list[dict[str, str]] = []

    async def queue(request: web.Request) -> web.Response:
        asked.append(dict(request.query))
        return web.json_response({"items": [], "page": 1, "size": 25, "total": 0})

    member = officer("tim", ["complaint_team"], subject="5c2e7d1a-9f0b-4c8e-b1d2-3a4f5e6d7c8b")
    async with (
        service_stand_in({"/api/v1/officer/complaints": queue}) as url,
        signed_in(url, member) as client,
    ):
        page = await client.get("/petugas/pengaduan/saya")
    assert page.status_code == 200, page.text[:500]
    assert [query.get("assignee") for query in asked] == ["tim"]
    assert asked[0]["open"] == "true"
