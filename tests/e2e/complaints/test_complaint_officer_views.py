"""The officer API's case views through the running complaints service: "my cases" (the queue
filtered by assignee, indexed and paged like the other filters) and the complainant's identity,
masked in the case view and shown in clear only by its own audited endpoint."""

from __future__ import annotations

import uuid

from complaints_e2e import access_events, of_type
from pymongo import MongoClient
from serambi_contracts.audit import PersonalDataAccessed

IDENTITY = {"name": "Siti Rahmawati", "email": "siti.rahmawati@example.id", "phone": "0813 5555 0142"}
SECRETS = ("Siti Rahmawati", "siti.rahmawati@example.id", "+6281355550142")


def assigned(api, assignee: str | None, tier: str = "normatif") -> str:
    code = api.recorded(channel="telephone", tier=tier)["tracking_code"]
    api.wait_for(code, lambda v: v["tier"] == tier)
    body = {"team": "Tim Pengelola Pengaduan", **({"assignee": assignee} if assignee else {})}
    assert api.act(code, "assign", role="officer", **body).status_code == 200
    api.wait_for(code, lambda v: v["status"] == "assigned")
    return code


def test_my_cases_are_the_queue_filtered_by_assignee_paged_and_indexed(real_stack, api):
    member, other = f"tim-{uuid.uuid4().hex[:8]}", f"tim-{uuid.uuid4().hex[:8]}"
    mine = [assigned(api, member, tier) for tier in ("berkadar_pengawasan", "ringan", "normatif")]
    assigned(api, other)
    assigned(api, None)
    answered = assigned(api, member, "tidak_berkadar_pengawasan")
    assert api.act(answered, "answer", role="team", answer="Sudah ditangani.").status_code == 200
    api.wait_for(answered, lambda v: v["status"] == "answered")

    first = api.queue("team", assignee=member, open="true", size=2).json()
    second = api.queue("team", assignee=member, open="true", size=2, page=2).json()
    assert first["total"] == second["total"] == 3
    codes = [row["tracking_code"] for row in first["items"] + second["items"]]
    assert codes == [mine[1], mine[2], mine[0]]  # soonest deadline first: ringan, normatif, berkadar
    assert {row["assignee"] for row in first["items"] + second["items"]} == {member}
    everything = api.queue("team", assignee=member, size=100).json()
    assert everything["total"] == 4 and answered in [row["tracking_code"] for row in everything["items"]]
    assert api.queue("team", assignee="nobody-here").json() == {
        "items": [],
        "page": 1,
        "size": 25,
        "total": 0,
    }
    for bad in ("", "x" * 201):
        refused = api.queue("team", assignee=bad)
        assert refused.status_code == 422 and "assignee" in refused.text

    with MongoClient(real_stack.env["SERAMBI_MONGO_URL"]) as client:
        indexes = client["serambi_complaints"]["complaints"].index_information()
    assert [("assignee", 1), ("due_sort", 1), ("received_at", 1)] in [i["key"] for i in indexes.values()]


def test_the_case_view_masks_the_identity_unaudited_and_the_identity_endpoint_shows_it_audited(
    real_stack, api
):
    code = api.recorded(channel="whatsapp", disclosure="named", **IDENTITY)["tracking_code"]
    view = api.wait_for(code, lambda v: v["status"] == "received")
    for role in ("officer", "team", "supervisor"):
        again = api.details(code, role)
        assert again.status_code == 200
        assert not [secret for secret in SECRETS if secret in again.text]
    assert view["complainant"] == {
        "anonymous": False,
        "masked": True,
        "name": "S*** R***",
        "email": "s***@example.id",
        "phone": "+6281******142",
    }
    assert access_events(real_stack, code) == []  # looking at the case shows no one in clear

    shown = api.identity(code, "team")
    assert shown.status_code == 200 and shown.headers["content-type"] == "application/json"
    assert shown.json() == {
        "tracking_code": code,
        "name": IDENTITY["name"],
        "email": IDENTITY["email"],
        "phone": "+6281355550142",
    }
    [audit] = of_type(access_events(real_stack, code), PersonalDataAccessed)
    assert (audit.officer, audit.roles, audit.fields, audit.purpose) == (
        "team-1",
        ["complaint_team"],
        ["name", "email", "phone"],
        "complainant identity",
    )
    assert not [secret for secret in SECRETS if secret in audit.model_dump_json()]

    assert api.identity(code, "desk").status_code == 403
    assert api.identity("ADU-1999-999999", "team").status_code == 404


def test_an_anonymous_complainant_is_never_shown_and_nothing_is_audited(real_stack, api):
    code = api.recorded(channel="complaint_box", disclosure="anonymous", email=IDENTITY["email"])[
        "tracking_code"
    ]
    view = api.wait_for(code, lambda v: v["status"] == "received")
    assert view["complainant"] == {"anonymous": True, "has_email": True, "has_phone": False}
    shown = api.identity(code, "supervisor")
    assert shown.json() == {"tracking_code": code, "anonymous": True, "has_email": True, "has_phone": False}
    assert access_events(real_stack, code) == []
