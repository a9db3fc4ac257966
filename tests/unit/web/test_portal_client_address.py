"""The portal takes the citizen's address as the services do (issue 19 review, item 4): behind
``SERAMBI_TRUSTED_PROXY_HOPS`` trusted proxies, the ``X-Forwarded-For`` hop that many places from
the right — the one the outermost trusted proxy added — is the address its rate limits count and
its calls to the services pass on; the hops to its left are the client's own."""

from __future__ import annotations

import httpx
import pytest
from serambi_web.adapters.backend import client_address
from serambi_web.api.guard import Guard
from serambi_web.settings import WebSettings
from starlette.responses import PlainTextResponse


async def seen(scope, receive, send) -> None:
    await PlainTextResponse(str(client_address.get()))(scope, receive, send)


async def address(settings: WebSettings, forwarded_for: str | None) -> str:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    transport = httpx.ASGITransport(app=Guard(seen, settings), client=("10.0.0.9", 4711))
    async with httpx.AsyncClient(transport=transport, base_url="http://portal") as client:
        return (await client.get("/", headers=headers)).text


@pytest.mark.parametrize(("hops", "expected"), [(1, "10.0.0.2"), (2, "198.51.100.7"), (3, "6.6.6.6")])
async def test_the_client_is_the_hop_the_outermost_trusted_proxy_added(hops, expected):
    settings = WebSettings(environment="test", trust_forwarded_for=True, trusted_proxy_hops=hops)
    # each trusted proxy appends the address it was reached from: with two (the edge and the
    # ingress), the edge added 198.51.100.7 and the client wrote 6.6.6.6 itself
    assert await address(settings, "6.6.6.6, 198.51.100.7, 10.0.0.2") == expected


async def test_a_client_writing_more_hops_still_gets_the_address_the_edge_saw():
    settings = WebSettings(environment="test", trust_forwarded_for=True, trusted_proxy_hops=2)
    for forged in ("1.1.1.1", "1.1.1.1, 2.2.2.2", "1.1.1.1, 2.2.2.2, 3.3.3.3"):
        assert await address(settings, f"{forged}, 198.51.100.7, 10.0.0.2") == "198.51.100.7"


async def test_without_trusted_proxies_the_connection_is_the_client():
    assert await address(WebSettings(environment="test"), "6.6.6.6, 198.51.100.7") == "10.0.0.9"
