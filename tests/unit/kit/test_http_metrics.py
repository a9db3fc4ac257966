"""The HTTP RED metrics are labelled by route *template*, never by the path a request used (a
tracking code or an id in a path would make one series per case); a path no route knows is
`unmatched`."""

from __future__ import annotations

import importlib

from fastapi.testclient import TestClient
from prometheus_client import REGISTRY, generate_latest


def count(route: str, status: str) -> float:
    labels = {"method": "GET", "route": route, "status": status}
    return REGISTRY.get_sample_value("serambi_http_requests_total", labels) or 0.0


def test_requests_are_counted_by_route_template_and_unknown_paths_as_unmatched():
    from serambi_intake.settings import IntakeSettings

    app = importlib.import_module("serambi_intake.main").create_app(IntakeSettings())  # not started
    client = TestClient(app)
    before = count("/docs/assets/{name}", "200"), count("unmatched", "404")
    assert client.get("/docs/assets/swagger-ui.css").status_code == 200
    assert client.get("/api/v1/no-such-thing/REQ-2031-000123").status_code == 404
    assert count("/docs/assets/{name}", "200") == before[0] + 1
    assert count("unmatched", "404") == before[1] + 1
    exposition = generate_latest().decode()
    assert "swagger-ui.css" not in exposition and "REQ-2031-000123" not in exposition
