"""The monthly recap: counts by channel, tier and status, on-time rate, breaches, CSV."""

from __future__ import annotations

import csv
import io

from serambi_complaints.domain import Status
from serambi_complaints.projections import STAGES
from serambi_complaints.reports import recap, to_csv


def doc(channel: str, tier: str | None, status: Status, on_time: bool | None = None, breaches: int = 0,
        triage_breaches: int | None = None):
    document = {"channel": channel, "tier": tier, "stage": STAGES[status], "answered_on_time": on_time,
                "breach_count": breaches}
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
NO_TRIAGE_BREACH = {"triage_breached": 0, "triage_breaches": 0}


def test_the_recap_counts_each_channel_tier_and_status_with_the_on_time_rate():
    report = recap("2026-03", DOCUMENTS)
    assert report["total"] == {"received": 5, "answered": 3, "on_time": 2, "on_time_rate": 0.6667,
                               "breached": 2, "breaches": 3, "triage_breached": 1, "triage_breaches": 1}
    assert report["channel"]["whatsapp"] == {"received": 2, "answered": 2, "on_time": 1,
                                             "on_time_rate": 0.5, "breached": 1, "breaches": 1,
                                             **NO_TRIAGE_BREACH}
    assert report["tier"]["normatif"]["breaches"] == 2 and report["tier"]["unclassified"]["received"] == 1
    assert report["status"]["answered"]["received"] == 2 and report["status"]["closed"]["on_time"] == 1
    assert report["channel"]["fax"] == {"received": 0, "answered": 0, "on_time": 0,
                                        "on_time_rate": None, "breached": 0, "breaches": 0,
                                        **NO_TRIAGE_BREACH}


def test_an_answer_on_time_after_a_breach_does_not_count_as_on_time():
    report = recap("2026-03", [doc("fax", "ringan", Status.CLOSED, on_time=True, breaches=1)])
    assert report["total"]["answered"] == 1 and report["total"]["on_time"] == 0
    assert report["total"]["on_time_rate"] == 0.0


def test_the_csv_has_a_row_per_channel_tier_status_and_a_total():
    rows = list(csv.DictReader(io.StringIO(to_csv(recap("2026-03", DOCUMENTS)))))
    assert len(rows) == 8 + 5 + 6 + 1
    whatsapp = next(r for r in rows if (r["dimension"], r["value"]) == ("channel", "whatsapp"))
    assert whatsapp == {"month": "2026-03", "dimension": "channel", "value": "whatsapp", "received": "2",
                        "answered": "2", "on_time": "1", "on_time_rate": "0.5000", "breached": "1",
                        "breaches": "1", "triage_breached": "0", "triage_breaches": "0"}
    assert rows[-1]["dimension"] == "total" and rows[-1]["received"] == "5"
    assert rows[-1]["triage_breaches"] == "1"
    assert next(r for r in rows if r["value"] == "fax")["on_time_rate"] == ""


def test_triage_breaches_are_counted_apart_from_the_tier_deadlines():
    report = recap("2026-03", [doc("online", None, Status.RECEIVED, triage_breaches=1),
                               doc("sp4n_lapor", "normatif", Status.ASSIGNED, triage_breaches=1)])
    assert report["total"]["breached"] == 0 and report["total"]["breaches"] == 0
    assert report["total"]["triage_breached"] == 2 and report["total"]["triage_breaches"] == 2
    assert report["tier"]["unclassified"]["triage_breached"] == 1
    assert report["channel"]["sp4n_lapor"]["triage_breaches"] == 1
