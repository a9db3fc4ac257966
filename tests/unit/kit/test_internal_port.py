"""The operations endpoints are not on the public port (issue 19 item 9): with
SERAMBI_INTERNAL_PORT (the image's 8090) /metrics, /docs, /openapi.json, /readyz and /livez
answer only there and the internal port answers nothing else; production without one hides
/metrics and the API description from everyone. A service answers /livez on its public port too
(the portal's /readyz asks it there: tests/unit/web/test_portal_readiness.py); the portal does not.

The services' own apps (intake's, the portal's) are called through the ASGI server address a
connection arrived on; the portal also runs as its own process, listening on both ports."""

from __future__ import annotations

import importlib
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from serambi_kit.settings import ServiceSettings
from serambi_testing import localstack

PUBLIC, INTERNAL = 8000, 8090
OPERATIONS = ("/metrics", "/docs", "/docs/assets/swagger-ui.css", "/openapi.json", "/readyz")


def intake(**settings):
    from serambi_intake.settings import IntakeSettings

    module = importlib.import_module("serambi_intake.main")
    return module.create_app(IntakeSettings(http_port=PUBLIC, **settings))  # not started: no NATS


def on(app, port: int) -> TestClient:
    return TestClient(app, base_url=f"http://intake:{port}")  # the port is the connection's


def test_with_an_internal_port_the_operations_endpoints_answer_only_there():
    app = intake(internal_port=INTERNAL)
    public, internal = on(app, PUBLIC), on(app, INTERNAL)
    for path in OPERATIONS:
        assert public.get(path).status_code == 404, path
        if path != "/readyz":  # (not started: its dependencies are down, 503)
            assert internal.get(path).status_code == 200, path
    assert internal.get("/readyz").json()["ready"] is False
    for client in (public, internal):  # liveness on both: the portal asks it on the public port
        assert client.get("/livez").json() == {"status": "ok"}
    assert internal.get("/metrics").headers["content-type"].startswith("text/plain")
    assert internal.get("/openapi.json").json()["info"]["title"] == "Serambi intake"


def test_the_internal_port_answers_nothing_but_the_operations_endpoints():
    app = intake(internal_port=INTERNAL)
    for path in ("/api/v1/officer/requests", "/api/v1/requests/AUD-1", "/", "/docsx"):
        assert on(app, INTERNAL).get(path).status_code == 404, path
    assert on(app, PUBLIC).get("/api/v1/officer/requests").status_code == 401  # the API, on its port


def test_a_header_cannot_move_a_request_to_the_internal_port():
    public = on(intake(internal_port=INTERNAL), PUBLIC)
    for headers in (
        {"Host": f"intake:{INTERNAL}"},
        {"X-Forwarded-Port": str(INTERNAL)},
        {"X-Forwarded-Host": f"intake:{INTERNAL}"},
    ):
        assert public.get("/metrics", headers=headers).status_code == 404


def test_production_without_an_internal_port_hides_metrics_and_the_api_description_from_everyone():
    app = intake(
        environment="production",
        auth_jwks_url="https://sso.example.go.id/certs",
        pii_master_key="c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=",
        public_base_url="https://layanan.example.go.id",
    )
    client = on(app, PUBLIC)
    for path in ("/metrics", "/docs", "/docs/assets/swagger-ui.css", "/openapi.json"):
        assert client.get(path).status_code == 404, path
    assert client.get("/livez").status_code == 200


def test_development_without_an_internal_port_keeps_everything_on_its_one_port():
    client = on(intake(), PUBLIC)
    for path in (*OPERATIONS, "/livez"):
        assert client.get(path).status_code in ((503,) if path == "/readyz" else (200,)), path


def test_the_internal_port_must_be_a_port_of_its_own():
    with pytest.raises(ValueError, match="SERAMBI_INTERNAL_PORT must differ"):
        ServiceSettings(http_port=9000, internal_port=9000)


def test_the_portal_process_listens_on_both_ports_and_keeps_its_metrics_internal(tmp_path: Path):
    port, internal = localstack.free_port(), localstack.free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "serambi_web"],
        stdout=(tmp_path / "web.log").open("wb"),
        stderr=subprocess.STDOUT,
        env={
            "PATH": "/usr/bin:/bin",
            "SERAMBI_ENVIRONMENT": "test",
            "SERAMBI_HTTP_PORT": str(port),
            "SERAMBI_INTERNAL_PORT": str(internal),
        },
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                ready = httpx.get(f"http://127.0.0.1:{internal}/readyz", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, (
                    tmp_path / "web.log"
                ).read_text()
                time.sleep(0.2)
        assert ready.status_code == 200
        assert httpx.get(f"http://127.0.0.1:{internal}/metrics").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{internal}/").status_code == 404
        assert httpx.get(f"http://127.0.0.1:{port}/metrics").status_code == 404
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 404
        assert httpx.get(f"http://127.0.0.1:{port}/livez").status_code == 404  # the portal's stays internal
        assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 200  # the portal's front page
    finally:
        process.terminate()
        process.wait(timeout=15)
