"""Intake's "lost your link?" and the sealed access token, through real processes."""

from __future__ import annotations

import asyncio
import json

import httpx
import nats
from serambi_contracts.intake import RequestLinkRequested
from serambi_kit.eventstore import read_raw, read_stream
from serambi_ops.commands.demo import DEMO_REQUEST, submit_request


async def request_events(stack, code: str) -> list:
    nc = await nats.connect(stack.env["SERAMBI_NATS_URL"])
    try:
        return [r.event async for r in read_stream(nc, "INTAKE", f"intake.request.{code}.*")]
    finally:
        await nc.drain()


async def raw_bodies(stack, code: str) -> list[bytes]:
    nc = await nats.connect(stack.env["SERAMBI_NATS_URL"])
    try:
        return [body async for _, body in read_raw(nc, "INTAKE", f"intake.request.{code}.*")]
    finally:
        await nc.drain()


def resend(stack, code: str) -> httpx.Response:
    return httpx.post(f"{stack.urls['intake']}/api/v1/requests/{code}/resend-link")


def test_the_access_token_travels_sealed_in_the_event_never_in_clear(stack):
    answer = submit_request(stack.urls["intake"], DEMO_REQUEST).json()
    [body] = asyncio.run(raw_bodies(stack, answer["tracking_code"]))
    submitted = json.loads(body)
    assert answer["access_token"] not in body.decode()
    assert set(submitted["access_token"]) == {"key", "nonce", "data"}
    assert submitted["access_token"]["key"] == submitted["requester"]["name"]["key"]  # erased with them


def test_lost_link_answers_the_same_for_a_known_and_an_unknown_code_and_asks_once_per_quarter_hour(stack):
    code = submit_request(stack.urls["intake"], DEMO_REQUEST).json()["tracking_code"]
    known, unknown, again = resend(stack, code), resend(stack, "AUD-1999-999999"), resend(stack, code)
    assert known.status_code == unknown.status_code == again.status_code == 202
    assert known.json() == {"tracking_code": code, "status": "accepted"}
    assert unknown.json() == {"tracking_code": "AUD-1999-999999", "status": "accepted"}
    events = asyncio.run(request_events(stack, code))
    assert len([e for e in events if isinstance(e, RequestLinkRequested)]) == 1
    assert asyncio.run(request_events(stack, "AUD-1999-999999")) == []


def test_a_malformed_code_is_a_422_naming_it(stack):
    response = resend(stack, "A" * 65)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "tracking_code"


def test_lost_link_is_rate_limited_per_client(stack):
    answers = [resend(stack, "AUD-1999-000001") for _ in range(7)]
    limited = [a for a in answers if a.status_code == 429]
    assert limited and int(limited[0].headers["retry-after"]) >= 1
