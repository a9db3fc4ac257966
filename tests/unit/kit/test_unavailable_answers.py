"""HTTP answers when NATS did not answer: 503 with Retry-After, saying whether the work may
have been recorded."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.testclient import TestClient
from serambi_kit.eventstore import AppendOutcomeUnknown, EventStoreError, EventStoreUnavailable
from serambi_kit.http import create_service_app
from serambi_kit.runtime import Runtime
from serambi_kit.settings import ServiceSettings

router = APIRouter()
FAILURES = {
    "unknown": AppendOutcomeUnknown("append to intake.request.X.*: NATS did not answer"),
    "unavailable": EventStoreUnavailable("direct get on INTAKE timed out"),
    "refused": EventStoreError("append refused: maximum messages exceeded"),
}


@router.post("/fail/{kind}")
async def fail(kind: str) -> None:
    raise FAILURES[kind]


def client() -> TestClient:
    app = create_service_app(Runtime(ServiceSettings()), title="test", routers=[router])
    return TestClient(app, raise_server_exceptions=False)  # no lifespan: nothing is started


def test_an_append_of_unknown_outcome_is_503_with_retry_after_and_says_it_may_be_recorded():
    response = client().post("/fail/unknown")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.json()["error"] == "service_unavailable"
    assert "may have been recorded" in response.json()["detail"]


def test_an_event_store_that_did_not_answer_is_503_with_retry_after():
    response = client().post("/fail/unavailable")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert "may have been recorded" not in response.json()["detail"]


def test_a_refusal_by_the_event_store_stays_a_server_error():
    assert client().post("/fail/refused").status_code == 500


@router.get("/mongo-down/{case}")
async def mongo_down(case: str) -> None:
    from pymongo.errors import ServerSelectionTimeoutError

    raise ServerSelectionTimeoutError("127.0.0.1:27017: connection refused")


def test_a_database_outage_is_503_with_retry_after_and_the_request_id_is_answered():
    response = client().get("/mongo-down/AUD-1", headers={"X-Request-Id": "req-42"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.json()["error"] == "service_unavailable"
    assert response.headers["x-request-id"] == "req-42"


def test_every_answer_carries_a_request_id_and_is_counted_under_its_route_template():
    from serambi_kit.metrics import REQUESTS

    counted = REQUESTS.labels("GET", "/mongo-down/{case}", 503)
    before = counted._value.get()
    response = client().get("/mongo-down/AUD-2")
    assert len(response.headers["x-request-id"]) >= 16  # a new id when the client sent none
    assert counted._value.get() == before + 1
