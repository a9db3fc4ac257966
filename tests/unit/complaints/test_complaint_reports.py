"""The monthly recap: counts by channel, tier, status and team, tier and triage on-time rates,
breaches, reopened complaints; CSV and a typed XLSX."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from openpyxl import load_workbook
from serambi_complaints.adapters.projections import STAGES
from serambi_complaints.adapters.reports import recap, tables, to_csv
from serambi_complaints.domain import Status
from serambi_kit.tabular import to_xlsx


def doc(
    channel: str,
    tier: str | None,
    status: Status,
    on_time: bool | None = None,
    breaches: int = 0,
    triage_breaches: int | None = None,
    **extra,
):
    document = {
        "channel": channel,
        "tier": tier,
        "stage": STAGES[status],
        "answered_on_time": on_time,
        "breach_count": breaches,
        **extra,
    }
    if triage_breaches is not None:  # read-model documents from before triage clocks lack it
        document["triage_breach_count"] = triage_breaches
    return document


DOCUMENTS = [
    doc("whatsapp", "ringan", Status.CLOSED, on_time=True),
    doc("whatsapp", "ringan", Status.ANSWERED, on_time=False, breaches=1),
    doc("email", "normatif", Status.ANSWERED, on_time=True),
    doc("sp4n_lapor", "normatif", Status.ASSIGNED, breaches=2),
    doc("online", None, Status.RECEIVED, triage_breaches=1),
]
NO_TRIAGE_BREACH = {"triage_breached": 0, "triage_breaches": 0, "reopened": 0}


def test_the_recap_counts_each_channel_tier_and_status_with_the_on_time_rate():
    report = recap("2026-03", DOCUMENTS)
    assert report["total"] == {
        "received": 5,
        "answered": 3,
        "due": 4,
        "on_time": 2,
        "on_time_rate": 0.5,
        "breached": 2,
        "breaches": 3,
        "triage_breached": 1,
        "triage_breaches": 1,
        "classified": 4,
        "triage_due": 1,
        "triage_on_time": 0,
        "triage_on_time_rate": 0.0,
        "reopened": 0,
    }
    assert report["channel"]["whatsapp"] == {
        "received": 2,
        "answered": 2,
        "due": 2,
        "on_time": 1,
        "on_time_rate": 0.5,
        "breached": 1,
        "breaches": 1,
        "classified": 2,
        "triage_due": 0,
        "triage_on_time": 0,
        "triage_on_time_rate": None,
        **NO_TRIAGE_BREACH,
    }
    assert report["tier"]["normatif"]["breaches"] == 2 and report["tier"]["unclassified"]["received"] == 1
    assert report["status"]["answered"]["received"] == 2 and report["status"]["closed"]["on_time"] == 1
    assert report["channel"]["fax"] == {
        "received": 0,
        "answered": 0,
        "due": 0,
        "on_time": 0,
        "on_time_rate": None,
        "breached": 0,
        "breaches": 0,
        "classified": 0,
        "triage_due": 0,
        "triage_on_time": 0,
        "triage_on_time_rate": None,
        **NO_TRIAGE_BREACH,
    }


def test_an_answer_on_time_after_a_breach_does_not_count_as_on_time():
    report = recap("2026-03", [doc("fax", "ringan", Status.CLOSED, on_time=True, breaches=1)])
    assert report["total"]["answered"] == 1 and report["total"]["on_time"] == 0
    assert report["total"]["on_time_rate"] == 0.0


def test_the_csv_has_a_row_per_channel_tier_status_and_a_total():
    rows = list(csv.DictReader(io.StringIO(to_csv(recap("2026-03", DOCUMENTS)))))
    assert len(rows) == 8 + 5 + 6 + 1 + 1  # channels, tiers, statuses, teams (unassigned), total
    whatsapp = next(r for r in rows if (r["dimension"], r["value"]) == ("channel", "whatsapp"))
    assert whatsapp == {
        "month": "2026-03",
        "dimension": "channel",
        "value": "whatsapp",
        "received": "2",
        "answered": "2",
        "on_time": "1",
        "on_time_rate": "0.5000",
        "breached": "1",
        "breaches": "1",
        "triage_breached": "0",
        "triage_breaches": "0",
        "classified": "2",
        "triage_on_time": "0",
        "triage_on_time_rate": "",
        "reopened": "0",
        "due": "2",
        "triage_due": "0",
    }
    assert rows[-1]["dimension"] == "total" and rows[-1]["received"] == "5"
    assert rows[-1]["triage_breaches"] == "1"
    assert next(r for r in rows if r["value"] == "fax")["on_time_rate"] == ""


NOW = datetime(2026, 3, 20, tzinfo=UTC)


def test_open_complaints_past_their_tier_deadline_count_as_late():
    """10 complaints, 1 answered in time, 9 open past their deadline: 10 %, not 100 %."""
    open_late = doc("email", "ringan", Status.ASSIGNED, due_at=datetime(2026, 3, 10, tzinfo=UTC))
    report = recap("2026-03", [doc("email", "ringan", Status.CLOSED, on_time=True), *[open_late] * 9], NOW)
    assert (report["total"]["due"], report["total"]["on_time"], report["total"]["on_time_rate"]) == (
        10,
        1,
        0.1,
    )
    not_yet = doc("email", "ringan", Status.ASSIGNED, due_at=datetime(2026, 3, 25, tzinfo=UTC))
    assert recap("2026-03", [not_yet], NOW)["total"]["on_time_rate"] is None


def test_the_triage_rate_counts_only_complaints_that_ran_a_triage_clock_and_overdue_ones_as_late():
    due = datetime(2026, 3, 10, tzinfo=UTC)
    classified_at = [{"step": "classified", "at": datetime(2026, 3, 9, tzinfo=UTC)}]
    report = recap(
        "2026-03",
        [
            doc("email", "ringan", Status.CLOSED, on_time=True),  # classified at receipt: no triage clock
            doc(
                "email",
                "ringan",
                Status.ASSIGNED,
                triage_breaches=0,
                triage_due_at=due,
                timeline=classified_at,
            ),
            doc(
                "email",
                None,
                Status.RECEIVED,
                triage_breaches=0,
                triage_due_at=due,
                due_at=due,
                clock="triage",
            ),
            doc(
                "email",
                None,
                Status.RECEIVED,
                triage_breaches=0,
                clock="triage",  # before the field: due_at
                due_at=datetime(2026, 3, 9, tzinfo=UTC),
            ),
            doc(
                "email",
                None,
                Status.RECEIVED,
                triage_breaches=0,
                triage_due_at=datetime(2026, 3, 25, tzinfo=UTC),
                clock="triage",
            ),  # not due yet
        ],
        NOW,
    )
    total = report["total"]
    assert (total["classified"], total["triage_due"], total["triage_on_time"]) == (2, 3, 1)
    assert total["triage_on_time_rate"] == 0.3333


def test_triage_breaches_are_counted_apart_from_the_tier_deadlines():
    report = recap(
        "2026-03",
        [
            doc("online", None, Status.RECEIVED, triage_breaches=1),
            doc("sp4n_lapor", "normatif", Status.ASSIGNED, triage_breaches=1),
        ],
    )
    assert report["total"]["breached"] == 0 and report["total"]["breaches"] == 0
    assert report["total"]["triage_breached"] == 2 and report["total"]["triage_breaches"] == 2
    assert report["tier"]["unclassified"]["triage_breached"] == 1
    assert report["channel"]["sp4n_lapor"]["triage_breaches"] == 1


REOPENED_AND_TEAMS = [
    doc("whatsapp", "ringan", Status.CLOSED, on_time=True, team="Tim A"),
    doc(
        "whatsapp",
        "normatif",
        Status.REOPENED,
        on_time=True,
        team="Tim A",
        reopen_count=2,
        tracking_code="ADU-2",
        received_at=datetime(2026, 3, 2, 1, 0),
        timeline=[
            {"step": "reopened", "at": datetime(2026, 3, 10, 3, 0)},
            {"step": "reopened", "at": datetime(2026, 3, 31, 17, 30)},
        ],
    ),  # 1 April 00.30 WIB
    doc("email", "normatif", Status.ASSIGNED, team="Tim B", triage_breaches=1),
    doc("email", None, Status.RECEIVED, triage_breaches=1),
]


def test_triage_and_tier_rates_per_channel_and_team_and_the_reopened_ones():
    report = recap("2026-03", REOPENED_AND_TEAMS)
    assert list(report["team"]) == ["Tim A", "Tim B", "unassigned"]
    assert report["team"]["Tim A"]["on_time_rate"] == 1.0 and report["team"]["Tim A"]["reopened"] == 1
    assert report["team"]["Tim B"]["triage_on_time_rate"] == 0.0
    assert (
        report["channel"]["email"]["classified"] == 1
        and report["channel"]["email"]["triage_on_time_rate"] == 0.0
    )
    assert report["total"]["triage_on_time_rate"] == 0.0 and report["total"]["triage_due"] == 2
    assert report["total"]["reopened"] == 1
    assert report["reopened"] == [
        {
            "tracking_code": "ADU-2",
            "channel": "whatsapp",
            "team": "Tim A",
            "tier": "normatif",
            "received_at": datetime(2026, 3, 2, 1, 0, tzinfo=UTC),
            "reopened_at": datetime(2026, 3, 10, 3, 0, tzinfo=UTC),
            "reopen_count": 2,
            "status": "reopened",
        }
    ]


def test_reopened_complaints_count_in_the_month_they_were_reopened_in_wib():
    february = doc(
        "email",
        "ringan",
        Status.REOPENED,
        reopen_count=1,
        tracking_code="ADU-FEB",
        received_at=datetime(2026, 2, 20, tzinfo=UTC),
        team="Tim B",
        timeline=[{"step": "reopened", "at": datetime(2026, 3, 3, tzinfo=UTC)}],
    )
    april = doc(
        "email",
        "ringan",
        Status.REOPENED,
        reopen_count=1,
        tracking_code="ADU-APR",
        received_at=datetime(2026, 3, 5, tzinfo=UTC),
        timeline=[{"step": "reopened", "at": datetime(2026, 3, 31, 17, 30, tzinfo=UTC)}],
    )  # April in WIB
    march = recap("2026-03", [april], NOW, [february, april])
    assert march["total"]["received"] == 1 and march["total"]["reopened"] == 1
    assert [row["tracking_code"] for row in march["reopened"]] == ["ADU-FEB"]
    assert march["team"]["Tim B"]["reopened"] == 1 and march["team"]["Tim B"]["received"] == 0
    assert recap("2026-04", [], NOW, [february, april])["total"]["reopened"] == 1


def test_the_recap_xlsx_has_typed_cells_and_the_reopened_sheet():
    book = load_workbook(io.BytesIO(to_xlsx(tables(recap("2026-03", REOPENED_AND_TEAMS)))))
    recap_sheet, reopened = book.worksheets
    rows = {(row[1].value, row[2].value): row for row in recap_sheet.iter_rows(min_row=2)}
    team_a = rows[("Tim", "Tim A")]
    assert type(team_a[3].value) is int and team_a[3].value == 2
    assert team_a[7].value == 1 and not isinstance(team_a[7].value, str) and team_a[7].number_format == "0.0%"
    assert rows[("Kanal", "WhatsApp")][3].value == 2 and rows[("Jumlah", "Semua")][3].value == 4
    assert rows[("Tim", "Belum ditugaskan")][3].value == 1
    code, channel, team, tier, received, _, count, status = (cell.value for cell in reopened[2])
    assert (code, channel, team, tier, count, status) == (
        "ADU-2",
        "WhatsApp",
        "Tim A",
        "Normatif",
        2,
        "Dibuka kembali",
    )
    assert received == datetime(2026, 3, 2, 8, 0)  # WIB wall clock, a real date-time cell
