"""The officers' side end to end, in hold mode: intake and scheduling as their own processes.
Resources (admin), proposals confirmed or replaced, refusals that say why, letters, withdrawal."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from openpyxl import load_workbook
from scheduling_e2e import ADMIN, SCHEDULER, Stack, running_stack, token
from serambi_calendar import load_calendar
from serambi_kit import tabular
from serambi_ops.commands.demo import submit_request
from serambi_scheduling.domain.time import wib

CALENDAR = load_calendar()
REQUEST = {
    "requester": {
        "name": "Rudi Hartono",
        "position": "Kepala Bidang",
        "institution": "Bappeda Kabupaten Sambas",
        "institution_type": "local_government",
        "email": "rudi@example.go.id",
    },
    "topic": "Sinkronisasi program ekonomi",
    "purpose": "Audiensi perencanaan.",
    "participants": 4,
}


@pytest.fixture(scope="module")
def hold(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    env = {"SERAMBI_SCHEDULING_MODE": "hold"}
    with running_stack(tmp_path_factory.mktemp("hold"), ("intake", "scheduling"), env) as stack:
        yield stack


def api(stack: Stack, path: str) -> str:
    return f"{stack.urls['scheduling']}/api/v1{path}"


def submit(stack: Stack, **changes) -> dict:
    response = submit_request(stack.urls["intake"], {**REQUEST, **changes})
    assert response.status_code == 201, response.text
    return response.json()


def audience(stack: Stack, code: str, status: str | None = None, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = httpx.get(api(stack, f"/audiences/{code}"), headers=SCHEDULER)
        if response.status_code == 200 and (status is None or response.json()["status"] == status):
            return response.json()
        time.sleep(0.1)
    raise AssertionError(f"{code} never became {status}")


def post(stack: Stack, path: str, body: dict | None = None, headers=SCHEDULER) -> httpx.Response:
    return httpx.post(api(stack, path), json=body or {}, headers=headers, timeout=15)


def test_only_admins_manage_rooms_and_hosts_and_bad_input_is_named(hold):
    room = {"room_id": "aula-lt1", "name": "Aula Lantai 1", "capacity": 60, "location": "Lantai 1"}
    assert httpx.post(api(hold, "/rooms"), json=room).status_code == 401
    assert httpx.post(api(hold, "/rooms"), json=room, headers=SCHEDULER).status_code == 403
    created = httpx.post(api(hold, "/rooms"), json=room, headers=ADMIN)
    assert created.status_code == 201 and created.json()["capacity"] == 60
    again = httpx.post(api(hold, "/rooms"), json=room, headers=ADMIN)
    assert again.status_code == 409 and "already registered" in again.json()["detail"]
    bad = httpx.post(api(hold, "/rooms"), json={**room, "room_id": "a b", "capacity": 0}, headers=ADMIN)
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"room_id", "capacity"}
    host = {"host_id": "sekretaris-biro", "name": "Dra. Sari", "position": "Kepala Bagian"}
    assert httpx.post(api(hold, "/hosts"), json=host, headers=ADMIN).status_code == 201
    week = {"weekly": [{"weekday": d, "starts": "08:00", "ends": "12:00"} for d in range(1, 6)]}
    set_week = httpx.put(api(hold, "/hosts/sekretaris-biro/availability"), json=week, headers=ADMIN)
    assert set_week.status_code == 200 and len(set_week.json()["weekly"]) == 5
    leave = {"leave_id": "cuti-1", "first_day": "2031-01-06", "last_day": "2031-01-10", "reason": "cuti"}
    assert httpx.post(api(hold, "/hosts/sekretaris-biro/leave"), json=leave, headers=ADMIN).status_code == 201
    wrong = {**leave, "leave_id": "cuti-2", "last_day": "2031-01-01"}
    assert httpx.post(api(hold, "/hosts/sekretaris-biro/leave"), json=wrong, headers=ADMIN).status_code == 422
    removed = httpx.delete(api(hold, "/hosts/sekretaris-biro/leave/cuti-1"), headers=ADMIN)
    assert removed.status_code == 200 and removed.json()["leaves"] == []
    assert httpx.put(api(hold, "/hosts/nobody/availability"), json=week, headers=ADMIN).status_code == 404
    listed = httpx.get(api(hold, "/rooms"), headers=SCHEDULER).json()
    assert {"aula-lt1", "ruang-rapat-biro"} <= {r["room_id"] for r in listed}


def test_a_proposal_waits_in_the_queue_is_confirmed_and_the_requester_gets_the_letter(hold):
    answer = submit(hold)
    code = answer["tracking_code"]
    proposed = audience(hold, code, "proposed")
    assert proposed["schedule"]["starts_at"].endswith("+07:00")
    queue = httpx.get(api(hold, "/queue"), headers=SCHEDULER).json()
    assert code in [item["audience_id"] for item in queue["items"]]
    assert (queue["page"], queue["size"], queue["count"]) == (1, 200, len(queue["items"]))
    assert queue["total"] >= queue["count"]
    one = httpx.get(api(hold, "/queue"), params={"size": 1}, headers=SCHEDULER).json()
    assert len(one["items"]) == one["count"] == 1 and one["total"] == queue["total"]
    assert httpx.get(api(hold, "/queue?view=later"), headers=SCHEDULER).status_code == 422
    confirmed = post(hold, f"/audiences/{code}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert (
        body["status"] == "scheduled" and body["schedule"]["starts_at"] == proposed["schedule"]["starts_at"]
    )
    letter = httpx.get(f"{hold.urls['scheduling']}{body['answer_letter']['url']}")
    assert letter.status_code == 200 and letter.headers["content-type"] == "application/pdf"
    assert letter.content.startswith(b"%PDF-") and letter.headers["cache-control"] == "private, no-store"
    assert len(letter.content) == body["answer_letter"]["size"]
    guessed = body["answer_letter"]["document_id"][:-1] + (
        "A" if body["answer_letter"]["document_id"][-1] != "A" else "B"
    )
    assert httpx.get(api(hold, f"/letters/{guessed}")).status_code == 404
    assert httpx.get(api(hold, f"/audiences/{code}/letter"), headers=SCHEDULER).content == letter.content
    again = post(hold, f"/audiences/{code}/confirm")
    assert again.status_code == 409 and "it is scheduled" in again.json()["detail"]
    assert code not in [
        i["audience_id"] for i in httpx.get(api(hold, "/queue"), headers=SCHEDULER).json()["items"]
    ]
    tracked = _tracking(hold, answer, "scheduled")
    assert tracked["schedule"]["starts_at"] == proposed["schedule"]["starts_at"]


def _tracking(stack: Stack, answer: dict, status: str) -> dict:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        view = httpx.get(
            f"{stack.urls['intake']}/api/v1/requests/{answer['tracking_code']}",
            headers={"X-Access-Token": answer["access_token"]},
        ).json()
        if view.get("status") == status:
            return view
        time.sleep(0.1)
    raise AssertionError(f"intake never showed {status}")


def _next_saturday() -> datetime:
    today = wib(datetime.now(UTC))
    return (today + timedelta(days=(5 - today.weekday()) % 7 + 7)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )


def test_an_officers_slot_is_refused_with_the_rule_it_breaks_and_nothing_changes(hold):
    first = audience(hold, submit(hold)["tracking_code"], "proposed")
    second = audience(hold, submit(hold)["tracking_code"], "proposed")
    taken = datetime.fromisoformat(first["schedule"]["starts_at"])
    weekday_at_7 = taken.replace(hour=7, minute=0)
    cases = [
        (
            {
                "room_id": "ruang-rapat-biro",
                "host_id": "kepala-biro",
                "starts_at": _next_saturday().isoformat(),
            },
            422,
            "non_working_day",
        ),
        (
            {"room_id": "ruang-rapat-biro", "host_id": "kepala-biro", "starts_at": weekday_at_7.isoformat()},
            422,
            "working_time",
        ),
        (
            {
                "room_id": "ruang-rapat-biro",
                "host_id": "kepala-biro",
                "starts_at": "2020-01-06T09:00:00+07:00",
            },
            422,
            "in_past",
        ),
        (
            {"room_id": "gudang", "host_id": "kepala-biro", "starts_at": taken.isoformat()},
            422,
            "unknown_room",
        ),
        (
            {
                "room_id": first["schedule"]["room_id"],
                "host_id": first["schedule"]["host_id"],
                "starts_at": (taken + timedelta(minutes=30)).isoformat(),
            },
            409,
            "room_overlap",
        ),
    ]
    for body, status, rule in cases:
        response = post(hold, f"/audiences/{second['audience_id']}/slot", body)
        assert (response.status_code, response.json().get("rule")) == (status, rule), response.text
    naive = post(
        hold,
        f"/audiences/{second['audience_id']}/slot",
        {"room_id": "ruang-rapat-biro", "host_id": "kepala-biro", "starts_at": "2031-01-06T09:00:00"},
    )
    assert naive.status_code == 422
    held = post(hold, f"/audiences/{second['audience_id']}/held")
    assert held.status_code == 409 and "it is proposed" in held.json()["detail"]
    assert audience(hold, second["audience_id"])["schedule"] == second["schedule"]
    assert post(hold, "/audiences/AUD-1999-000001/confirm").status_code == 404


def test_reschedule_decline_and_cancel_move_and_free_slots(hold):
    a = audience(hold, submit(hold)["tracking_code"], "proposed")
    b = audience(hold, submit(hold)["tracking_code"], "proposed")
    assert post(hold, f"/audiences/{a['audience_id']}/confirm").status_code == 200
    start = datetime.fromisoformat(a["schedule"]["starts_at"])
    later = (start + timedelta(days=7)).replace(hour=14, minute=0)
    while not CALENDAR.working_periods(later.date()):
        later += timedelta(days=1)
    moved = post(
        hold,
        f"/audiences/{a['audience_id']}/reschedule",
        {
            "room_id": "ruang-rapat-biro",
            "host_id": "kepala-biro",
            "starts_at": later.isoformat(),
            "reason": "permintaan pemohon",
        },
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["schedule"]["starts_at"] == later.isoformat()
    assert moved.json()["answer_letter"]["document_id"] != a.get("answer_letter", {}).get("document_id")
    declined = post(hold, f"/audiences/{b['audience_id']}/decline", {"reason": "pimpinan dinas luar"})
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    assert declined.json()["schedule"] is None and declined.json()["answer_letter"]
    day = later.date().isoformat()
    _eventually_listed(hold, day, a)
    everything = httpx.get(api(hold, f"/calendar/days/{day}"), headers=SCHEDULER).json()["bookings"]
    assert {(row["resource"], row["audience_id"]) for row in everything} >= {
        ("room", a["audience_id"]),
        ("host", a["audience_id"]),
    }
    cancelled = post(
        hold, f"/audiences/{a['audience_id']}/cancel", {"reason": "ruang dipakai acara gubernur"}
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert post(hold, f"/audiences/{a['audience_id']}/cancel", {"reason": "lagi"}).status_code == 409
    assert post(hold, f"/audiences/{a['audience_id']}/cancel", {}).status_code == 422
    _eventually_listed(hold, day, a, listed=False)


def _eventually_listed(
    stack: Stack, day: str, a: dict, listed: bool = True, room: str = "ruang-rapat-biro"
) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        rows = httpx.get(api(stack, f"/calendar/rooms/{room}?from={day}&to={day}"), headers=SCHEDULER).json()[
            "bookings"
        ]
        if (a["audience_id"] in [row["audience_id"] for row in rows]) == listed:
            return
        time.sleep(0.1)
    raise AssertionError(f"{a['audience_id']} {'never' if listed else 'still'} in the calendar of {day}")


def test_a_withdrawal_in_intake_cancels_the_audience_and_frees_its_slot(hold):
    answer = submit(hold)
    proposed = audience(hold, answer["tracking_code"], "proposed")
    day, room = proposed["schedule"]["starts_at"][:10], proposed["schedule"]["room_id"]
    _eventually_listed(hold, day, proposed, room=room)
    response = httpx.post(
        f"{hold.urls['intake']}{answer['status_url']}/withdraw",
        headers={"X-Access-Token": answer["access_token"]},
        json={"reason": "batal"},
    )
    assert response.status_code == 202
    cancelled = audience(hold, answer["tracking_code"], "cancelled")
    assert cancelled["withdrawn"] is True
    _eventually_listed(hold, day, proposed, listed=False, room=room)
    host_rows = httpx.get(api(hold, f"/calendar/hosts/kepala-biro?from={day}&to={day}"), headers=SCHEDULER)
    assert answer["tracking_code"] not in [row["audience_id"] for row in host_rows.json()["bookings"]]


def test_desk_officers_cannot_read_the_queue_or_act(hold):
    desk = token("desk")
    assert httpx.get(api(hold, "/queue"), headers=desk).status_code == 403
    assert httpx.post(api(hold, "/audiences/AUD-1/confirm"), headers=desk).status_code == 403
    assert httpx.get(api(hold, "/calendar/days/2031-01-06"), headers=desk).status_code == 403


def test_the_audience_report_counts_an_answer_within_three_working_days_for_supervisors_only(hold):
    month = wib(datetime.now(UTC)).strftime("%Y-%m")
    supervisor = token("supervisor")

    def report() -> dict:
        response = httpx.get(api(hold, "/reports/audiences"), params={"month": month}, headers=supervisor)
        assert response.status_code == 200, response.text
        return response.json()

    before = report()
    answered = audience(hold, submit(hold)["tracking_code"], "proposed")
    assert (
        post(hold, f"/audiences/{answered['audience_id']}/decline", {"reason": "agenda penuh"}).status_code
        == 200
    )
    deadline = time.monotonic() + 15
    while (after := report())["answered"] < before["answered"] + 1:
        assert time.monotonic() < deadline, after
        time.sleep(0.2)
    assert after["submitted"] == before["submitted"] + 1
    assert after["on_time"] == before["on_time"] + 1
    assert after["on_time_rate"] == round(after["on_time"] / after["due"], 4)
    assert sum(after["channels"].values()) == after["submitted"] and after["outcomes"]["declined"] >= 1
    xlsx = httpx.get(
        api(hold, "/reports/audiences"), params={"month": month, "format": "xlsx"}, headers=supervisor
    )
    assert xlsx.status_code == 200 and xlsx.headers["content-type"] == tabular.XLSX_TYPE
    summary = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    assert summary.cell(2, 2).value >= after["submitted"] and type(summary.cell(2, 2).value) is int
    csv = httpx.get(
        api(hold, "/reports/audiences"),
        params={"month": month, "table": "kanal"},
        headers={**supervisor, "Accept": "text/csv"},
    )
    assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbfBulan,Kanal,Permohonan\r\n")
    assert "attachment" in csv.headers["content-disposition"]
    svg = httpx.get(api(hold, "/reports/audiences/kanal.svg"), params={"month": month}, headers=supervisor)
    assert svg.status_code == 404  # no chart route: the console draws its own
    one_table = httpx.get(
        api(hold, "/reports/audiences"),
        params={"month": month, "table": "kanal", "format": "xlsx"},
        headers=supervisor,
    )
    assert one_table.status_code == 422 and "table" in one_table.text
    wrong = httpx.get(
        api(hold, "/reports/audiences"), params={"month": month, "format": "pdf"}, headers=supervisor
    )
    assert wrong.status_code == 422 and "format" in wrong.text
    assert (
        httpx.get(api(hold, "/reports/audiences"), params={"month": month}, headers=SCHEDULER).status_code
        == 403
    )
    refused = httpx.get(api(hold, "/reports/audiences"), params={"month": "2031-13"}, headers=supervisor)
    assert refused.status_code == 422 and "month" in refused.text
