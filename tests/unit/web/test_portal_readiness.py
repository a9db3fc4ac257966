"""The portal's /readyz reports the services as they run in production (issue 19 review, item 5):
each service answers ``/readyz`` and its other operations endpoints on its internal port only,
but ``/livez`` on its public port too — the address the portal calls it at — so the portal's
report says "ok", not "HTTP 404", while the services' readiness stays internal.

Intake, complaints and scheduling are built with production settings and an internal port and
served by uvicorn on loopback (not started: no NATS or MongoDB is needed for /livez); the portal
asks them through its real connection pool."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from serambi_testing import localstack

PRODUCTION = {
    "environment": "production",
    "auth_jwks_url": "https://sso.example.go.id/certs",
    "auth_issuer": "https://sso.example.go.id/realms/serambi",
    "pii_master_key": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=",
    "public_base_url": "https://layanan.example.go.id",
    "internal_port": 8090,
}


def production_apps() -> dict:
    from serambi_complaints.main import create_app as complaints
    from serambi_complaints.settings import ComplaintsSettings
    from serambi_intake.main import create_app as intake
    from serambi_intake.settings import IntakeSettings
    from serambi_scheduling.main import create_app as scheduling
    from serambi_scheduling.settings import SchedulingSettings

    return {
        "intake": intake(IntakeSettings(**PRODUCTION)),
        "complaints": complaints(ComplaintsSettings(**PRODUCTION)),
        "scheduling": scheduling(SchedulingSettings(**PRODUCTION, letter_secret="l9" * 20)),
    }


@pytest.fixture
async def services() -> AsyncIterator[dict[str, str]]:
    """Each service's public address, as the portal is configured with it."""
    servers, tasks, urls = [], [], {}
    for name, app in production_apps().items():
        port = localstack.free_port()
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None)
        )
        servers.append(server)
        tasks.append(asyncio.create_task(server.serve()))
        urls[name] = f"http://127.0.0.1:{port}"
    for _ in range(200):
        if all(server.started for server in servers):
            break
        await asyncio.sleep(0.05)
    yield urls
    for server in servers:
        server.should_exit = True
    await asyncio.gather(*tasks)


async def test_the_portals_readyz_finds_the_production_services_alive(services):
    from serambi_web.main import create_app
    from serambi_web.settings import WebSettings

    portal = create_app(
        WebSettings(
            environment="test",
            internal_port=8091,
            intake_url=services["intake"],
            complaints_url=services["complaints"],
            scheduling_url=services["scheduling"],
        )
    )
    transport = httpx.ASGITransport(app=portal)
    async with httpx.AsyncClient(transport=transport, base_url="http://web:8091") as internal:
        ready = await internal.get("/readyz")
    await portal.state.runtime.intake.http.aclose()
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"intake": "ok", "complaints": "ok", "scheduling": "ok"}


async def test_a_service_keeps_its_readiness_metrics_and_api_description_internal(services):
    async with httpx.AsyncClient() as client:
        for url in services.values():
            assert (await client.get(f"{url}/livez")).json() == {"status": "ok"}
            for path in ("/readyz", "/metrics", "/openapi.json", "/docs"):
                assert (await client.get(f"{url}{path}")).status_code == 404, (url, path)
