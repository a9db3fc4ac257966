"""X-Request-Id becomes the correlation id of every event a request records and is bound into
every log line: only a plain id is kept, anything else is replaced (issue 19, item 10)."""

from __future__ import annotations

import uuid

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from serambi_kit.causation import current_cause, request_id_from
from serambi_kit.http import create_service_app
from serambi_kit.runtime import Runtime
from serambi_kit.settings import ServiceSettings

router = APIRouter()


@router.get("/cause")
async def cause() -> dict[str, str]:
    found = current_cause()
    assert found is not None
    return {"correlation": found.correlation_id, "causation": found.causation_id}


def client() -> TestClient:
    return TestClient(create_service_app(Runtime(ServiceSettings()), title="test", routers=[router]))


@pytest.mark.parametrize(
    "kept", ["req-42", "4bf92f3577b34da6a3ce929d0e0e4736", str(uuid.uuid4()), "web:01HZX.7", "a" * 64]
)
def test_a_plain_request_id_is_kept_as_the_cause_of_what_the_request_records(kept):
    response = client().get("/cause", headers={"X-Request-Id": kept})
    assert response.json() == {"correlation": kept, "causation": kept}
    assert response.headers["x-request-id"] == kept


@pytest.mark.parametrize(
    "bad",
    [
        "a" * 65,  # too long (it was cut to 64 before, and kept)
        "<script>alert(1)</script>",
        "siti@example.go.id",  # personal data must not become every event's correlation id
        "Budi Santoso 081234567890",
        "id with spaces",
        "-leading-dash",
        "ünïcode",
        "x;drop",
    ],
)
def test_any_other_request_id_is_replaced_by_a_new_one(bad):
    response = client().get("/cause", headers={"X-Request-Id": bad.encode()})  # raw bytes
    given = response.json()["correlation"]
    assert given != bad and str(uuid.UUID(given)) == given
    assert response.headers["x-request-id"] == given


def test_the_rule_itself():
    assert request_id_from(None) != request_id_from(None)
    assert request_id_from("") != ""
    assert request_id_from("req-1") == "req-1"
