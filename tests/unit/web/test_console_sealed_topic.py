"""The scheduler's screens after a requester's erasure: the topic (sealed under their key since
RequestSubmitted version 2) comes back as null and is shown as erased, not as 'None' or an error;
a decline reason with a contact in it is refused in words (it is printed in clear in the letter)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from console_stand_in import officer, service_stand_in, signed_in
from serambi_web.adapters.backend import ApiError
from serambi_web.domain.penjadwalan import refusal

CODE = "AUD-2026-000042"
AUDIENCE = {
    "audience_id": CODE,
    "request_tracking_code": CODE,
    "status": "referred",
    "topic": None,
    "institution": "Kadin Kota Pontianak",
    "institution_type": "other_institution",
    "requester_position": "Ketua",
    "participants": 3,
    "proposed_dates": [],
    "submitted_at": "2026-03-02T09:00:00+07:00",
    "answer_due_at": "2026-03-05T09:00:00+07:00",
    "answered": False,
    "schedule": None,
    "referral_reason": "no slot fits",
    "timeline": [{"step": "requested", "at": "2026-03-02T09:00:00+07:00"}],
}
ERASED = "Telah dihapus bersama data pribadi pemohon"


@pytest.fixture
async def scheduling() -> AsyncIterator[str]:
    async def audience(request: web.Request) -> web.Response:
        return web.json_response(AUDIENCE)

    async def queue(request: web.Request) -> web.Response:
        return web.json_response({"view": "pending", "count": 1, "items": [{**AUDIENCE, "queue": "pending"}]})

    async def empty(request: web.Request) -> web.Response:
        return web.json_response([])

    routes = {
        f"/api/v1/audiences/{CODE}": audience,
        "/api/v1/queue": queue,
        "/api/v1/rooms": empty,
        "/api/v1/hosts": empty,
    }
    async with service_stand_in(routes) as url:
        yield url


async def test_an_erased_requesters_topic_is_shown_as_erased_on_the_audience_page_and_in_the_queue(
    scheduling,
):
    async with signed_in(scheduling, officer("jadwal", ["scheduler"])) as client:
        page = await client.get(f"/petugas/penjadwalan/audiensi/{CODE}")
        queue = await client.get("/petugas/penjadwalan/antrean")
    for answer in (page, queue):
        assert answer.status_code == 200, answer.text[:800]
        assert ERASED in answer.text and ">None<" not in answer.text


def test_a_reason_holding_a_contact_is_refused_in_words_on_its_field():
    error = ApiError(
        422,
        [
            {
                "field": "reason",
                "message": "Value error, must not hold an e-mail address, "
                "a phone number or a NIK: this reason is printed in the answer letter",
            }
        ],
        "invalid",
    )
    _, fields = refusal(error)
    assert fields["reason"].startswith("Alasan: jangan menuliskan alamat email, nomor HP, atau NIK")
