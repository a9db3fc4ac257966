"""One error format (issue 20, item 4): every error a service answers is an RFC 9457 problem
(``application/problem+json``: ``type``, ``title``, ``status``, ``detail``) keeping the codes
clients read (``error``, and ``errors`` naming each refused field), whichever layer refused it
— the validation, a route, the role check, the body limit, the internal port — and each
service's OpenAPI description says which problems each route can answer."""

from __future__ import annotations

import importlib

import pytest
from fastapi.testclient import TestClient

PROBLEM = "application/problem+json"
SERVICES = ("intake", "scheduling", "complaints", "notifier")


def app_of(service: str, **settings):
    module = importlib.import_module(f"serambi_{service}.settings")
    settings_class = getattr(module, f"{service.capitalize()}Settings")
    main = importlib.import_module(f"serambi_{service}.main")
    return main.create_app(settings_class(environment="test", **settings))  # not started: no NATS


def assert_problem(answer, status: int, error: str) -> dict:
    assert answer.status_code == status
    assert answer.headers["content-type"] == PROBLEM
    body = answer.json()
    assert body["type"] == "about:blank" and body["status"] == status and body["title"]
    assert body["error"] == error and body["detail"]
    return body


def test_a_refused_field_is_a_problem_naming_the_field_and_the_rule():
    client = TestClient(app_of("intake"))
    answer = client.get("/api/v1/requests/not a code!", headers={"X-Access-Token": "x" * 43})
    body = assert_problem(answer, 422, "invalid_request")
    assert body["title"] == "Unprocessable Entity"
    assert {"field": "tracking_code", "rule": "string_pattern_mismatch"}.items() <= body["errors"][0].items()


def test_an_officer_route_without_a_token_is_a_401_problem():
    assert_problem(
        TestClient(app_of("scheduling")).get("/api/v1/admin/dead-letters"), 401, "authentication required"
    )


def test_a_body_over_its_limit_while_it_streams_is_a_413_problem():
    client = TestClient(app_of("complaints"))
    chunks = (b'{"summary": "' + b"x" * 10_000 for _ in range(200))  # chunked: no Content-Length
    answer = client.post("/api/v1/complaints", content=chunks, headers={"content-type": "application/json"})
    assert_problem(answer, 413, answer.json()["error"])


def test_an_unexpected_error_is_a_500_problem_naming_the_request_not_the_error():
    app = app_of("intake")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret detail 0812-3456-7890")

    answer = TestClient(app, raise_server_exceptions=False).get("/boom", headers={"X-Request-Id": "req-4711"})
    body = assert_problem(answer, 500, "internal_error")
    assert body["request_id"] == "req-4711" and "0812" not in answer.text


def test_the_internal_port_refuses_with_a_problem():
    app = app_of("notifier", http_port=8000, internal_port=8090)
    answer = TestClient(app, base_url="http://notifier:8090").get("/api/v1/officer/deliveries")
    assert_problem(answer, 404, "not found")


@pytest.mark.parametrize("service", SERVICES)
def test_every_documented_error_is_a_problem_and_each_route_lists_what_it_can_answer(service):
    document = app_of(service).openapi()
    assert {"type", "title", "status", "detail", "error", "errors"} <= set(
        document["components"]["schemas"]["Problem"]["properties"]
    )
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            for status, response in responses.items():
                if status.startswith("4"):
                    assert list(response.get("content", {PROBLEM: 0})) == [PROBLEM], (method, path, status)
            if operation.get("security"):  # an officer's route
                assert {"401", "403"} <= set(responses), (method, path)
            if method in ("post", "put", "delete"):
                assert {"413", "422"} <= set(responses), (method, path)
            if "{" in path:
                assert "404" in responses, (method, path)
