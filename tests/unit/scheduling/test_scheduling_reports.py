"""The audience report: on time is the first answer at or before the told deadline; late ones
listed; per channel and outcome; the median working time to answer on the bureau's calendar."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from serambi_calendar import WIB, WorkingCalendar
from serambi_calendar.days import fixed_source
from serambi_calendar.profiles import ProfilePeriod
from serambi_kit.tabular import to_xlsx
from serambi_scheduling.adapters.reports import month_bounds, recap, tables

DUE = datetime(2031, 3, 7, 9, 0, tzinfo=UTC)
NOW = datetime(2031, 3, 20, tzinfo=UTC)


def audience(answers: list[timedelta], status: str = "scheduled", breached: bool = False) -> dict:
    timeline = [{"step": "requested", "at": (DUE - timedelta(days=3)).replace(tzinfo=None)}]
    timeline += [{"step": "scheduled", "at": (DUE + offset).replace(tzinfo=None)} for offset in answers]
    return {
        "answer_due_at": DUE.replace(tzinfo=None),
        "timeline": timeline,
        "status": status,
        "sla": {"breached_at": DUE} if breached else {},
        "request_tracking_code": f"AUD-{len(answers)}",
        "submitted_at": (DUE - timedelta(days=3)).replace(tzinfo=None),
    }


def test_the_first_answer_decides_and_unanswered_past_due_audiences_are_counted_apart():
    report = recap(
        "2031-03",
        [
            audience([-timedelta(hours=1), timedelta(days=2)]),  # answered in time, rescheduled later
            audience([timedelta(minutes=1)], breached=True),  # one minute late
            audience([], status="requested", breached=True),  # still waiting
            cancelled_at(
                audience([], status="cancelled"), -timedelta(days=1)
            ),  # withdrawn before its deadline
        ],
        NOW,
    )
    figures = {
        key: report[key]
        for key in (
            "month",
            "submitted",
            "answered",
            "due",
            "on_time",
            "on_time_rate",
            "breached",
            "open_past_due",
        )
    }
    assert figures == {
        "month": "2031-03",
        "submitted": 4,
        "answered": 2,
        "due": 3,
        "on_time": 1,
        "on_time_rate": 0.3333,
        "breached": 2,
        "open_past_due": 1,
    }
    assert [(row["code"], row["answered_at"], row["answer_due_at"]) for row in report["late"]] == [
        ("AUD-0", None, DUE),
        ("AUD-1", DUE + timedelta(minutes=1), DUE),
    ]  # by submission, then code
    assert report["channels"] == {"online": 0, "desk": 0, "letter": 0, "unknown": 4}
    assert report["outcomes"]["scheduled"] == 2 and report["outcomes"]["pending"] == 1
    assert report["outcomes"]["cancelled"] == 1 and report["median_answer_working_hours"] is None


def cancelled_at(document: dict, offset: timedelta) -> dict:
    """The audience cancelled ``offset`` after its deadline (negative: before)."""
    entry = {"step": "cancelled", "at": (DUE + offset).replace(tzinfo=None)}
    return {**document, "status": "cancelled", "timeline": [*document["timeline"], entry]}


def test_unanswered_requests_past_their_deadline_count_as_late():
    """10 requests, 1 answered on time, 9 unanswered past the deadline: 10 %, not 100 %."""
    report = recap("2031-03", [audience([-timedelta(hours=1)]), *[audience([], status="requested")] * 9], NOW)
    assert (report["answered"], report["due"], report["on_time"], report["on_time_rate"]) == (1, 10, 1, 0.1)
    assert len(report["late"]) == 9


def test_the_deadline_is_inclusive_and_withdrawals_count_by_when_they_happened():
    report = recap(
        "2031-03",
        [
            audience([timedelta(0)]),  # answered at exactly answer_due_at: on time
            audience([timedelta(seconds=1)]),  # a second after: late
            cancelled_at(audience([], status="cancelled"), -timedelta(seconds=1)),  # withdrawn in time: out
            cancelled_at(audience([], status="cancelled"), timedelta(hours=2)),  # withdrawn after it: late
        ],
        NOW,
    )
    assert (report["answered"], report["due"], report["on_time"], report["on_time_rate"]) == (2, 3, 1, 0.3333)
    assert sorted(str(row["answered_at"]) for row in report["late"]) == ["2031-03-07 09:00:01+00:00", "None"]


def test_a_request_at_17_30_utc_on_the_months_last_day_is_the_next_months_in_wib():
    instant = datetime(2031, 3, 31, 17, 30, tzinfo=UTC)  # 1 April 00.30 WIB
    march, april = month_bounds("2031-03"), month_bounds("2031-04")
    assert not march[0] <= instant < march[1] and april[0] <= instant < april[1]
    assert instant.astimezone(WIB).isoformat() == "2031-04-01T00:30:00+07:00"


def test_a_month_without_answers_has_no_rate():
    assert (
        recap("2031-03", [audience([], status="requested")], DUE - timedelta(days=1))["on_time_rate"] is None
    )


def test_a_month_runs_from_its_first_to_the_next_months_first_day_in_wib():
    first, after = month_bounds("2031-12")
    assert (
        first.isoformat() == "2031-12-01T00:00:00+07:00" and after.isoformat() == "2032-01-01T00:00:00+07:00"
    )
    with pytest.raises(ValueError, match="YYYY-MM"):
        month_bounds("2031-13")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2031, 3, day, hour, minute, tzinfo=WIB).astimezone(UTC)


def answered(submitted: datetime, answer: datetime, channel: str, status: str = "scheduled", **extra) -> dict:
    return {
        "answer_due_at": at(20, 16),
        "submitted_at": submitted,
        "status": status,
        "channel": channel,
        "timeline": [{"step": "declined" if status == "declined" else "scheduled", "at": answer}],
        **extra,
    }


CALENDAR = WorkingCalendar(fixed_source({}))  # Mon-Thu 07.30-16.00, Fri 07.30-16.30, breaks out
MONTH_OF = [
    answered(at(3, 8), at(3, 10), "online"),  # Monday: 2 working hours
    answered(at(3, 8), at(4, 8), "desk", status="declined"),  # overnight: 7.5 working hours
    # a letter received on Friday 15.30, recorded Monday: 1 h Friday + 2 h Monday
    answered(at(10, 9), at(10, 9, 30), "letter", status="held", received_at=at(7, 15, 30)),
    {**answered(at(3, 8), at(3, 9), "online", status="cancelled"), "withdrawn": True, "timeline": []},
]


def test_channels_outcomes_and_the_median_working_time_follow_the_calendar():
    report = recap("2031-03", MONTH_OF, NOW, CALENDAR)
    assert report["channels"] == {"online": 2, "desk": 1, "letter": 1, "unknown": 0}
    assert report["outcomes"] == {
        "pending": 0,
        "scheduled": 1,
        "declined": 1,
        "held": 1,
        "no_show": 0,
        "withdrawn": 1,
        "cancelled": 0,
    }
    assert report["median_answer_working_hours"] == 3.0 and report["median_answer_working_days"] == 0.4
    assert report["late"] == []


def test_working_days_are_counted_on_the_calendar_so_a_shortened_day_counts_whole():
    ramadan = WorkingCalendar(
        fixed_source({}), profile_periods=[ProfilePeriod("ramadan", date(2031, 3, 1), date(2031, 3, 31))]
    )
    report = recap("2031-03", [answered(at(3, 8), at(4, 8), "online")], NOW, ramadan)  # Mon 08.00 → Tue 08.00
    assert report["median_answer_working_hours"] == 6.5 and report["median_answer_working_days"] == 1.0


def test_the_reports_xlsx_holds_typed_cells():
    report = recap("2031-03", [*MONTH_OF, audience([timedelta(hours=5)])], NOW, CALENDAR)
    book = load_workbook(io.BytesIO(to_xlsx(tables(report))))
    assert book.sheetnames == [
        "Audiensi 2031-03",
        "Permohonan per kanal",
        "Hasil permohonan",
        "Jawaban terlambat",
    ]
    summary = book["Audiensi 2031-03"]
    month, submitted, answered_, due, on_time, rate, late, *_, hours, days = (
        cell.value for cell in summary[2]
    )
    assert (month, submitted, answered_, due, on_time, late) == ("2031-03", 5, 4, 4, 3, 1)
    assert type(submitted) is int and isinstance(rate, float) and summary.cell(2, 6).number_format == "0.0%"
    assert isinstance(hours, float) and isinstance(days, float)
    code, channel, submitted_at, due, answer = (cell.value for cell in book["Jawaban terlambat"][2])
    assert isinstance(submitted_at, datetime) and isinstance(due, datetime) and isinstance(answer, datetime)
    assert due == DUE.astimezone(WIB).replace(tzinfo=None) and channel == "Tidak tercatat"
    assert [row[2].value for row in book["Permohonan per kanal"].iter_rows(min_row=2)] == [2, 1, 1, 1]
