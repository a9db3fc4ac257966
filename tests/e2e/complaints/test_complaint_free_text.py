"""Free text through the real API: any Unicode up to a field's documented size is accepted and
comes back intact; one character more is a 422 that names the field."""

from __future__ import annotations

import json

import httpx
import pytest
from complaints_e2e import headers

pytestmark = pytest.mark.slow  # make test-slow (CI runs it after make test)

EMOJI, CURLY, CHINESE = "\U0001f621", "\u201cdilayani\u201d ", "\u6295\u8bc9"


def errors_of(response: httpx.Response) -> list[dict]:
    assert response.status_code == 422, response.text
    return response.json()["errors"]


@pytest.mark.parametrize("text", [EMOJI * 5000, (CURLY * 500)[:5000], (CHINESE * 2500)])
def test_five_thousand_characters_of_any_unicode_are_accepted_and_read_back(api, text):
    assert len(text) == 5000
    created = api.submit(disclosure="anonymous", summary=EMOJI * 300, description=text)
    assert created.status_code == 201, created.text
    code = created.json()["tracking_code"]
    view = api.wait_for(code, lambda v: v["status"] == "received")
    assert view["description"] == text.strip() and view["summary"] == EMOJI * 300


def test_an_officer_records_and_answers_five_thousand_emoji(api):
    recorded = api.recorded(tier="normatif", description=EMOJI * 5000, summary=CHINESE * 150)
    code = recorded["tracking_code"]
    assert api.act(code, "assign", team="Tim Pengelola Pengaduan").status_code == 200
    answered = api.act(code, "answer", role="team", answer=CHINESE * 2500)
    assert answered.status_code == 200, answered.text
    assert api.details(code).json()["answer"] == CHINESE * 2500


def test_the_same_text_sent_as_ascii_escapes_is_accepted_too(api):
    body = json.dumps({"disclosure": "anonymous", "summary": EMOJI * 300, "description": EMOJI * 5000})
    assert body.isascii() and len(body) > 60_000  # every emoji as a surrogate pair of \\u escapes
    response = httpx.post(
        f"{api.url}/api/v1/complaints", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("description", {"summary": "Pelayanan", "description": EMOJI * 5001}),
        ("summary", {"summary": CHINESE * 150 + "x", "description": "Pelayanan"}),
    ],
)
def test_one_character_over_the_documented_size_is_a_422_naming_the_field(api, field, body):
    errors = errors_of(api.submit(disclosure="anonymous", **body))
    assert [error["field"] for error in errors] == [field]
    assert errors[0]["message"]


def test_an_oversized_officer_answer_is_a_422_naming_the_field(api):
    code = api.recorded(tier="normatif")["tracking_code"]
    assert api.act(code, "assign", team="Tim Pengelola Pengaduan").status_code == 200
    response = httpx.post(
        f"{api.url}/api/v1/officer/complaints/{code}/answer",
        json={"answer": EMOJI * 5001},
        headers=headers("team"),
    )
    assert [error["field"] for error in errors_of(response)] == ["answer"]


def test_a_lone_surrogate_is_not_text_and_is_a_422_not_a_500(api):
    half_an_emoji = '"rusak \\ud83d"'
    officer = httpx.post(
        f"{api.url}/api/v1/officer/complaints",
        headers={**headers(), "content-type": "application/json"},
        content='{"channel": "fax", "disclosure": "anonymous", "summary": "Pelayanan", '
        f'"description": {half_an_emoji}}}',
    )
    # a lone surrogate is not text: the whole body is refused as JSON (no field: "", the rule named)
    assert [(error["field"], error["rule"]) for error in errors_of(officer)] == [("", "json_invalid")]
    public = httpx.post(
        f"{api.url}/api/v1/complaints",
        headers={"content-type": "application/json"},
        content=f'{{"disclosure": "anonymous", "summary": "S", "description": {half_an_emoji}}}',
    )
    assert errors_of(public)  # refused as JSON the service cannot read as text
