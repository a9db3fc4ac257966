"""Per-client rate limits and CORS on the public API, with a stack of its own."""

from __future__ import annotations

import httpx
import pytest
from serambi_ops.commands.demo import DEMO_REQUEST, submit_request


@pytest.fixture(scope="module")
def limited(tmp_path_factory, stack_of):
    env = {
        "SERAMBI_RATE_LIMITS": '{"submissions": 2, "lookups": 3}',
        "SERAMBI_CORS_ALLOWED_ORIGINS": '["https://layanan.kalbarprov.go.id"]',
    }
    with stack_of(tmp_path_factory.mktemp("limited"), ("intake",), env) as stack:
        yield stack


def test_a_client_over_its_submission_limit_gets_429_with_retry_after(limited):
    statuses = [submit_request(limited.urls["intake"], DEMO_REQUEST).status_code for _ in range(3)]
    assert statuses == [201, 201, 429]
    refused = submit_request(limited.urls["intake"], DEMO_REQUEST)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1


def test_lookups_have_their_own_limit(limited):
    url = f"{limited.urls['intake']}/api/v1/requests/AUD-1999-000001"
    statuses = [httpx.get(url, headers={"X-Access-Token": "x" * 43}).status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 429]


def test_only_the_configured_origin_may_call_from_a_browser(limited):
    url = f"{limited.urls['intake']}/api/v1/requests"
    allowed = httpx.options(
        url, headers={"Origin": "https://layanan.kalbarprov.go.id", "Access-Control-Request-Method": "POST"}
    )
    other = httpx.options(
        url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert allowed.headers.get("access-control-allow-origin") == "https://layanan.kalbarprov.go.id"
    assert "access-control-allow-origin" not in other.headers
