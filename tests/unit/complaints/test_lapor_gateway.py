"""The SP4N-LAPOR! port: the HTTP adapter's requests and parsing, the fake, the settings."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import ValidationError
from serambi_complaints.adapters.lapor import HttpLaporGateway
from serambi_complaints.application.ports import LaporError
from serambi_complaints.settings import ComplaintsSettings
from serambi_contracts.complaints import Disclosure

SINCE = datetime(2026, 3, 1, tzinfo=UTC)
ITEMS = [
    {
        "tracking_id": 4417001,
        "created_at": "2026-03-02T08:15:00+07:00",
        "title": "Izin usaha lambat",
        "content": "Permohonan saya belum diproses.",
        "is_anonymous": False,
        "is_secret": False,
        "reporter": {"name": "Rina", "email": "rina@example.id", "phone": "+6281234567890"},
    },
    {
        "tracking_id": "4417002",
        "created_at": "2026-03-02T09:00:00+07:00",
        "title": "Anonim",
        "content": "Isi",
        "is_anonymous": True,
    },
    {
        "tracking_id": "4417003",
        "created_at": "2026-03-02T10:00:00+07:00",
        "title": "Rahasia",
        "content": "Isi",
        "is_secret": True,
        "is_anonymous": True,
    },
]


def gateway(handler) -> HttpLaporGateway:
    return HttpLaporGateway(
        "https://lapor.example/api/v1", "secret-token", transport=httpx.MockTransport(handler)
    )


async def test_the_http_gateway_lists_complaints_since_the_cursor_with_the_token():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": ITEMS})

    items = await gateway(handler).fetch_new(SINCE)
    assert seen[0].url.path == "/api/v1/complaints"
    assert seen[0].url.params["since"] == "2026-03-01T00:00:00+00:00"
    assert seen[0].headers["authorization"] == "Bearer secret-token"
    assert [i.lapor_id for i in items] == ["4417001", "4417002", "4417003"]
    assert [i.disclosure for i in items] == [Disclosure.NAMED, Disclosure.ANONYMOUS, Disclosure.CONFIDENTIAL]
    assert items[0].email == "rina@example.id" and items[1].name is None
    assert items[0].received_at == datetime(2026, 3, 2, 1, 15, tzinfo=UTC)


async def test_the_http_gateway_posts_a_follow_up_and_reports_refusals():
    bodies = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append((request.url.path, json.loads(request.content)))
        return httpx.Response(201 if "4417001" in request.url.path else 403)

    client = gateway(handler)
    await client.push_status("4417001", "answered", "Sudah diproses.", SINCE)
    assert bodies[0] == (
        "/api/v1/complaints/4417001/followups",
        {"status": "answered", "content": "Sudah diproses.", "created_at": "2026-03-01T00:00:00+00:00"},
    )
    with pytest.raises(LaporError, match="HTTP 403"):
        await client.push_status("4417009", "closed", None, SINCE)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(500),
        httpx.Response(200, json={"items": []}),
        httpx.Response(200, json={"data": {"title": "no list"}}),
        httpx.Response(200, content=b"<html>"),
    ],
)
async def test_an_unreadable_list_is_an_error_not_an_empty_import(response):
    with pytest.raises(LaporError):
        await gateway(lambda _: response).fetch_new(None)


async def test_one_unreadable_item_is_handed_out_as_such_and_the_others_are_read():
    bad = [
        {"title": "no id"},
        {"tracking_id": "4417009", "created_at": "kemarin", "title": "t", "content": "c"},
        {"tracking_id": "4417010", "created_at": "2026-03-02T10:00:00", "title": "t", "content": "c"},
        "not an object",
    ]
    items = await gateway(lambda _: httpx.Response(200, json={"data": [ITEMS[0], *bad, ITEMS[1]]})).fetch_new(
        None
    )
    assert [type(i).__name__ for i in items] == ["LaporComplaint", *["LaporUnreadable"] * 4, "LaporComplaint"]
    no_id, no_date, naive, not_object = items[1:5]
    assert no_id.lapor_id is None and "missing field 'created_at'" in no_id.reason
    assert no_date.lapor_id == "4417009" and "kemarin" in no_date.reason
    assert naive.lapor_id == "4417010" and "no UTC offset" in naive.reason
    assert not_object.lapor_id is None and not_object.reason.startswith("unreadable LAPOR! item")


def test_the_http_mode_needs_a_base_url_and_a_token():
    with pytest.raises(ValidationError, match=r"SERAMBI_LAPOR_MODE=http needs SERAMBI_LAPOR_TOKEN \("):
        ComplaintsSettings(lapor_mode="http", lapor_base_url="https://lapor.example")
    with pytest.raises(ValidationError, match="needs SERAMBI_LAPOR_BASE_URL, SERAMBI_LAPOR_TOKEN"):
        ComplaintsSettings(lapor_mode="http", lapor_base_url=" ", lapor_token="REPLACE_ME")
    assert ComplaintsSettings().lapor_mode == "off"
