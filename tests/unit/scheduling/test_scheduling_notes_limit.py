"""An officer's notes longer than the event holds are refused as bad input naming the field
(422), never a 500 from the event's own check (issue 19, item 10)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from serambi_kit.auth import issue_dev_token
from serambi_scheduling.main import create_app
from serambi_scheduling.settings import SchedulingSettings


def client() -> tuple[TestClient, dict[str, str]]:
    settings = SchedulingSettings(_env_file=None)
    app = create_app(settings)
    app.state.scheduling = object()  # never reached: the body is refused first
    token = issue_dev_token(settings, ["scheduler"])
    return TestClient(app, raise_server_exceptions=False), {"Authorization": f"Bearer {token}"}


def test_held_notes_over_2000_characters_are_a_422_naming_the_field():
    http, officer = client()
    response = http.post(
        "/api/v1/audiences/AUD-2026-000001/held", json={"notes": "x" * 2001}, headers=officer
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == "notes" and "2000" in error["message"]
