"""The one clock (``utc_now``) and the one WIB converter for API answers (``in_wib``)."""

from datetime import UTC, datetime, timedelta, timezone

from serambi_calendar import WIB, in_wib, utc_now


def test_utc_now_is_aware_utc_and_whole_seconds_on_request():
    assert utc_now().tzinfo is UTC
    assert utc_now(whole_seconds=True).microsecond == 0


def test_in_wib_shows_every_instant_of_an_answer_in_wib_and_reads_naive_ones_as_utc():
    naive = datetime(2026, 3, 2, 2, 30)
    answer = {"at": naive, "rows": [{"due": naive.replace(tzinfo=UTC)}], "count": 2, "code": "ADU"}
    shown = in_wib(answer)
    assert shown["at"] == datetime(2026, 3, 2, 9, 30, tzinfo=WIB) and shown["at"].utcoffset() == timedelta(
        hours=7
    )
    assert shown["rows"][0]["due"].isoformat() == "2026-03-02T09:30:00+07:00"
    assert (shown["count"], shown["code"]) == (2, "ADU")
    assert in_wib(datetime(2026, 3, 2, 9, 30, tzinfo=timezone(timedelta(hours=8)))).hour == 8
