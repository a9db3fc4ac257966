"""Whose ``X-Forwarded-For`` names the client (issue 19, item 5): uvicorn's proxy-headers
handling with the explicit list ``SERAMBI_FORWARDED_ALLOW_IPS``, run here on a real uvicorn
built by the kit's own ``uvicorn_config``. A connection from a trusted proxy gets the first hop
from the right that is not itself a trusted proxy; any other connection keeps its own address
whatever it sends. The services' rate limits and the portal (its limits, and the address it
passes on to the services) read the address so resolved."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import AsyncIterator
from types import SimpleNamespace

import httpx
import pytest
import uvicorn
from fastapi import Depends, FastAPI, Request
from pydantic import ValidationError
from serambi_kit.internal import uvicorn_config
from serambi_kit.proxies import client_of
from serambi_kit.ratelimit import rate_limited
from serambi_kit.settings import ServiceSettings
from serambi_kit.state import KitState, install
from serambi_testing.localstack import free_port
from serambi_web.adapters.backend import client_address
from serambi_web.api.guard import Guard
from serambi_web.settings import WebSettings
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp

SPOOFED = "6.6.6.6, 203.0.113.7"  # the client wrote 6.6.6.6; the edge proxy appended 203.0.113.7


@contextlib.asynccontextmanager
async def served(app: ASGIApp, forwarded_allow_ips: list[str]) -> AsyncIterator[httpx.AsyncClient]:
    port = free_port()
    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", port, forwarded_allow_ips))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not task.done(), "uvicorn did not start"
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            yield client
    finally:
        server.should_exit = True
        await task


def service_app(per_minute: int = 1000) -> FastAPI:
    app = FastAPI()
    install(app, KitState(SimpleNamespace(rate_limits={"tight": per_minute})))

    @app.get("/whoami", dependencies=[Depends(rate_limited("tight"))])
    async def whoami(request: Request) -> str:
        return client_of(request)

    return app


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [
        (["127.0.0.1", "::1"], "203.0.113.7"),  # one proxy: the hop it added, not the client's own
        (["127.0.0.1", "203.0.113.0/24"], "6.6.6.6"),  # the edge is trusted too: the hop before it
        ([], "127.0.0.1"),  # no proxy trusted: the connection
        (["10.0.0.0/8"], "127.0.0.1"),  # this connection is not from a trusted proxy
    ],
)
async def test_the_client_is_the_first_hop_from_the_right_that_no_trusted_proxy_added(trusted, expected):
    async with served(service_app(), trusted) as client:
        answer = await client.get("/whoami", headers={"X-Forwarded-For": SPOOFED})
    assert answer.json() == expected


async def test_a_client_not_behind_a_trusted_proxy_cannot_buy_a_fresh_bucket_per_request():
    async with served(service_app(per_minute=2), ["10.0.0.0/8"]) as client:
        statuses = [
            (await client.get("/whoami", headers={"X-Forwarded-For": f"6.6.6.{n}"})).status_code
            for n in range(3)
        ]
    assert statuses == [200, 200, 429]


async def test_behind_a_trusted_proxy_each_citizen_has_a_bucket_of_their_own():
    async with served(service_app(per_minute=1), ["127.0.0.1"]) as client:
        statuses = [
            (await client.get("/whoami", headers={"X-Forwarded-For": f"198.51.100.{n}"})).status_code
            for n in range(3)
        ]
    assert statuses == [200, 200, 200]


async def seen_by_portal(scope, receive, send) -> None:
    await PlainTextResponse(str(client_address.get()))(scope, receive, send)


async def test_the_portal_counts_and_passes_on_the_address_the_server_resolved():
    portal = Guard(seen_by_portal, WebSettings(environment="test"))
    async with served(portal, ["127.0.0.1", "203.0.113.0/24"]) as client:
        assert (await client.get("/", headers={"X-Forwarded-For": SPOOFED})).text == "6.6.6.6"
    async with served(portal, []) as client:
        assert (await client.get("/", headers={"X-Forwarded-For": SPOOFED})).text == "127.0.0.1"


@pytest.mark.parametrize("entry", ["10.0.0.1/8", "proxy.internal", "10.0.0.300"])
def test_an_entry_that_is_no_address_or_network_is_refused_naming_the_setting(entry):
    with pytest.raises(ValidationError, match="forwarded_allow_ips"):
        ServiceSettings(environment="test", forwarded_allow_ips=[entry])


@pytest.mark.parametrize("settings", [ServiceSettings, WebSettings])
def test_trusting_every_address_is_refused_in_production_only(settings):
    with pytest.raises(ValidationError, match="FORWARDED_ALLOW_IPS"):
        settings(environment="production", forwarded_allow_ips=["*"])
    assert settings(environment="test", forwarded_allow_ips=["*"]).forwarded_allow_ips == ["*"]


@pytest.mark.parametrize(
    "written", ['["10.0.0.0/8", "127.0.0.1"]', "10.0.0.0/8, 127.0.0.1", "10.0.0.0/8,127.0.0.1"]
)
def test_the_setting_reads_a_json_list_or_uvicorns_comma_separated_form(monkeypatch, written):
    monkeypatch.setenv("SERAMBI_FORWARDED_ALLOW_IPS", written)
    assert ServiceSettings(environment="test").forwarded_allow_ips == ["10.0.0.0/8", "127.0.0.1"]
    assert WebSettings(environment="test").forwarded_allow_ips == ["10.0.0.0/8", "127.0.0.1"]


def test_an_empty_setting_trusts_no_proxy(monkeypatch):
    monkeypatch.setenv("SERAMBI_FORWARDED_ALLOW_IPS", "")
    assert ServiceSettings(environment="test").forwarded_allow_ips == []


@pytest.mark.parametrize(
    "everyone",
    [["*"], ["0.0.0.0/0"], ["10.0.0.0/8", "::/0"], ["0.0.0.0/00"], ["0.0.0.0/0.0.0.0"], ["::/000"]],
)
def test_trusting_every_address_in_any_spelling_is_refused_in_production(everyone):
    with pytest.raises(ValidationError, match="every address"):
        ServiceSettings(environment="production", forwarded_allow_ips=everyone)


def test_a_malformed_json_list_is_refused_saying_what_to_write(monkeypatch):
    monkeypatch.setenv("SERAMBI_FORWARDED_ALLOW_IPS", '["10.0.0.1",]')
    with pytest.raises(ValidationError, match="not a JSON list"):
        ServiceSettings(environment="test")


@pytest.mark.parametrize("service", ["intake", "web"])
def test_a_process_serves_with_the_proxies_its_settings_name(monkeypatch, service):
    """The production path: ``serambi_kit.http.serve`` (each service's and the portal's
    ``__main__``) hands the setting to uvicorn's proxy-headers handling."""
    from serambi_kit import http

    monkeypatch.setenv("SERAMBI_FORWARDED_ALLOW_IPS", "10.244.0.0/16")
    started: list[uvicorn.Config] = []

    def run(server: uvicorn.Server, sockets=None) -> None:
        started.append(server.config)
        server.started = True

    monkeypatch.setattr(uvicorn.Server, "run", run)
    main = importlib.import_module(f"serambi_{service}.main")
    http.serve(main.create_app(main_settings(service)))
    assert started[0].proxy_headers and started[0].forwarded_allow_ips == ["10.244.0.0/16"]


def main_settings(service: str):
    if service == "web":
        return WebSettings(environment="test")
    from serambi_intake.settings import IntakeSettings

    return IntakeSettings(environment="test")
