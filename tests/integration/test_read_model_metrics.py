"""The gauges read from the read models when /metrics is scraped (serambi_kit.slametrics),
against a real MongoDB-wire server: open clocks per clock, the audience answer on-time ratio,
open dead letters per consumer and reason class; cached for ``ttl``; never a case id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY, generate_latest
from serambi_complaints.application.sla_timers import open_clocks
from serambi_kit.slametrics import ScrapeGauges, dead_letters_source
from serambi_scheduling.adapters.reports import refresh_metrics

NOW = datetime(2031, 3, 20, 3, 0, tzinfo=UTC)  # 10:00 WIB


def value(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


async def test_open_complaint_clocks_are_counted_per_clock_running_or_paused(mongo_db):
    await mongo_db["complaints"].insert_many(
        [
            {"_id": "PGD-2031-000001", "stage": 0, "clock": "triage", "open_pause": None},
            {"_id": "PGD-2031-000002", "stage": 3, "clock": "ringan", "open_pause": None},
            {"_id": "PGD-2031-000003", "stage": 3, "clock": "ringan", "open_pause": {"reason": "x"}},
            {"_id": "PGD-2031-000004", "stage": 4, "clock": "ringan"},  # answered: no clock
            {"_id": "PGD-2031-000005", "stage": 1, "clock": None},
        ]
    )
    await open_clocks(mongo_db)
    assert value("serambi_sla_open_clocks", clock="triage", state="running") == 1
    assert value("serambi_sla_open_clocks", clock="ringan", state="running") == 1
    assert value("serambi_sla_open_clocks", clock="ringan", state="paused") == 1
    await mongo_db["complaints"].update_one({"_id": "PGD-2031-000001"}, {"$set": {"stage": 4}})
    await open_clocks(mongo_db)
    assert value("serambi_sla_open_clocks", clock="triage", state="running") is None  # gone
    assert "PGD-2031" not in generate_latest().decode()


def audience(code: str, submitted: datetime, answered_after: timedelta | None, status: str) -> dict:
    due = submitted + timedelta(days=3)
    timeline = [{"step": "requested", "at": submitted}]
    if answered_after is not None:
        timeline.append({"step": "scheduled", "at": submitted + answered_after})
    return {
        "_id": code,
        "submitted_at": submitted,
        "answer_due_at": due,
        "timeline": timeline,
        "status": status,
        "answered": answered_after is not None,
    }


async def test_the_audience_answer_on_time_ratio_of_this_and_last_month_and_the_open_answer_clocks(mongo_db):
    march, february = datetime(2031, 3, 3, 2, tzinfo=UTC), datetime(2031, 2, 10, 2, tzinfo=UTC)
    await mongo_db["audiences"].insert_many(
        [
            audience("AUD-2031-000001", march, timedelta(days=1), "scheduled"),
            audience("AUD-2031-000002", march, timedelta(days=1), "scheduled"),
            audience("AUD-2031-000003", march, timedelta(days=5), "scheduled"),  # late
            audience("AUD-2031-000004", march, None, "referred"),  # its clock runs
            audience("AUD-2031-000005", march, None, "requested"),
            audience("AUD-2031-000006", march, None, "cancelled"),
            audience("AUD-2031-000007", february, timedelta(days=4), "declined"),
        ]
    )
    await refresh_metrics(mongo_db, NOW)
    assert value("serambi_sla_open_clocks", clock="audience_answer", state="running") == 2
    # the report's rule: of the five due (three answered, two unanswered past their deadline —
    # the cancelled one left out), two were answered in time
    assert value("serambi_audience_answer_on_time_ratio", month="current") == 2 / 5
    assert value("serambi_audience_answer_on_time_ratio", month="previous") == 0
    assert value("serambi_audience_answers", month="current", timeliness="on_time") == 2
    assert value("serambi_audience_answers", month="current", timeliness="late") == 3
    await refresh_metrics(mongo_db, NOW + timedelta(days=40))  # May: nothing answered yet
    assert value("serambi_audience_answer_on_time_ratio", month="current") is None
    assert "AUD-2031" not in generate_latest().decode()


async def test_open_dead_letters_per_consumer_and_reason_class_refreshed_at_most_every_ttl(mongo_db):
    letters = mongo_db["dead_letters"]
    await letters.insert_many(
        [
            {"_id": "a", "consumer": "notifier-dispatch", "status": "open", "reason": "ValidationError: x"},
            {
                "_id": "b",
                "consumer": "notifier-dispatch",
                "status": "open",
                "reason": "failed 5 deliveries; last: TimeoutError",
            },
            {
                "_id": "c",
                "consumer": "complaints-email",
                "status": "open",
                "reason": "y",
                "manual": "read it",
            },
            {"_id": "d", "consumer": "notifier-dispatch", "status": "redriven", "reason": "z"},
        ]
    )
    now = [100.0]
    gauges = ScrapeGauges(ttl=15, clock=lambda: now[0])
    await gauges.refresh(mongo_db)
    assert value("serambi_dead_letters_open", consumer="notifier-dispatch", reason="permanent") == 1
    assert value("serambi_dead_letters_open", consumer="notifier-dispatch", reason="retries_exhausted") == 1
    assert value("serambi_dead_letters_open", consumer="complaints-email", reason="manual") == 1
    await letters.update_one({"_id": "a"}, {"$set": {"status": "redriven"}})
    now[0] += 10
    await gauges.refresh(mongo_db)  # within the ttl: the cached figure
    assert value("serambi_dead_letters_open", consumer="notifier-dispatch", reason="permanent") == 1
    now[0] += 10
    await gauges.refresh(mongo_db)
    assert value("serambi_dead_letters_open", consumer="notifier-dispatch", reason="permanent") is None


async def test_a_failing_source_is_counted_and_never_fails_the_scrape(mongo_db):
    async def broken(_db) -> None:
        raise RuntimeError("boom")

    gauges = ScrapeGauges()
    gauges.add("broken", broken)
    before = value("serambi_read_model_metrics_errors_total", source="broken") or 0
    await gauges.refresh(mongo_db)
    assert value("serambi_read_model_metrics_errors_total", source="broken") == before + 1
    await dead_letters_source(mongo_db)  # an empty collection: no series
